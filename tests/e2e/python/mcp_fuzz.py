"""Property-based robustness test of PromptDB's MCP endpoint, against the real binary.

    python mcp_fuzz.py BIN [--examples N] [--seed N] [--allow KIND]... [--log FILE]

Starts `BIN serve` on a free loopback port with a fresh data directory, opens a 2025-11-25
session, reads tools/list and builds Hypothesis strategies from every tool's own input schema:
schema-shaped arguments, and mutations of them (wrong JSON types, missing required fields,
unknown fields, strings and arrays around and above the limits, deep nesting, null, non-object
arguments). Alongside: malformed JSON-RPC (invalid JSON, bad envelopes, odd ids, batches,
unknown methods, notifications, params of the wrong type, client responses), bodies just over the
4 MiB limit, wrong content types and Accept headers, missing or unknown session ids, wrong
protocol versions, bad credentials — in both protocol eras (2025-11-25 sessions and stateless
2026-07-28).

The property, for every case: an answer within the timeout, an HTTP status below 500 (413 for a
body over the limit), every JSON-RPC message well formed (a result, or an error with an integer
code), a well-formed request answered with its own id, and afterwards GET /health and tools/list
(both eras) still answer and the process still runs. At the end the server's log must hold no
panic. A last check sends concurrent requests sharing one JSON-RPC id in the session: each
must still be answered within the timeout.

Runs derandomized (or with --seed) with a bounded number of examples, 30-45 s with the
default 1000 against a debug build; prints a table of outcomes, `N cases, M failures`, and exits
non-zero on failure after shrinking each kind of failure to a minimal example. `--allow KIND`
reports a known kind of failure without failing the run; `--log FILE` lists every failing case.
"""

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

import httpx
from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings
from hypothesis import strategies as st

MAX_BODY = 4 * 1024 * 1024  # MAX_BODY_BYTES in promptdb-http/src/lib.rs
TIMEOUT = 5.0  # seconds for any one request, body included
LEGACY = "2025-11-25"
MODERN = "2026-07-28"
ACCEPT = "application/json, text/event-stream"
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "mcp-fuzz", "version": "0.1.0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}
# Prompts created before fuzzing; nothing deletes them.
SEEDED = ["fuzz/seed", "fuzz-chat", "fuzz-amp", "fuzz-big", "fuzz-inc"]
KNOWN_METHODS = [
    "initialize", "ping", "tools/list", "tools/call", "prompts/list", "prompts/get",
    "resources/list", "resources/read", "resources/templates/list", "resources/subscribe",
    "resources/unsubscribe", "logging/setLevel", "completion/complete", "server/discover",
    "tasks/get", "tasks/list", "tasks/cancel", "tasks/result", "subscriptions/listen",
]
NOTIFICATIONS = [
    "notifications/initialized", "notifications/cancelled", "notifications/progress",
    "notifications/roots/list_changed", "notifications/message",
]


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    def __init__(self, binary):
        self.dir = tempfile.TemporaryDirectory(prefix="promptdb-fuzz-")
        env = {k: v for k, v in os.environ.items()
               if k not in ("PROMPTDB_URL", "PROMPTDB_API_KEY", "PROMPTDB_DATABASE_URL",
                            "PROMPTDB_AUTH_MODE", "PROMPTDB_DATA_DIR", "PROMPTDB_CONFIG")}
        # The fuzzer sends a few hundred requests a second as one user: the per-user rate limit
        # would turn the liveness checks into 429s.
        env.update(RUST_LOG="info", PROMPTDB_RATE_LIMIT="off")
        self.proc = subprocess.Popen(
            [binary, "--data-dir", self.dir.name, "serve", "--bind", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.log = []
        self._key = None
        self._ready = threading.Event()
        threading.Thread(target=self._stderr, daemon=True).start()
        self.url = None
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").strip()
            if line.startswith("listening on "):
                self.url = line[len("listening on "):]
                break
        if self.url is None:
            self.proc.wait()
            sys.exit("promptdb serve exited before listening:\n" + "\n".join(self.log))
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        if not self._ready.wait(10) or not self._key:
            sys.exit("no API key printed:\n" + "\n".join(self.log))
        self.key = self._key

    def _drain_stdout(self):
        for _ in self.proc.stdout:
            pass

    def _stderr(self):
        for raw in self.proc.stderr:
            line = re.sub(r"\x1b\[[0-9;]*m", "", raw.decode(errors="replace").rstrip("\n"))
            self.log.append(line)
            s = line.strip()
            if s.startswith("pdb_"):
                self._key = re.match(r"pdb_[A-Za-z0-9_]+", s).group(0)
                self._ready.set()
            elif "PromptDB listening" in line:
                self._ready.set()

    def panics(self):
        return [line for line in self.log if "panicked" in line]

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.dir.cleanup()


# ---------------------------------------------------------------------------------------------
# HTTP with a hard deadline


class Raw:
    """JSON text placed verbatim in a body (deep nesting, overflowing numbers, duplicate keys)."""

    def __init__(self, text, label=None, parses=True):
        self.text = text
        # Whether serde_json takes it (nesting within its limit of 128, finite numbers). A body
        # holding one that does not may get a plain HTTP 4xx instead of a JSON-RPC answer.
        self.parses = parses
        self.label = label or (text if len(text) <= 40 else f"{text[:20]}…({len(text)} chars)")

    def __repr__(self):
        return f"Raw({self.label})"


def dumps(value):
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dumps(v)
                              for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def short(value, limit=120):
    """A repr that stays readable for multi-megabyte values."""
    if isinstance(value, str):
        if len(value) > limit:
            head = value[:12]
            if head and head == head[0] * len(head) and value == head[0] * len(value):
                return f"{head[0]!r}*{len(value)}"
            if len(set(value[:limit])) <= 5 and len(value) > 4 * limit:
                return f"{value[:24]!r}…({len(value)} chars)"
            return f"{value[:limit]!r}…({len(value)} chars)"
        return repr(value)
    if isinstance(value, (bytes, bytearray)):
        if len(value) > limit:
            return f"{bytes(value[:limit])!r}…({len(value)} bytes)"
        return repr(bytes(value))
    if isinstance(value, dict):
        items = list(value.items())
        body = ", ".join(f"{short(k, 40)}: {short(v, limit)}" for k, v in items[:8])
        return "{" + body + (f", …{len(items) - 8} more" if len(items) > 8 else "") + "}"
    if isinstance(value, list):
        if len(value) > 6 and all(v == value[0] for v in value):
            return f"[{short(value[0], limit)}]*{len(value)}"
        body = ", ".join(short(v, limit) for v in value[:6])
        return "[" + body + (f", …{len(value) - 6} more" if len(value) > 6 else "") + "]"
    return repr(value)


class Reply:
    def __init__(self):
        self.status = None
        self.headers = {}
        self.body = b""
        self.messages = []  # JSON-RPC messages (JSON body or SSE data events)
        self.problem = None  # transport-level failure: timeout, reset, unparsable answer
        self.elapsed = 0.0

    @property
    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def __repr__(self):
        text = self.body[:600].decode(errors="replace")
        return (f"HTTP {self.status} {self.content_type or '-'} in {self.elapsed:.2f}s"
                f"{' ' + self.problem if self.problem else ''}: {text!r}")


class Http:
    def __init__(self, base):
        self.base = base
        self.client = httpx.Client(timeout=httpx.Timeout(TIMEOUT), follow_redirects=False)
        # Connections the server closed after an answer without saying so (no
        # `Connection: close`), found by the next request on them.
        self.stale = Counter()

    def send(self, method, path, headers, body=None, after=None):
        """`after`: the case just sent; a request failing on a connection that case left closed
        is retried once on a new connection (and counted in `stale`)."""
        reply = self._send(method, path, headers, body)
        if after is not None and reply.problem and "RemoteProtocolError" in reply.problem:
            self.stale[after.family.split(":")[0]] += 1
            self.client.close()
            self.client = httpx.Client(timeout=httpx.Timeout(TIMEOUT), follow_redirects=False)
            reply = self._send(method, path, headers, body)
        return reply

    def _send(self, method, path, headers, body=None):
        reply = Reply()
        start = time.monotonic()
        request = self.client.build_request(method, self.base + path, content=body)
        # Exactly the headers given: no library defaults (Accept: */*, Content-Type).
        for name in list(request.headers.keys()):
            if name.lower() not in ("host", "content-length", "transfer-encoding"):
                del request.headers[name]
        for name, value in headers.items():
            request.headers[name] = value
        try:
            response = self.client.send(request, stream=True)
            try:
                reply.status = response.status_code
                reply.headers = {k.lower(): v for k, v in response.headers.items()}
                chunks = []
                for chunk in response.iter_raw():
                    chunks.append(chunk)
                    if time.monotonic() - start > TIMEOUT:
                        reply.problem = f"no end of response within {TIMEOUT}s"
                        break
                reply.body = b"".join(chunks)
            finally:
                response.close()
        except httpx.TimeoutException as e:
            reply.problem = f"timeout ({type(e).__name__})"
        except httpx.HTTPError as e:
            reply.problem = f"transport error: {type(e).__name__}: {e}"
        reply.elapsed = time.monotonic() - start
        if reply.problem is None and reply.elapsed > TIMEOUT:
            reply.problem = f"answered after {reply.elapsed:.1f}s"
        if reply.status is not None and reply.problem is None:
            parse_messages(reply)
        return reply


def parse_messages(reply):
    if reply.content_type == "application/json" and reply.body:
        try:
            value = json.loads(reply.body)
        except ValueError:
            reply.problem = "content-type application/json but the body is not JSON"
            return
        reply.messages = value if isinstance(value, list) else [value]
    elif reply.content_type == "text/event-stream":
        # SSE lines end with CRLF, LF or CR only (str.splitlines would also split at U+0085,
        # U+2028, ... which JSON strings may hold raw).
        for event in re.split(r"(?:\r\n|\r|\n){2}", reply.body.decode(errors="replace")):
            data = "\n".join(line[5:].removeprefix(" ") for line in re.split(r"\r\n|\r|\n", event)
                             if line.startswith("data:"))
            if not data.strip():
                continue  # priming event
            try:
                reply.messages.append(json.loads(data))
            except ValueError:
                reply.problem = f"SSE data that is not JSON: {data[:200]!r}"
                return


# ---------------------------------------------------------------------------------------------
# Cases


class Case:
    """One HTTP request. `body` is a JSON value (dumped with `dumps`) or bytes (sent as is)."""

    def __init__(self, family, era, body, *, http_method="POST", headers=None, wellformed=False,
                 notification=False, note=""):
        self.family = family
        self.era = era  # "legacy" (the session), "modern" (stateless) or "none" (bare)
        self.body = body
        self.http_method = http_method
        self.headers = headers or {}  # name -> value, or None to leave that header out
        # A well-formed request with the right headers: it must be answered with its own id.
        self.wellformed = wellformed
        self.notification = notification
        self.note = note
        self._bytes = None

    def body_bytes(self):
        if self._bytes is None:
            if self.body is None:
                self._bytes = b""
            elif isinstance(self.body, (bytes, bytearray)):
                self._bytes = bytes(self.body)
            else:
                self._bytes = dumps(self.body).encode("utf-8", "surrogatepass")
        return self._bytes

    def __repr__(self):
        parts = [f"{self.family} [{self.era}]", f"{self.http_method} /mcp"]
        if self.headers:
            parts.append("headers " + short(self.headers, 80))
        size = len(self.body_bytes())
        parts.append(f"body ({size} bytes) " + short(self.body, 160))
        if self.note:
            parts.append(self.note)
        return "Case(" + ", ".join(parts) + ")"


def all_parse(value):
    if isinstance(value, Raw):
        return value.parses
    if isinstance(value, dict):
        return all(all_parse(v) for v in value.values())
    if isinstance(value, list):
        return all(all_parse(v) for v in value)
    return True


def request_id(body):
    if isinstance(body, dict) and "method" in body and "id" in body:
        return body["id"]
    return None


# What an HTTP header value can carry as is (no surrounding whitespace, visible ASCII).
HEADER_SAFE = re.compile(r"\A[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?\Z")


def mcp_name(body):
    if not isinstance(body, dict) or not isinstance(body.get("params"), dict):
        return None
    method = body.get("method")
    key = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}.get(
        method if isinstance(method, str) else "")
    value = body["params"].get(key) if key else None
    if not isinstance(value, str):
        return None
    if HEADER_SAFE.match(value):
        return value
    return "=?base64?" + base64.b64encode(value.encode("utf-8", "surrogatepass")).decode() + "?="


def with_meta(body):
    """`body` as a 2026-07-28 request: per-request protocol metadata in params._meta."""
    if isinstance(body, dict) and isinstance(body.get("method"), str) and "id" in body:
        params = body.get("params", {})
        if isinstance(params, dict):
            params = dict(params)
            meta = params.get("_meta")
            params["_meta"] = {**MODERN_META, **meta} if isinstance(meta, dict) else MODERN_META
            body = {**body, "params": params}
    return body


# ---------------------------------------------------------------------------------------------
# Strategies: JSON values


leaf = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
        | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=16))
json_any = st.recursive(
    leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=10)
json_object = st.dictionaries(st.text(max_size=8), json_any, max_size=4)
odd_strings = st.sampled_from([
    "", " ", "\u0000", "{{x}}", "{{", "}}", "{{> fuzz-big}}", "{{> fuzz-inc}}",
    "{{#each x}}", "\\{{x}}", "#tag", "a/b/c/d/e/f/g", "../../etc/passwd", "🙂", "e\u0301",
    "\u202e", "null", "production", "latest", "fuzz/seed", "FUZZ/SEED", "fuzz/seed/",
    "%00", "a" * 129, "\r\n", "' OR 1=1 --", "*", "%",
])
text = st.text(max_size=30) | odd_strings
# The JSON type names a value has.
TYPES = ["null", "boolean", "integer", "number", "string", "array", "object"]
by_type = {
    "null": st.none(),
    "boolean": st.booleans(),
    "integer": st.sampled_from([-1, 0, 1, 2**31, 2**32, 2**53 + 1, 2**63, 2**64, -2**63 - 1])
    | st.integers(-2**70, 2**70),
    "number": st.sampled_from([0.5, -0.0, 1e308, -1.5, 5e-324])
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    "string": text,
    "array": st.lists(json_any, max_size=3),
    "object": json_object,
}
huge_sizes = [501, 1001, 2001, 10_001, 16 * 1024 + 1, 64 * 1024 + 1, 128 * 1024,
              128 * 1024 + 1, 1024 * 1024 + 1, 3 * 1024 * 1024, MAX_BODY - 4096, MAX_BODY + 1]


@st.composite
def huge_string(draw):
    n = draw(st.sampled_from(huge_sizes))
    unit = draw(st.sampled_from(["a", "é", "🙂", "\u0000", "{{v}}", "\\", "#t "]))
    return (unit * (n // len(unit.encode()) + 1))[: max(1, n // len(unit.encode()))]


@st.composite
def deep_value(draw):
    depth = draw(st.sampled_from([16, 17, 64, 127, 128, 129, 200, 1000, 100_000, 1_000_000]))
    kind = draw(st.sampled_from(["array", "object", "mixed"]))
    parses = depth <= 64  # the envelope around it adds a few levels
    if kind == "array":
        return Raw("[" * depth + "]" * depth, f"[]^{depth}", parses)
    if kind == "object":
        return Raw('{"a":' * depth + "1" + "}" * depth, f'{{"a":}}^{depth}', parses)
    return Raw('[{"a":' * (depth // 2) + "null" + "}]" * (depth // 2), f'[{{"a":}}]^{depth // 2}',
               parses)


weird_numbers = st.sampled_from([
    Raw("1e999", parses=False), Raw("-1e999", parses=False),
    Raw("1" + "0" * 400, "10^400", parses=False), Raw("-0"), Raw("1.0"),
    Raw("1E2"), Raw("0.0000001"), Raw("4294967296"), Raw("18446744073709551616"),
    Raw("-9223372036854775809"),
])


def schema_types(schema):
    if not isinstance(schema, dict):
        return None
    t = schema.get("type")
    if isinstance(t, str):
        return {t}
    if isinstance(t, list):
        return set(t)
    if "const" in schema:
        return {json_type(schema["const"])}
    for key in ("oneOf", "anyOf"):
        if key in schema:
            types = set()
            for sub in schema[key]:
                sub_types = schema_types(sub)
                if sub_types is None:
                    return None
                types |= sub_types
            return types
    if "properties" in schema:
        return {"object"}
    return None


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# ---------------------------------------------------------------------------------------------
# Strategies: tool arguments from input schemas


def slug_strategy(tool):
    made = st.sampled_from(["fuzz-tmp", "fuzz-tmp-2", "tmp/one", "does-not-exist"])
    if tool == "delete_prompt":  # keep the seeded prompts: later cases use them
        return made | st.text(max_size=20).filter(lambda s: s not in SEEDED)
    return st.sampled_from(SEEDED) | made | text


def valid_for(schema, name="", tool=""):
    """Values the schema accepts (within Rust's u32 where the schema gives no maximum)."""
    if not isinstance(schema, dict) or schema is True:
        return json_any
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return st.one_of([valid_for(s, name, tool) for s in schema[key]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    types = schema_types(schema)
    if not types:
        return json_any
    return st.one_of([valid_of_type(t, schema, name, tool) for t in sorted(types)])


def valid_of_type(t, schema, name, tool):
    if t == "string":
        if name == "slug":
            return slug_strategy(tool)
        if name == "label":
            return st.sampled_from(["latest", "staging", "production", "beta", "x"]) | text
        if name in ("content",):
            return text | st.sampled_from(["Hello {{name}}", "{{> fuzz/seed}}", "{{v}}" * 100])
        return text
    if t == "integer":
        lo = schema.get("minimum", -2**31)
        hi = schema.get("maximum", 2**32 - 1)
        return (st.integers(lo, min(hi, lo + 5)) | st.integers(lo, min(hi, 200))
                | st.integers(lo, hi))
    if t == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False,
                         allow_infinity=False)
    if t == "boolean":
        return st.booleans()
    if t == "null":
        return st.none()
    if t == "array":
        cap = schema.get("maxItems", 8)
        items = valid_for(schema.get("items", True), name, tool)
        return (st.lists(items, max_size=min(cap, 3))
                | st.lists(items, min_size=cap, max_size=cap) if cap <= 100
                else st.lists(items, max_size=3))
    if t == "object":
        return valid_object(schema, name, tool)
    return json_any


def valid_object(schema, name, tool):
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = {k: valid_for(v, k, tool) for k, v in props.items() if k in required}
    optional = {k: valid_for(v, k, tool) for k, v in props.items() if k not in required}
    base = st.fixed_dictionaries(fixed, optional=optional)
    extra = schema.get("additionalProperties", True)
    cap = min(schema.get("maxProperties", 4), 4)
    if name == "preferences":
        known = st.fixed_dictionaries({}, optional={
            "theme": st.sampled_from(["system", "light", "dark", "purple", None, 1]),
            "default_limit": st.integers(-5, 200) | st.none() | st.just("10")})
        return st.tuples(known, st.dictionaries(text, json_any, max_size=2)).map(
            lambda kv: {**kv[1], **kv[0]})
    if extra is False or props:
        return base
    values = json_any if extra is True else valid_for(extra, "", tool)
    keys = st.sampled_from(["v", "code", "language", "name", "temperature"]) | text
    return st.dictionaries(keys, values, max_size=cap)


@st.composite
def mutated(draw, schema, value, tool, depth=0):
    """`value` (valid for `schema`) with one mutation at some node of it."""
    children = []
    if isinstance(value, dict) and isinstance(schema, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k in value:
            sub = props.get(k, extra if isinstance(extra, dict) else True)
            children.append((k, sub))
    elif isinstance(value, list) and isinstance(schema, dict) and value:
        children = [(i, schema.get("items", True)) for i in range(len(value))]
    if children and depth < 6 and draw(st.integers(0, 2)) > 0:
        key, sub = draw(st.sampled_from(children))
        copy = dict(value) if isinstance(value, dict) else list(value)
        copy[key] = draw(mutated(sub, value[key], tool, depth + 1))
        return copy
    return draw(mutate_here(schema, value, tool, depth))


@st.composite
def mutate_here(draw, schema, value, tool, depth):
    types = schema_types(schema) or set()
    options = ["null", "deep", "number"]
    wrong = [t for t in TYPES if t not in types and not (t == "integer" and "number" in types)]
    if types and wrong:
        options += ["wrong_type"] * 3
    if "string" in types:
        options += ["huge_string", "bad_enum" if ("oneOf" in schema or "const" in schema)
                    else "odd_string"]
    if "array" in types:
        options += ["huge_array", "array_of_wrong"]
    if "object" in types:
        options += ["drop_required", "extra_property", "many_properties"]
    if "integer" in types:
        options += ["weird_number"]
    kind = draw(st.sampled_from(options))
    if kind == "null":
        return None
    if kind == "deep":
        return draw(deep_value())
    if kind == "number":
        return draw(by_type["integer"] | by_type["number"])
    if kind == "wrong_type":
        return draw(by_type[draw(st.sampled_from(wrong))])
    if kind == "huge_string":
        return draw(huge_string())
    if kind in ("bad_enum", "odd_string"):
        return draw(text)
    if kind == "huge_array":
        n = draw(st.sampled_from([schema.get("maxItems", 100), schema.get("maxItems", 100) + 1,
                                  1000, 100_000]))
        item = draw(valid_for(schema.get("items", True), "", tool))
        return [item] * n
    if kind == "array_of_wrong":
        return draw(st.lists(json_any, min_size=1, max_size=4))
    if kind == "weird_number":
        return draw(weird_numbers)
    obj = dict(value) if isinstance(value, dict) else {}
    if kind == "drop_required":
        required = [k for k in schema.get("required", []) if k in obj]
        if required:
            del obj[draw(st.sampled_from(required))]
        else:
            obj = {}
        return obj
    if kind == "extra_property":
        key = draw(st.sampled_from(["extra", "__proto__", "_meta", "Slug", "slug "]) | text)
        obj[key] = draw(json_any)
        return obj
    # many_properties
    n = draw(st.sampled_from([schema.get("maxProperties", 64), schema.get("maxProperties", 64) + 1,
                              5000, 100_000]))
    for i in range(n):
        obj[f"k{i}"] = "v"
    return obj


def tool_cases(tools):
    strategies = []
    for tool in tools:
        name, schema = tool["name"], tool.get("inputSchema", {})
        valid = valid_for(schema, "", name)

        def call(args, name=name):
            params = {"name": name}
            if args is not _ABSENT:
                params["arguments"] = args
            return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}

        strategies.append(st.builds(
            lambda era, args, i, name=name, call=call: make(
                f"tool-valid:{name}", era, dict(call(args), id=i), wellformed=True),
            eras, valid, ids))
        strategies.append(valid.flatmap(lambda v, schema=schema, name=name: mutated(
            schema, v, name)).flatmap(
            lambda args, name=name, call=call: st.builds(
                lambda era, i: make(f"tool-mutated:{name}", era, dict(call(args), id=i),
                                    wellformed=True),
                eras, ids)))
        # arguments that are no object at all, or absent
        strategies.append(st.builds(
            lambda era, args, call=call, name=name: make(
                f"tool-args-not-object:{name}", era, call(args), wellformed=True),
            eras, st.none() | st.just(_ABSENT) | st.lists(json_any, max_size=3) | leaf
            | st.just([{}])))
    # unknown or ill-typed tool names
    strategies.append(st.builds(
        lambda era, name, args: make("tool-unknown-name", era, {
            "jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": name, "arguments": args}}, wellformed=True),
        eras, text | st.sampled_from(["list_prompts ", "LIST_PROMPTS", "delete_account"])
        | leaf | st.lists(text, max_size=2) | huge_string(), json_object))
    return strategies


class _Absent:
    def __repr__(self):
        return "<absent>"


_ABSENT = _Absent()
eras = st.sampled_from(["legacy", "modern"])
ids = st.integers(1, 10**6) | st.text(max_size=12)


def make(family, era, body, **kwargs):
    if era == "modern":
        body = with_meta(body)
    return Case(family, era, body, **kwargs)


# ---------------------------------------------------------------------------------------------
# Strategies: malformed JSON-RPC and HTTP


def simple_request(method="tools/list", params=_ABSENT, rid=7):
    body = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not _ABSENT:
        body["params"] = params
    return body


good_requests = st.sampled_from([
    simple_request(), simple_request("ping"), simple_request("prompts/list"),
    simple_request("resources/list"),
    simple_request("tools/call", {"name": "health_check", "arguments": {}}),
    simple_request("prompts/get", {"name": "fuzz/seed", "arguments": {"who": "x"}}),
    simple_request("resources/read", {"uri": "prompt://fuzz/seed"}),
])


@st.composite
def invalid_json(draw):
    good = json.dumps(draw(good_requests)).encode()
    return draw(st.one_of(
        st.binary(max_size=64),
        st.integers(0, len(good) - 1).map(lambda k: good[:k]),
        st.sampled_from([
            b"", b"{", b"}", b"NaN", b"Infinity", b"undefined", b"{'jsonrpc': '2.0'}",
            b'{"jsonrpc":"2.0","id":1,"method":"tools/list",}',
            b'{"jsonrpc":"2.0","id":1,"method":"tools/list"} trailing',
            b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}{"jsonrpc":"2.0","id":2}',
            b'\xef\xbb\xbf{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
            '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'.encode("utf-16"),
            b'{"jsonrpc":"2.0","id":1,"method":"tools/li\xffst"}',
            b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_prompt",'
            b'"arguments":{"slug":"\\ud800"}}}',
            b'{"jsonrpc":"2.0","id":1,"method":"tools/list","id":2}',
            b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_prompt",'
            b'"arguments":{"slug":"fuzz/seed","slug":5}}}',
            b"\x00" * 100,
        ]),
    ))


@st.composite
def bad_envelope(draw):
    body = dict(draw(good_requests))
    for field, bad in [
        ("jsonrpc", st.sampled_from(["1.0", "2", "2.0 ", 2.0, 2, None, "", _ABSENT])),
        ("id", st.sampled_from([None, 1.5, True, {}, [], "", "x" * 10_000, 2**64, -1, 2**53 + 1,
                                -2**63 - 1, 0, _ABSENT]) | leaf),
        ("method", st.sampled_from([None, 1, [], {}, "", _ABSENT]) | text),
        ("params", st.sampled_from([None, [], "x", 1, True, {}, [1, 2]])),
    ]:
        if draw(st.booleans()):
            value = draw(bad)
            if value is _ABSENT:
                body.pop(field, None)
            else:
                body[field] = value
    if draw(st.booleans()):
        body[draw(st.sampled_from(["result", "error", "extra", "ID", "Method"]))] = draw(json_any)
    return body


def protocol_cases():
    cases = []
    cases.append(st.builds(lambda era, b: Case("rpc-invalid-json", era, b), eras, invalid_json()))
    cases.append(st.builds(lambda era, b: Case("rpc-not-an-object", era, b), eras,
                           json_any.filter(lambda v: not isinstance(v, dict))))
    cases.append(st.builds(lambda era, b: make("rpc-bad-envelope", era, b), eras,
                           bad_envelope()))
    cases.append(st.builds(lambda era, m, i, p: make("rpc-unknown-method", era,
                                                     simple_request(m, p, i), wellformed=True),
                           eras,
                           st.sampled_from(["tools/unknown", "rpc.discover", "TOOLS/LIST",
                                            "tools/list ", "prompts/delete", "admin/shutdown",
                                            "notifications/foo", "$/cancelRequest",
                                            "sampling/createMessage", "elicitation/create",
                                            "roots/list"])
                           | st.text(max_size=20).filter(lambda m: m not in KNOWN_METHODS),
                           ids, st.just(_ABSENT) | json_object))
    cases.append(st.builds(lambda era, m, p: make("rpc-notification", era, {
        "jsonrpc": "2.0", "method": m, **({} if p is _ABSENT else {"params": p})},
        notification=True),
        eras, st.sampled_from(NOTIFICATIONS) | text,
        st.just(_ABSENT) | json_object | st.fixed_dictionaries(
            {"requestId": ids | json_any, "reason": text})
        | st.fixed_dictionaries({"progressToken": ids, "progress": json_any})))
    cases.append(st.builds(lambda era, m, p, i: make("rpc-known-method-odd-params", era,
                                                     simple_request(m, p, i)),
                           eras, st.sampled_from(KNOWN_METHODS),
                           st.none() | st.lists(json_any, max_size=3) | leaf | json_object
                           | st.fixed_dictionaries({}, optional={
                               "name": text | leaf, "uri": text | leaf,
                               "cursor": text | leaf | huge_string(),
                               "arguments": json_object | leaf, "level": text,
                               "ref": json_object, "argument": json_object,
                               "protocolVersion": text, "capabilities": json_any,
                               "clientInfo": json_any, "_meta": json_any,
                               "taskId": text | leaf}),
                           ids))
    cases.append(st.builds(lambda era, n, a, i: make("rpc-prompts-get", era, simple_request(
        "prompts/get", {"name": n, "arguments": a}, i), wellformed=True),
        eras, st.sampled_from(SEEDED) | text,
        st.dictionaries(st.sampled_from(["who", "v", "x"]) | text,
                        text | leaf | huge_string(), max_size=3), ids))
    cases.append(st.builds(lambda era, u, i: make("rpc-resources-read", era, simple_request(
        "resources/read", {"uri": u}, i), wellformed=True),
        eras, st.sampled_from(["prompt://fuzz/seed", "prompt://", "prompt://fuzz-big",
                               "prompt://does-not-exist", "prompt:///etc/passwd",
                               "ui://promptdb/library.html", "ui://", "file:///etc/passwd",
                               "http://127.0.0.1/", "prompt://" + "a/" * 500, "", " "])
        | text.map(lambda s: "prompt://" + s) | text, ids))
    cases.append(st.builds(lambda era, c, m, i: make("rpc-cursor", era, simple_request(
        m, {"cursor": c}, i), wellformed=True),
        eras, text | huge_string() | st.sampled_from(["AAAA", "eyJ9", "////", "=" * 8,
                                                      base64.b64encode(b'{"x":1}').decode()]),
        st.sampled_from(["tools/list", "prompts/list", "resources/list"]), ids))
    cases.append(st.builds(lambda era, msgs: make("rpc-batch", era, [with_meta(m) if era ==
                                                                      "modern" else m
                                                                      for m in msgs]),
                           eras, st.lists(good_requests | json_any, max_size=5)))
    cases.append(st.builds(lambda era, i, r: make("rpc-client-response", era, {
        "jsonrpc": "2.0", "id": i, **r}), eras, ids | st.none(),
        st.sampled_from([{"result": {}}, {"error": {"code": -32601, "message": "x"}},
                         {"error": "nope"}, {"result": None}])))
    cases.append(st.builds(lambda era, rid, pv: make("rpc-reinitialize", era, simple_request(
        "initialize", {"protocolVersion": pv, "capabilities": {},
                       "clientInfo": {"name": "fuzz", "version": "1"}}, rid)),
        eras, ids, st.sampled_from([LEGACY, MODERN, "2025-06-18", "2024-11-05", "1999-01-01",
                                    ""]) | text))
    return cases


@st.composite
def oversized(draw):
    """A tools/call whose body is just over (or just under) MAX_BODY."""
    era = draw(eras)
    target = MAX_BODY + draw(st.sampled_from([1, 2, 100, 4096, 1 << 20]))
    if draw(st.booleans()):
        target = MAX_BODY - draw(st.sampled_from([0, 1, 100]))
    body = make("oversized", era, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "save_prompts", "arguments": {"prompts": [{"name": "big", "content": ""}]}}})
    base = len(body.body_bytes())
    unit = draw(st.sampled_from(["a", "é"]))
    fill = (target - base) // len(unit.encode())
    content = unit * fill + "a" * ((target - base) - fill * len(unit.encode()))
    args = body.body["params"]["arguments"]
    args["prompts"][0]["content"] = content
    body._bytes = None
    body.note = f"target {target} bytes ({'over' if target > MAX_BODY else 'at/under'} the limit)"
    body.wellformed = target <= MAX_BODY
    return body


@st.composite
def header_case(draw):
    era = draw(eras)
    body = draw(good_requests)
    kind = draw(st.sampled_from([
        "no-auth", "bad-auth", "no-accept", "accept", "content-type", "session-id",
        "no-session", "protocol-version", "mcp-method", "mcp-name", "host", "big-header",
        "http-method", "mcp-param",
    ]))
    headers = {}
    method = "POST"
    if kind == "no-auth":
        headers["authorization"] = None
    elif kind == "bad-auth":
        headers["authorization"] = draw(st.sampled_from([
            "Bearer", "Bearer pdb_", "Bearer pdb_" + "A" * 40, "Basic Zm9vOmJhcg==",
            "bearer", "Bearer " + "x" * 10_000, "Bearer  pdb_x", "Token pdb_x"]))
    elif kind == "no-accept":
        headers["accept"] = None
    elif kind == "accept":
        headers["accept"] = draw(st.sampled_from([
            "application/json", "text/event-stream", "*/*", "text/html", "application/*",
            "application/json;q=0, text/event-stream", ",,,", "application/json, text/event-stream"
            + ", x" * 1000]))
    elif kind == "content-type":
        headers["content-type"] = draw(st.sampled_from([
            None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
            "application/json-seq", "application/json; charset=latin1", "APPLICATION/JSON",
            "application/jsonx", "", "application/json;;;", "text/event-stream"]))
    elif kind == "session-id":
        headers["mcp-session-id"] = draw(st.sampled_from([
            "", "0", "00000000-0000-0000-0000-000000000000", "../../", "x" * 8192])
            | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e), max_size=40))
        era = "legacy"
    elif kind == "no-session":
        headers["mcp-session-id"] = None
        era = "legacy"
    elif kind == "protocol-version":
        headers["mcp-protocol-version"] = draw(st.sampled_from([
            "", "2024-11-05", "2025-03-26", "2025-06-18", LEGACY, MODERN, "2099-01-01", "latest",
            "x" * 1000]) | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e),
                                   max_size=12))
        if draw(st.booleans()):
            headers["mcp-protocol-version"] = None
    elif kind == "mcp-method":
        headers["mcp-method"] = draw(st.sampled_from([
            "", "tools/call", "initialize", "ping", "TOOLS/LIST", "x" * 1000]))
    elif kind == "mcp-name":
        headers["mcp-name"] = draw(st.sampled_from([
            "", "health_check", "nope", "=?base64?!!!?=", "=?base64?aGVhbHRoX2NoZWNr?=",
            "=?base64??="]))
    elif kind == "mcp-param":
        headers[draw(st.sampled_from(["Mcp-Param-Slug", "Mcp-Param-", "Mcp-Param-x"]))] = draw(
            st.sampled_from(["", "fuzz/seed", "=?base64?!!?="]))
    elif kind == "host":
        headers["host"] = draw(st.sampled_from([
            "evil.example", "localhost:1", "127.0.0.1.nip.io", "", "[::1]", "LOCALHOST"]))
    elif kind == "big-header":
        headers["x-fuzz"] = "a" * draw(st.sampled_from([8 * 1024, 64 * 1024, 200 * 1024]))
    elif kind == "http-method":
        method = draw(st.sampled_from(["GET", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"]))
        if method in ("GET", "DELETE"):
            # never the live session: a DELETE would end it, a GET would open its stream
            headers["mcp-session-id"] = draw(st.sampled_from([None, "nope", ""]))
        body = draw(st.sampled_from([None, body]))
    case = make(f"http-{kind}", era, body, http_method=method, headers=headers)
    return case


def all_cases(tools):
    # Weighted groups (a flat one_of would weigh each of the many tool strategies like a whole
    # protocol family).
    groups = {"tools": st.one_of(tool_cases(tools)), "protocol": st.one_of(protocol_cases()),
              "http": header_case(), "oversized": oversized()}
    weights = ["tools"] * 9 + ["protocol"] * 7 + ["http"] * 3 + ["oversized"]
    return st.sampled_from(weights).flatmap(lambda g: groups[g])


# ---------------------------------------------------------------------------------------------
# The property


class Fuzzer:
    def __init__(self, server):
        self.server = server
        self.http = Http(server.url)
        self.session = None
        self.outcomes = Counter()
        self.slowest = (0.0, None)

    def base_headers(self, era, body):
        h = {"authorization": f"Bearer {self.server.key}", "accept": ACCEPT,
             "content-type": "application/json"}
        if era == "legacy":
            h["mcp-session-id"] = self.session
            h["mcp-protocol-version"] = LEGACY
        elif era == "modern":
            h["mcp-protocol-version"] = MODERN
            if isinstance(body, dict) and isinstance(body.get("method"), str) and HEADER_SAFE.match(
                    body["method"]):
                h["mcp-method"] = body["method"]
            name = mcp_name(body)
            if name is not None and len(name) <= 8192:  # no client sends megabytes of header
                h["mcp-name"] = name
        return h

    def send(self, case):
        headers = self.base_headers(case.era, case.body)
        for name, value in case.headers.items():
            headers.pop(name.lower(), None)
            if value is not None:
                headers[name.lower()] = value
        if case.body is None:
            headers.pop("content-type", None)
        data = case.body_bytes() if case.body is not None else None
        return self.http.send(case.http_method, "/mcp", headers, data)

    def rpc(self, era, method, params=None, rid=1):
        body = simple_request(method, _ABSENT if params is None else params, rid)
        return self.send(make("setup", era, body))

    def open_session(self):
        init = {"protocolVersion": LEGACY, "capabilities": {},
                "clientInfo": {"name": "mcp-fuzz", "version": "0.1.0"}}
        r = self.http.send("POST", "/mcp", {
            "authorization": f"Bearer {self.server.key}", "accept": ACCEPT,
            "content-type": "application/json"},
            json.dumps(simple_request("initialize", init, 0)).encode())
        self.session = r.headers.get("mcp-session-id")
        if r.status != 200 or not self.session:
            sys.exit(f"initialize failed: {r}")
        r = self.send(make("setup", "legacy", {"jsonrpc": "2.0",
                                                "method": "notifications/initialized"}))
        if r.status != 202:
            sys.exit(f"notifications/initialized: {r}")

    def tools(self):
        r = self.rpc("legacy", "tools/list")
        result = single_result(r)
        if result is None:
            sys.exit(f"tools/list failed: {r}")
        return result["tools"]

    def seed(self):
        prompts = [
            {"slug": "fuzz/seed", "name": "Seed", "content": "Hi {{who}}",
             "tags": ["fuzz"], "variables": [{"name": "who", "required": True}]},
            {"slug": "fuzz-chat", "name": "Chat", "kind": "chat", "messages": [
                {"role": "system", "content": "Be {{tone}}"}, {"role": "user", "content": "hi"}]},
            {"slug": "fuzz-amp", "name": "Amp", "content": "{{v}}" * 26_000},
            {"slug": "fuzz-big", "name": "Big", "content": "x" * (128 * 1024 - 16)},
            {"slug": "fuzz-inc", "name": "Inc", "content": "{{> fuzz-big}}" * 20},
        ]
        for p in prompts:
            r = self.rpc("modern", "tools/call", {"name": "save_prompts",
                                                  "arguments": {"prompts": [p]}})
            result = single_result(r)
            if result is None or result.get("isError"):
                sys.exit(f"seeding {p['slug']} failed: {r}")

    def check(self, case):
        """The failures of one case, as (kind, detail) pairs."""
        failures = []
        if self.server.proc.poll() is not None:
            return [("server-exited", f"exit code {self.server.proc.returncode}")]
        reply = self.send(case)
        size = len(case.body_bytes()) if case.body is not None else 0
        self.outcomes[outcome(case, reply)] += 1
        if reply.elapsed > self.slowest[0]:
            self.slowest = (reply.elapsed, case)
        if reply.problem:
            if "timeout" in reply.problem or "within" in reply.problem:
                kind = "hang"
            elif reply.problem.startswith("transport"):
                kind = "transport"
            else:
                kind = "unparsable-answer"
            failures.append((kind, repr(reply)))
        elif reply.status >= 500:
            failures.append((f"http-{reply.status}", repr(reply)))
        elif size > MAX_BODY and case.http_method == "POST" and reply.status != 413:
            failures.append(("oversized-not-413", repr(reply)))
        elif size <= MAX_BODY and reply.status == 413:
            failures.append(("413-under-limit", repr(reply)))
        else:
            failures += self.check_messages(case, reply)
        failures += self.liveness(case)
        return failures

    def check_messages(self, case, reply):
        failures = []
        for m in reply.messages:
            if reply.status >= 300 and not (isinstance(m, dict) and "jsonrpc" in m):
                continue  # an HTTP-level error (401, 406, ...) need not be JSON-RPC
            problem = message_problem(m)
            if problem:
                failures.append(("bad-jsonrpc-shape", f"{problem}: {short(m, 300)} in {reply!r}"))
        if failures:
            return failures
        rid = request_id(case.body)
        responses = [m for m in reply.messages if isinstance(m, dict) and "method" not in m]
        if case.family.startswith(("http-no-auth", "http-bad-auth")):
            if reply.status != 401 or not reply.headers.get("www-authenticate", "").startswith(
                    "Bearer"):
                failures.append(("bad-credential-not-401", repr(reply)))
        elif (case.wellformed and not case.headers and reply.status != 413
                and all_parse(case.body)):
            # The request is well formed and sent as a client would: its answer is a JSON-RPC
            # response with its own id (a result, or an error for a bad call).
            # 2026-07-28 maps some errors onto the HTTP status: -32601 is a 404, a malformed
            # request a 400.
            mine = [m for m in responses if m.get("id") == rid and type(m.get("id")) is type(rid)]
            if reply.status not in (200, 400, 404) or not mine:
                failures.append(("no-jsonrpc-answer", repr(reply)))
            elif case.body["method"] == "tools/call" and "result" in mine[0]:
                problem = tool_result_problem(mine[0]["result"])
                if problem:
                    failures.append(("bad-tool-result", f"{problem}: {reply!r}"))
        elif case.notification and not case.headers and reply.status not in (202, 400):
            failures.append(("notification-answered", repr(reply)))
        if rid is not None and responses and reply.status == 200:
            ids_ = [m.get("id") for m in responses]
            if rid not in ids_ and None not in ids_ and not isinstance(case.body, list):
                failures.append(("wrong-id", f"request id {rid!r}, answered {ids_!r}: {reply!r}"))
        return failures

    def concurrent_same_id(self, k, method="ping"):
        """`k` requests with one JSON-RPC id at once in the session: each must be answered (with
        a result or an error) within the timeout, and the server must stay up. Sequential cases
        cannot reach this: a session routes answers by request id."""
        body = simple_request(method, rid=4242)
        case = make(f"concurrent-same-id x{k}", "legacy", body)
        headers = self.base_headers("legacy", body)
        replies = [None] * k
        barrier = threading.Barrier(k)

        def one(i):
            http = Http(self.server.url)
            barrier.wait()
            replies[i] = http.send("POST", "/mcp", headers, case.body_bytes())
            http.client.close()

        threads = [threading.Thread(target=one, args=(i,)) for i in range(k)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT * 3)
        failures = []
        for i, r in enumerate(replies):
            if r is None or r.problem or r.status >= 500:
                failures.append(("hang-concurrent-same-id" if r is None or "timeout" in (
                    r.problem or "") else "concurrent-same-id", f"request {i + 1} of {k}: {r!r}"))
                break
        failures += self.liveness(case)
        return case, failures

    def liveness(self, case):
        failures = []
        r = self.http.send("GET", "/health", {}, after=case)
        if r.problem or r.status != 200:
            failures.append(("health-down", repr(r)))
        for era in ("legacy", "modern"):
            r = self.rpc(era, "tools/list", rid=99)
            result = single_result(r)
            if result is None or not result.get("tools"):
                failures.append((f"tools-list-down-{era}", repr(r)))
                if era == "legacy" and not r.problem and r.status and r.status < 500:
                    self.open_session()  # so that later cases still test something
        if self.server.proc.poll() is not None:
            failures.append(("server-exited", f"exit code {self.server.proc.returncode}"))
        return failures


def single_result(reply):
    if reply.problem or reply.status != 200:
        return None
    for m in reply.messages:
        if isinstance(m, dict) and isinstance(m.get("result"), dict):
            return m["result"]
    return None


def message_problem(m):
    if not isinstance(m, dict):
        return "not an object"
    if m.get("jsonrpc") != "2.0":
        return "jsonrpc is not \"2.0\""
    if "method" in m:  # a server request or notification on the stream
        return None if isinstance(m["method"], str) else "method is not a string"
    if ("result" in m) == ("error" in m):
        return "neither or both of result and error"
    if "result" in m:
        if m.get("id") is None:
            return "result with a null id"
        if not isinstance(m["result"], dict):
            return "result is not an object"
        return None
    # An error's id may be absent (MCP's schema makes it optional; JSON-RPC 2.0 wants null).
    if "id" in m and m["id"] is not None and type(m["id"]) not in (int, str):
        return "id is neither a string, an integer nor null"
    e = m["error"]
    if not isinstance(e, dict):
        return "error is not an object"
    if type(e.get("code")) is not int:
        return "error code is not an integer"
    if not isinstance(e.get("message"), str):
        return "error message is not a string"
    return None


def tool_result_problem(result):
    if not isinstance(result.get("content"), list):
        return "tools/call result without a content array"
    if "isError" in result and not isinstance(result["isError"], bool):
        return "isError is not a boolean"
    if "structuredContent" in result and not isinstance(result["structuredContent"], dict):
        return "structuredContent is not an object"
    return None


def outcome(case, reply):
    family = case.family.split(":")[0]
    if reply.problem:
        return (family, "problem")
    kinds = []
    for m in reply.messages:
        if isinstance(m, dict) and "error" in m:
            code = m["error"].get("code") if isinstance(m["error"], dict) else "?"
            kinds.append(f"rpc-error {code}")
        elif isinstance(m, dict) and isinstance(m.get("result"), dict):
            kinds.append("tool-error" if m["result"].get("isError") else "result")
    return (family, f"{reply.status} {'/'.join(kinds) or '-'}")


# ---------------------------------------------------------------------------------------------
# Running


def failure_type(kind):
    # One exception class per kind of failure: Hypothesis shrinks and reports each separately.
    cls = _FAILURE_TYPES.get(kind)
    if cls is None:
        cls = type("Failure_" + re.sub(r"\W", "_", kind), (AssertionError,), {})
        _FAILURE_TYPES[kind] = cls
    return cls


_FAILURE_TYPES = {}
FAILURE_LOG = None


def run(fuzzer, strategy, examples, seed_value, shrink):
    stats = {"cases": 0, "failed": 0, "kinds": Counter(), "first": {}, "last": {}}

    def body(case):
        stats["cases"] += 1
        failures = fuzzer.check(case)
        if not failures:
            return
        stats["failed"] += 1
        kind, detail = failures[0]
        for k, d in failures:
            if FAILURE_LOG:
                print(f"{k}: {case!r}\n    {d[:400]}", file=FAILURE_LOG, flush=True)
            stats["kinds"][k] += 1
            stats["first"].setdefault(k, (case, d))
            stats["last"][k] = (case, d)
        if fuzzer.server.proc.poll() is not None:
            raise SystemExit(f"the server exited after {case!r}: {detail}")
        if shrink:
            raise failure_type(kind)(f"{kind}: {detail}")

    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    test = settings(max_examples=examples, derandomize=seed_value is None, database=None,
                    deadline=None, phases=phases, suppress_health_check=list(HealthCheck),
                    report_multiple_bugs=True, print_blob=False)(given(strategy)(body))
    if seed_value is not None:
        test = hypothesis_seed(seed_value)(test)
    try:
        test()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - the failures are reported from `stats`
        if not shrink:
            raise
        stats["error"] = e
    return stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None,
                        help="a Hypothesis seed instead of the derandomized default")
    parser.add_argument("--no-shrink", action="store_true",
                        help="report failures without shrinking them")
    parser.add_argument("--log", help="write every failing case to this file")
    parser.add_argument("--server-log", help="write the server's log to this file")
    parser.add_argument("--allow", action="append", default=[], metavar="KIND",
                        help="report failures of this kind (as printed) without failing the run")
    args = parser.parse_args()
    global FAILURE_LOG
    if args.log:
        FAILURE_LOG = open(args.log, "w")  # noqa: SIM115 - open for the whole run

    started = time.monotonic()
    server = Server(args.binary)
    try:
        fuzzer = Fuzzer(server)
        fuzzer.open_session()
        fuzzer.seed()
        tools = fuzzer.tools()
        print(f"server {server.url}, session {fuzzer.session}, {len(tools)} tools: "
              + ", ".join(t["name"] for t in tools), flush=True)
        strategy = all_cases(tools)
        stats = run(fuzzer, strategy, args.examples, args.seed, shrink=False)
        generate_time = time.monotonic() - started

        # Concurrent requests sharing an id, a few rounds each (a hang costs TIMEOUT).
        for k in (2, 8):
            for _ in range(3):
                case, failed = fuzzer.concurrent_same_id(k)
                stats["cases"] += 1
                if failed:
                    stats["failed"] += 1
                    for kind, detail in failed:
                        stats["kinds"][kind] += 1
                        stats["first"].setdefault(kind, (case, detail))
                        if FAILURE_LOG:
                            print(f"{kind}: {case!r}\n    {detail[:400]}", file=FAILURE_LOG)
                    break

        print("outcomes (family, HTTP status and JSON-RPC outcome):")
        for (family, what), n in sorted(fuzzer.outcomes.items()):
            print(f"  {family:28} {what:32} {n}")
        if fuzzer.http.stale:
            print("connections the server closed after answering, without `Connection: close` "
                  "(the next request was retried on a new one), by case family: "
                  + ", ".join(f"{k} {n}" for k, n in sorted(fuzzer.http.stale.items())))
        slow, slow_case = fuzzer.slowest
        print(f"slowest answer {slow:.2f}s: {slow_case!r}"[:300])

        minimal = {}
        shrinkable = [k for k in stats["kinds"] if not k.startswith(("hang-concurrent",
                                                                     "concurrent"))]
        if shrinkable and not args.no_shrink:
            print(f"{stats['failed']} failing cases; shrinking…", flush=True)
            minimal = run(fuzzer, strategy, args.examples, args.seed, shrink=True)["last"]
        for kind, n in stats["kinds"].most_common():
            case, detail = minimal.get(kind) or stats["first"][kind]
            label = "minimal example" if kind in minimal else "example"
            print(f"\nFAILURE {kind} ({n} cases); {label}:\n  request: {case!r}\n"
                  f"  answer:  {detail[:1500]}")

        if args.server_log:
            with open(args.server_log, "w") as f:
                f.write("\n".join(server.log) + "\n")
        errors = Counter(re.sub(r"^\S+\s+", "", line)[:160] for line in server.log
                         if re.search(r"\bERROR\b", line))
        if errors:
            print(f"server ERROR log lines ({sum(errors.values())}):")
            for line, n in errors.most_common(10):
                print(f"  {n:5} {line}")
        panics = server.panics()
        if panics:
            print("\nFAILURE panic in the server log:\n  " + "\n  ".join(panics[:10]))
        if server.proc.poll() is not None:
            print(f"\nFAILURE the server exited ({server.proc.returncode})")

        elapsed = time.monotonic() - started
        failures = stats["failed"] + (1 if panics else 0)
        print(f"\n{stats['cases']} cases, {failures} failures "
              f"({generate_time:.1f}s generating, {elapsed:.1f}s in all)")
        blocking = [k for k in stats["kinds"] if k not in args.allow]
        if failures and not blocking and not panics:
            print("all failures are of allowed kinds: " + ", ".join(sorted(stats["kinds"])))
        sys.exit(1 if blocking or panics or server.proc.poll() is not None else 0)
    finally:
        server.stop()


if __name__ == "__main__":
    main()

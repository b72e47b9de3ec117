#!/usr/bin/env python3
"""Self-test of provider.mjs, mint.mjs, verify.mjs and flow.py (stdlib only).

    python3 tests/e2e/oidc/selftest.py          # uses `node` (or $NODE)

Starts the provider on a free port, a throw-away relying party (http.server,
in this process) that does the code exchange itself, and checks:
the provider-only flow (code -> JWT access token -> refresh), the RP flow,
client_secret_post/basic, resource indicators, PKCE enforcement, mint.mjs
variants against a strict verifier, and clean SIGTERM shutdown.
Ends with the line "N passed, N failed"; exit status 1 if any failed.
"""

import base64
import hashlib
import http.server
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = os.environ.get("NODE", "node")
CLIENT_ID, CLIENT_SECRET = "promptdb-test", "s3cr:et/with spaces"
RESULTS = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    RESULTS["passed" if cond else "failed"] += 1
    print(f"{'ok  ' if cond else 'FAIL'} {name}{'' if cond else f'  -- {detail}'}")


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE, timeout=60)
    return r.returncode, r.stdout, r.stderr


def flow(*extra):
    rc, out, err = run(sys.executable, "flow.py", *extra)
    try:
        return rc, json.loads(out)
    except ValueError:
        return rc, {"raw": out, "stderr": err}


def verify(iss, aud, tok):
    rc, out, _ = run(NODE, "verify.mjs", "--issuer", iss, "--aud", aud, tok)
    return rc == 0, json.loads(out) if out.strip() else {}


def mint(*extra):
    rc, out, err = run(NODE, "mint.mjs", *extra)
    assert rc == 0, err
    return out.strip()


class FakeRP(http.server.BaseHTTPRequestHandler):
    """Minimal confidential-client relying party: /auth/login, /auth/callback, /."""
    issuer = resource = None
    pending = {}

    def log_message(self, *a):
        pass

    def _cookies(self):
        out = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            out[k] = v
        return out

    def _send(self, code, headers=(), body=b""):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        me = f"http://127.0.0.1:{self.server.server_address[1]}"
        if u.path == "/auth/login":
            state, verifier = b64url(secrets.token_bytes(16)), b64url(secrets.token_bytes(32))
            self.pending[state] = verifier
            params = {
                "client_id": CLIENT_ID, "redirect_uri": f"{me}/auth/callback", "response_type": "code",
                "scope": "openid profile promptdb:read promptdb:write", "state": state,
                "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
                "code_challenge_method": "S256", "resource": self.resource,
            }
            self._send(302, [("Location", f"{self.issuer}/auth?{urllib.parse.urlencode(params)}"),
                             ("Set-Cookie", f"rp_state={state}; Path=/auth; HttpOnly; SameSite=Lax")])
        elif u.path == "/auth/callback":
            state = q.get("state")
            if state != self._cookies().get("rp_state") or state not in self.pending or q.get("iss") != self.issuer:
                return self._send(400, body=b"bad state/iss")
            body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": q["code"],
                                           "redirect_uri": f"{me}/auth/callback",
                                           "code_verifier": self.pending.pop(state)}).encode()
            cred = base64.b64encode(f"{urllib.parse.quote(CLIENT_ID, safe='')}:"
                                    f"{urllib.parse.quote(CLIENT_SECRET, safe='')}".encode()).decode()
            req = urllib.request.Request(f"{self.issuer}/token", data=body, headers={"Authorization": f"Basic {cred}"})
            tok = json.load(urllib.request.urlopen(req, timeout=10))
            FakeRP.last_tokens = tok
            self._send(303, [("Location", "/"),
                             ("Set-Cookie", "rp_state=; Path=/auth; Max-Age=0"),
                             ("Set-Cookie", f"rp_session={b64url(secrets.token_bytes(16))}; Path=/; HttpOnly; SameSite=Lax")])
        elif u.path == "/":
            ok = "rp_session" in self._cookies()
            self._send(200 if ok else 401, [("Content-Type", "text/plain")], b"hello" if ok else b"no session")
        else:
            self._send(404)


def main():
    tmp = tempfile.mkdtemp(prefix="oidc-selftest-")
    key_file = os.path.join(tmp, "key.json")
    rp = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeRP)
    rp_url = f"http://127.0.0.1:{rp.server_address[1]}"
    resource = rp_url  # the RP is also the protected resource here
    threading.Thread(target=rp.serve_forever, daemon=True).start()
    cb = "http://127.0.0.1:5009/callback"

    proc = subprocess.Popen(
        [NODE, "provider.mjs", "--port", "0", "--resource", resource, "--client-id", CLIENT_ID,
         "--client-secret", CLIENT_SECRET, "--redirect-uri", cb, "--redirect-uri", f"{rp_url}/auth/callback",
         "--access-ttl", "120", "--key-file", key_file],
        cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
        check("provider prints ready line", line.startswith("ready http://127.0.0.1:"), line)
        iss = line.split(" ", 1)[1]
        FakeRP.issuer, FakeRP.resource = iss, resource
        disc = json.load(urllib.request.urlopen(f"{iss}/.well-known/openid-configuration"))
        check("discovery issuer exact", disc["issuer"] == iss, disc["issuer"])
        check("discovery S256 only", disc["code_challenge_methods_supported"] == ["S256"])
        check("key file written with kid", json.load(open(key_file)).get("kid") ==
              json.load(urllib.request.urlopen(disc["jwks_uri"]))["keys"][0]["kid"])

        common = ["--issuer", iss, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
                  "--stop-at-redirect-uri", cb]
        for method in ("basic", "post"):
            rc, d = flow(*common, "--user", "alice", "--auth-method", method, "--exchange", "--refresh")
            ok = rc == 0 and d.get("token_status") == 200
            check(f"code flow + exchange ({method})", ok, json.dumps(d)[:500])
            if not ok:
                continue
            tr = d["token_response"]
            p = d["access_token_decoded"]["payload"]
            h = d["access_token_decoded"]["header"]
            check(f"[{method}] AT header RS256 at+jwt", h.get("alg") == "RS256" and h.get("typ") == "at+jwt", h)
            check(f"[{method}] AT claims", p["iss"] == iss and p["aud"] == resource and p["sub"] == "alice"
                  and p["scope"] == "promptdb:read promptdb:write" and p["nbf"] == p["iat"]
                  and p["exp"] - p["iat"] == 120 and p["client_id"] == CLIENT_ID, p)
            check(f"[{method}] state and iss returned", d["params"]["iss"] == iss and "state" in d["params"])
            check(f"[{method}] refresh token issued", bool(tr.get("refresh_token")))
            check(f"[{method}] refresh works", d.get("refresh_status") == 200
                  and d["refreshed_access_token_decoded"]["payload"]["aud"] == resource)
            ok, v = verify(iss, resource, tr["access_token"])
            check(f"[{method}] AT verifies against JWKS", ok, v)

        rc, d = flow(*common, "--user", "bob", "--resource", "http://127.0.0.1:5999", "--exchange")
        check("resource param selects aud", d.get("access_token_decoded", {}).get("payload", {}).get("aud")
              == "http://127.0.0.1:5999" and d["access_token_decoded"]["payload"]["sub"] == "bob", d)
        rc, d = flow(*common, "--token-resource", "http://127.0.0.1:5999", "--exchange")
        check("ungranted resource at token endpoint -> invalid_target",
              d.get("token_status") == 400 and d["token_response"].get("error") == "invalid_target", d)
        q = {"client_id": CLIENT_ID, "redirect_uri": cb, "response_type": "code", "scope": "openid", "state": "s"}
        rc, d = flow("--authorize-url", f"{iss}/auth?{urllib.parse.urlencode(q)}", "--stop-at-redirect-uri", cb)
        check("no PKCE -> error redirect", d.get("params", {}).get("error") == "invalid_request", d)
        v = "v" * 43
        q.update(code_challenge=b64url(hashlib.sha256(v.encode()).digest()), code_challenge_method="S256")
        rc, d = flow("--authorize-url", f"{iss}/auth?{urllib.parse.urlencode(q)}", "--stop-at-redirect-uri", cb,
                     "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--exchange", "--code-verifier", "w" * 43)
        check("wrong verifier -> invalid_grant", d.get("token_response", {}).get("error") == "invalid_grant", d)
        rc, d = flow(*common[:4], "--client-secret", "wrong", "--stop-at-redirect-uri", cb, "--exchange")
        check("wrong client secret -> 401 invalid_client", d.get("token_status") == 401, d)

        rc, d = flow("--authorize-url", f"{rp_url}/auth/login", "--user", "carol")
        check("RP flow ends 200 on RP", rc == 0 and d.get("status") == 200 and d.get("url") == f"{rp_url}/", d)
        check("RP flow reports rp_session cookie", "rp_session" in d.get("rp_cookies", {}), d.get("rp_cookies"))
        at = getattr(FakeRP, "last_tokens", {}).get("access_token", "")
        ok, v = verify(iss, resource, at)
        check("RP-obtained AT verifies, sub=carol", ok and v["payload"]["sub"] == "carol", v)

        def neg(name, tok, code):
            ok, v = verify(iss, resource, tok)
            check(f"mint {name} -> {code}", (not ok) and v.get("code") == code, v)

        base = ["--key-file", key_file, "--iss", iss, "--aud", resource]
        ok, v = verify(iss, resource, mint("--key", "provider", *base))
        check("mint provider verifies", ok, v)
        neg("other", mint("--key", "other", *base), "ERR_JWKS_NO_MATCHING_KEY")
        neg("other+provider kid", mint("--key", "other", "--kid-from-provider", *base), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED")
        neg("none", mint("--key", "none", *base), "ERR_JOSE_ALG_NOT_ALLOWED")
        neg("hmac-public", mint("--key", "hmac-public", *base), "ERR_JOSE_ALG_NOT_ALLOWED")
        neg("expired", mint("--key", "provider", *base, "--claims", '{"exp":"now-60","iat":"now-360","nbf":"now-360"}'),
            "ERR_JWT_EXPIRED")
        neg("wrong aud", mint("--key", "provider", *base[:4], "--aud", "http://127.0.0.1:1"), "ERR_JWT_CLAIM_VALIDATION_FAILED")
        neg("wrong iss", mint("--key", "provider", "--key-file", key_file, "--iss", "http://evil", "--aud", resource),
            "ERR_JWT_CLAIM_VALIDATION_FAILED")
        neg("nbf in future", mint("--key", "provider", *base, "--claims", '{"nbf":"now+600"}'),
            "ERR_JWT_CLAIM_VALIDATION_FAILED")
        neg("missing sub", mint("--key", "provider", *base, "--claims", '{"sub":null}'), "ERR_JWT_CLAIM_VALIDATION_FAILED")
    finally:
        t0 = time.monotonic()
        proc.terminate()
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = None
        check("SIGTERM -> exit 0 within 3s", rc == 0 and time.monotonic() - t0 < 3, (rc, time.monotonic() - t0))
        rp.shutdown()
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()

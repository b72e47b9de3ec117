"""PromptDB's MCP authorization, driven by the official Python MCP SDK (mcp==2.3.0) with bearer
access tokens from a real OpenID provider.

    python mcp_auth.py isolation URL ALICE_TOKEN BOB_TOKEN   # every tool, as two users
    python mcp_auth.py readonly  URL CREDENTIAL token|key    # reads work, writes get 403
    python mcp_auth.py rejected  URL TOKEN STATUS            # one bad credential: STATUS, no data

Exits non-zero with a message on the first failed check.
"""

import asyncio
import json
import sys

import httpx2
from mcp import ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client

SECRET = "zebra-launch-codes"


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


class session:
    """An initialized MCP session over streamable HTTP with `Authorization: Bearer <token>`."""

    def __init__(self, url, token):
        self.url, self.token = url, token

    async def __aenter__(self):
        self.http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        self.transport = streamable_http_client(self.url, http_client=self.http)
        r, w = await self.transport.__aenter__()
        self.session = ClientSession(r, w)
        await self.session.__aenter__()
        await self.session.initialize()
        return self.session

    async def __aexit__(self, *exc):
        await self.session.__aexit__(*exc)
        await self.transport.__aexit__(*exc)
        await self.http.aclose()


async def isolation(url, alice_token, bob_token):
    async with session(url, alice_token) as alice:
        who = (await alice.call_tool("test_auth", {})).structured_content
        r = await alice.call_tool("save_prompts", {"prompts": [{
            "slug": "alice-secret", "name": "Alice's plan", "description": "private",
            "content": f"The {SECRET} are {{{{code}}}}", "tags": ["alice-only"],
        }]})
        check(not r.is_error, f"alice saves: {text_of(r)}")
        r = await alice.call_tool("set_preferences", {"preferences": {"theme": "dark"}})
        check(not r.is_error, f"alice preferences: {text_of(r)}")

    async with session(url, bob_token) as bob:
        me = (await bob.call_tool("test_auth", {})).structured_content
        check(me["user_id"] != who["user_id"], f"two users, not one: {me} {who}")
        # Every tool, aimed at Alice's prompt: not found, never hers.
        for name, args in [
            ("get_prompt", {"slug": "alice-secret", "variables": {"code": "x"}}),
            ("update_prompt", {"slug": "alice-secret", "content": "hijacked"}),
            ("delete_prompt", {"slug": "alice-secret"}),
            ("track_prompt_use", {"slug": "alice-secret"}),
        ]:
            r = await bob.call_tool(name, args)
            check(r.is_error, f"{name}: bob reached alice's prompt: {text_of(r)}")
            check(SECRET not in text_of(r), f"{name} leaked: {text_of(r)}")
        for name, args in [
            ("list_prompts", {}),
            ("list_prompts", {"tags": ["alice-only"]}),
            ("search_prompts", {"query": "zebra"}),
            ("search_prompts", {"query": "#alice-only"}),
            ("list_tags", {}),
            ("open_prompt_library", {}),
            ("get_preferences", {}),
            ("health_check", {}),
        ]:
            r = await bob.call_tool(name, args)
            dump = text_of(r) + json.dumps(r.structured_content)
            check(SECRET not in dump and "alice-secret" not in dump and "alice-only" not in dump,
                  f"{name} {args} leaked: {dump}")
        r = await bob.call_tool("get_preferences", {})
        check(r.structured_content["preferences"].get("theme") != "dark", f"preferences leaked: {r}")
        # Bob's own prompt with the same slug is his alone.
        r = await bob.call_tool("save_prompts", {"prompts": [{"slug": "alice-secret", "name": "Mine", "content": "bob"}]})
        check(not r.is_error, f"bob can use the same slug: {text_of(r)}")
        # MCP prompts and resources too.
        # Bob's own prompt, and the built-in `harvest` prompt everyone has.
        listed = sorted(p.name for p in (await bob.list_prompts()).prompts)
        check(listed == ["alice-secret", "harvest"], f"prompts/list: {listed}")
        g = await bob.get_prompt("alice-secret", {})
        check(g.messages[0].content.text == "bob", f"prompts/get: {g}")
        contents = (await bob.read_resource("prompt://alice-secret")).contents
        check(contents[0].text == "bob", f"resources/read: {contents}")

    async with session(url, alice_token) as alice:
        r = await alice.call_tool("get_prompt", {"slug": "alice-secret", "variables": {"code": "42"}})
        check(r.structured_content["rendered"] == f"The {SECRET} are 42", f"alice's prompt intact: {r}")
        check(r.structured_content["prompt"]["version"] == 1, "never updated by bob")
        check(r.structured_content["prompt"]["usage_count"] == 0, "never used by bob")


async def readonly(url, token, kind):
    async with session(url, token) as s:
        me = (await s.call_tool("test_auth", {})).structured_content
        check(me["scopes"] == ["read"], f"read-only scopes: {me}")
        r = await s.call_tool("list_prompts", {})
        check(not r.is_error, f"reads work: {text_of(r)}")
        names = [t.name for t in (await s.list_tools()).tools]
        check("save_prompts" in names, "tools are listed either way")
    # A write is refused at the door with 403 and a scope challenge (RFC 6750 §3.1).
    async with httpx2.AsyncClient(timeout=30) as h:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "save_prompts", "arguments": {"prompts": [{"name": "x", "content": "y"}]}}}
        r = await h.post(url, json=body, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25"})
        check(r.status_code == 403, f"write with a read-only token: {r.status_code} {r.text}")
        if kind == "token":
            # An access token's holder can get a better one: say which scope (RFC 6750 §3.1).
            challenge = r.headers.get("www-authenticate", "")
            check('error="insufficient_scope"' in challenge and "promptdb:write" in challenge,
                  f"challenge: {challenge}")
            check("resource_metadata=" in challenge, f"challenge names the metadata: {challenge}")
        else:
            check(r.json()["error"]["code"] == "forbidden", f"read-only key: {r.text}")
    # Through the SDK the write fails too, and nothing was saved.
    async with session(url, token) as s:
        try:
            r = await s.call_tool("save_prompts", {"prompts": [{"slug": "ro-write", "name": "x", "content": "y"}]})
            check(r.is_error, f"read-only write went through: {r}")
        except MCPError:  # the SDK surfaces the HTTP 403 as a JSON-RPC error
            pass
    async with session(url, token) as s:
        r = await s.call_tool("get_prompt", {"slug": "ro-write"})
        check(r.is_error, "nothing was saved")


async def rejected(url, token, status):
    async with httpx2.AsyncClient(timeout=30) as h:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_prompts", "arguments": {}}}
        r = await h.post(url, json=body, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25"})
        check(r.status_code == int(status), f"expected {status}, got {r.status_code}: {r.text}")
        check(SECRET not in r.text and "alice-secret" not in r.text, f"leaked: {r.text}")
        check(r.headers.get("www-authenticate", "").startswith("Bearer "), f"challenge: {r.headers}")
    # The SDK gives up cleanly too: no session, no data.
    try:
        async with session(url, token) as s:
            r = await s.call_tool("list_prompts", {})
            check(False, f"a rejected token got a session: {r}")
    except AssertionError:
        raise
    except BaseException as e:  # noqa: BLE001 - any transport error is the expected outcome
        check(SECRET not in repr(e), f"leaked in the error: {e!r}")


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    runner = {"isolation": isolation, "readonly": readonly, "rejected": rejected}[mode]
    asyncio.run(runner(*args))
    print(f"ok: {mode}")


if __name__ == "__main__":
    main()

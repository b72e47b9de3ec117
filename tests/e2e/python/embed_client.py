"""The embedding example (examples/embed_mcp.rs) driven by the official Python MCP SDK.

    python embed_client.py URL

URL is the example's base URL; PromptDB's MCP router is mounted at URL/assistant/prompts behind
the example's own tokens (`ada-secret` may edit, `bob-read-only` may only read). Exits non-zero
with a message on the first failed check.
"""

import asyncio
import sys

import httpx2
import mcp.types as types
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def text_of(result):
    check(result.content and isinstance(result.content[0], types.TextContent), f"no text content: {result}")
    return result.content[0].text


async def session(url, token, body):
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as s:
                await s.initialize()
                return await body(s)


async def as_ada(s):
    names = {t.name for t in (await s.list_tools()).tools}
    check({"save_prompts", "get_prompt", "list_prompts"} <= names, f"tools: {names}")
    r = await s.call_tool("test_auth", {})
    check(not r.is_error and r.structured_content["display_name"] == "ada", f"test_auth: {r}")
    check("write" in r.structured_content["scopes"], f"ada may write: {r.structured_content}")
    r = await s.call_tool("save_prompts", {"prompts": [{
        "slug": "release-notes", "name": "Release notes",
        "content": "Write release notes for {{version}}.", "tags": ["app"],
    }]})
    check(not r.is_error, f"save_prompts: {text_of(r)}")
    r = await s.call_tool("get_prompt", {"slug": "release-notes", "variables": {"version": "2.0"}})
    check(r.structured_content["rendered"] == "Write release notes for 2.0.", f"get_prompt: {r}")
    prompts = (await s.list_prompts()).prompts
    check(any(p.name == "release-notes" for p in prompts), f"prompts/list: {prompts}")
    return r.structured_content["prompt"]["id"]


async def as_bob(s):
    r = await s.call_tool("test_auth", {})
    check(r.structured_content["display_name"] == "bob", f"bob is another user: {r}")
    check(r.structured_content["scopes"] == ["read"], f"bob reads only: {r.structured_content}")
    r = await s.call_tool("get_prompt", {"slug": "release-notes"})
    check(r.is_error and "release-notes" in text_of(r), f"bob cannot see ada's prompt: {r}")
    r = await s.call_tool("save_prompts", {"prompts": [{"name": "Mine", "content": "x"}]})
    check(r.is_error and "read-only" in text_of(r), f"bob cannot write: {r}")
    r = await s.call_tool("list_prompts", {})
    check(r.structured_content["prompts"] == [], f"bob's library is his own: {r.structured_content}")


async def main(base):
    mcp_url = f"{base}/assistant/prompts"
    async with httpx2.AsyncClient(timeout=10) as http:
        r = await http.get(f"{base}/")
        check(r.status_code == 200, f"the host's own public route: {r.status_code}")
        r = await http.post(mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        check(r.status_code == 401, f"the host's authentication guards the MCP router: {r.status_code}")
        r = await http.get(f"{base}/whoami", headers={"Authorization": "Bearer ada-secret"})
        check(r.json() == {"user": "ada", "can_edit": True}, f"the host's own protected route: {r.text}")
    await session(mcp_url, "ada-secret", as_ada)
    await session(mcp_url, "bob-read-only", as_bob)
    # Ada again, in a new session: her prompt persisted in the host's database.
    async def again(s):
        r = await s.call_tool("get_prompt", {"slug": "release-notes"})
        check(not r.is_error, f"ada's prompt is still there: {r}")
    await session(mcp_url, "ada-secret", again)
    print("embed_client: all checks passed")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

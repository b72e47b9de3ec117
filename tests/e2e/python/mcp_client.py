"""PromptDB driven by the official Python MCP SDK (mcp==2.3.0).

    python mcp_client.py http  URL API_KEY      # streamable HTTP, 2025-11-25 session protocol
    python mcp_client.py modern URL API_KEY     # streamable HTTP, 2026-07-28 stateless protocol
    python mcp_client.py stdio BIN DATA_DIR     # `promptdb stdio` as a child process

Exits non-zero with a message on the first failed check.
"""

import asyncio
import sys

import httpx2
import mcp.types as types
from mcp import Client, ClientSession, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

TOOLS = {
    # name: (read_only, destructive, idempotent)
    "health_check": (True, False, True),
    "test_auth": (True, False, True),
    "save_prompts": (False, False, False),
    "get_prompt": (True, False, True),
    "list_prompts": (True, False, True),
    "search_prompts": (True, False, True),
    "update_prompt": (False, False, True),
    "delete_prompt": (False, True, True),
    "list_tags": (True, False, True),
    "track_prompt_use": (False, False, False),
    "set_preferences": (False, False, True),
    "get_preferences": (True, False, True),
    "open_prompt_library": (True, False, True),
}


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def text_of(result):
    check(result.content and isinstance(result.content[0], types.TextContent), f"no text content: {result}")
    return result.content[0].text


async def exercise(s, transport):
    tools = {t.name: t for t in (await s.list_tools()).tools}
    check(set(TOOLS) <= set(tools), f"missing tools: {set(TOOLS) - set(tools)}")
    for name, (ro, destructive, idempotent) in TOOLS.items():
        t = tools[name]
        check(t.description and len(t.description) > 20, f"{name}: a model needs a description")
        check(t.output_schema and t.output_schema.get("type") == "object", f"{name}: output schema")
        a = t.annotations
        check(a is not None, f"{name}: annotations")
        check((a.read_only_hint, a.destructive_hint, a.idempotent_hint) == (ro, destructive, idempotent),
              f"{name}: annotations {a}")
    props = tools["save_prompts"].input_schema["properties"]["prompts"]["items"]["properties"]
    check("description" in props["content"], "input fields carry descriptions for models")

    r = await s.call_tool("health_check", {})
    check(not r.is_error and r.structured_content["status"] == "ok", f"health_check: {r}")
    r = await s.call_tool("test_auth", {})
    check(not r.is_error and "write" in r.structured_content["scopes"], f"test_auth: {r}")

    slug = f"py-{transport}-review"
    r = await s.call_tool("save_prompts", {"prompts": [{
        "slug": slug, "name": "Python review", "description": "Reviews Python",
        "content": "Review this {{language}} code:\n{{code}}", "tags": ["python", transport],
        "variables": [{"name": "language", "description": "Language", "required": False, "default": "Python"}],
    }]})
    check(not r.is_error, f"save_prompts: {text_of(r)}")
    check(r.structured_content["saved"][0]["slug"] == slug, f"save_prompts: {r.structured_content}")
    check(slug in text_of(r), "the text rendering names the saved prompt")

    # A user's mistake is a tool error naming the field, not a protocol error.
    r = await s.call_tool("save_prompts", {"prompts": [{"name": "", "content": "x"}]})
    check(r.is_error and "prompts[0].name" in text_of(r), f"invalid save: {r}")
    r = await s.call_tool("save_prompts", {"prompts": [{"slug": slug, "name": "dup", "content": "x"}]})
    check(r.is_error and "prompts[0].slug" in text_of(r), f"duplicate save: {r}")
    r = await s.call_tool("get_prompt", {"slug": "does-not-exist"})
    check(r.is_error and "does-not-exist" in text_of(r), f"unknown slug: {r}")
    r = await s.call_tool("list_prompts", {"limit": "many"})
    check(r.is_error, f"bad argument type: {r}")

    r = await s.call_tool("get_prompt", {"slug": slug, "variables": {"code": "print(1)"}})
    check(not r.is_error, f"get_prompt: {text_of(r)}")
    check(r.structured_content["rendered"] == "Review this Python code:\nprint(1)", f"rendered: {r.structured_content}")
    r = await s.call_tool("get_prompt", {"slug": slug, "variables": {}})
    check(r.is_error and "variables.code" in text_of(r), f"missing variable: {r}")

    r = await s.call_tool("search_prompts", {"query": f"review #{transport}"})
    check([p["slug"] for p in r.structured_content["prompts"]] == [slug], f"search: {r.structured_content}")
    r = await s.call_tool("list_prompts", {"tags": ["python"]})
    check(slug in [p["slug"] for p in r.structured_content["prompts"]], f"list: {r.structured_content}")
    r = await s.call_tool("update_prompt", {"slug": slug, "content": "Review {{code}} thoroughly", "favorite": True})
    check(not r.is_error and r.structured_content["prompt"]["version"] == 2, f"update: {r}")
    r = await s.call_tool("track_prompt_use", {"slug": slug})
    check(r.structured_content["usage_count"] == 1, f"track use: {r.structured_content}")
    r = await s.call_tool("list_tags", {})
    check({"tag": transport, "count": 1} in r.structured_content["tags"], f"tags: {r.structured_content}")
    r = await s.call_tool("set_preferences", {"preferences": {"theme": "dark"}})
    check(r.structured_content["preferences"]["theme"] == "dark", f"set_preferences: {r}")
    r = await s.call_tool("set_preferences", {"preferences": {"theme": "purple"}})
    check(r.is_error and "preferences.theme" in text_of(r), f"bad preference: {r}")
    r = await s.call_tool("get_preferences", {})
    check(r.structured_content["preferences"] == {"theme": "dark"}, f"get_preferences: {r}")
    r = await s.call_tool("open_prompt_library", {})
    check(slug in [p["slug"] for p in r.structured_content["prompts"]], f"library: {r}")
    # This client does not advertise the MCP Apps extension: no `_meta.ui` for it, while
    # ChatGPT's own alias stays (ChatGPT reads it whatever it advertises).
    meta = tools["open_prompt_library"].meta
    check("ui" not in meta, f"MCP Apps metadata for a client without the extension: {meta}")
    check(meta["openai/outputTemplate"].startswith("ui://"), "widget meta")

    # Every saved prompt is an MCP prompt whose arguments are its variables.
    prompts = {p.name: p for p in (await s.list_prompts()).prompts}
    check(slug in prompts, f"prompts/list: {list(prompts)}")
    args = {a.name: a.required for a in prompts[slug].arguments}
    # `language` was declared with a default (optional) and survives the content change.
    check(args == {"language": False, "code": True}, f"prompt arguments: {args}")
    g = await s.get_prompt(slug, {"code": "x = 1"})
    check(g.messages[0].content.text == "Review x = 1 thoroughly", f"prompts/get: {g}")
    try:
        await s.get_prompt(slug, {})
        check(False, "a missing required argument must be an error")
    except MCPError as e:
        check("code" in e.message, f"prompts/get error: {e.message}")

    # ... and a resource.
    resources = {r.uri: r for r in (await s.list_resources()).resources}
    check(f"prompt://{slug}" in resources, f"resources/list: {list(resources)}")
    widget = next(u for u, r in resources.items() if r.mime_type == "text/html;profile=mcp-app")
    contents = (await s.read_resource(f"prompt://{slug}")).contents
    check(contents[0].text == "Review {{code}} thoroughly", f"resources/read: {contents}")
    html = (await s.read_resource(widget)).contents[0]
    check(html.mime_type == "text/html;profile=mcp-app" and "<script" in html.text and "ui/initialize" in html.text, "widget resource")
    templates = (await s.list_resource_templates()).resource_templates
    check(any(t.uri_template == "prompt://{slug}" for t in templates), f"templates: {templates}")

    r = await s.call_tool("delete_prompt", {"slug": slug})
    check(not r.is_error, f"delete: {r}")
    r = await s.call_tool("get_prompt", {"slug": slug})
    check(r.is_error, "deleted prompts are gone")


async def over_http(url, key):
    async with httpx2.AsyncClient(timeout=30) as anonymous:
        r = await anonymous.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                 headers={"Accept": "application/json, text/event-stream"})
        check(r.status_code == 401 and r.headers.get("www-authenticate", "").startswith("Bearer"),
              f"unauthenticated MCP: {r.status_code} {r.headers}")
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as h:
        async with streamable_http_client(url, http_client=h) as (r, w):
            async with ClientSession(r, w) as s:
                init = await s.initialize()
                check(init.protocol_version == "2025-11-25", f"protocol {init.protocol_version}")
                check(init.server_info.name == "promptdb", f"server info {init.server_info}")
                check(init.instructions and "search_prompts" in init.instructions, "instructions")
                await exercise(s, "http")


async def modern(url, key):
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as h:
        async with Client(streamable_http_client(url, http_client=h), mode="2026-07-28") as c:
            check(c.protocol_version == "2026-07-28", f"protocol {c.protocol_version}")
            await exercise(c, "modern")


async def over_stdio(binary, data_dir):
    params = StdioServerParameters(command=binary, args=["--data-dir", data_dir, "stdio"])
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            init = await s.initialize()
            check(init.server_info.name == "promptdb", f"server info {init.server_info}")
            await exercise(s, "stdio")


def main():
    mode, a, b = sys.argv[1:4]
    runner = {"http": over_http, "modern": modern, "stdio": over_stdio}[mode]
    asyncio.run(runner(a, b))
    print(f"ok: {mode}")


if __name__ == "__main__":
    main()

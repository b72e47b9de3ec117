"""Harvest over MCP with the official Python MCP SDK, the client acting as the host's model.

    python harvest_client.py http   URL API_KEY   # 2025-11-25 session protocol
    python harvest_client.py modern URL API_KEY   # 2026-07-28 stateless protocol

The "model" asks for the `harvest` prompt, follows it over a real conversation (a Markdown chat
log from the labelled fixtures: it keeps the user turns the labels call reusable, as a model
following the prompt would, and writes each as a template with a `{{variable}}` for the pasted
part), submits them with `harvest_session`, then reviews the queue with `list_candidates`,
`accept_candidate` and `dismiss_candidate`. Exits non-zero on the first failed check.
"""

import asyncio
import json
import pathlib
import re
import sys

import httpx2
import mcp.types as types
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client

ROOT = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "promptdb-core/tests/fixtures/harvest"


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def text_of(result):
    check(result.content and isinstance(result.content[0], types.TextContent), f"no text: {result}")
    return result.content[0].text


def user_turns(markdown):
    """The user's turns of a `## User` / `## Assistant` chat log."""
    turns, who, lines = [], None, []
    for line in markdown.splitlines():
        m = re.match(r"^#{1,6}\s*\**(user|assistant|chatgpt|you)\**\s*$", line.strip(), re.I)
        if m:
            if who == "user" and lines:
                turns.append("\n".join(lines).strip())
            who, lines = ("user" if m.group(1).lower() in ("user", "you") else "other"), []
        elif who:
            lines.append(line)
    if who == "user" and lines:
        turns.append("\n".join(lines).strip())
    return turns


def as_template(turn):
    """What a model writes: the instruction, and a variable for what was pasted after it."""
    head, sep, _ = turn.partition(":\n")
    return head + ":\n{{input}}" if sep else turn


async def exercise(s, era):
    prompts = {p.name: p for p in (await s.list_prompts()).prompts}
    check("harvest" in prompts, f"the harvest prompt is listed: {list(prompts)}")
    got = await s.get_prompt("harvest", {"focus": "code review"})
    instructions = got.messages[0].content.text
    check("harvest_session" in instructions and "{{variable}}" in instructions, instructions)
    check("Focus on: code review" in instructions, instructions)
    tools = {t.name: t for t in (await s.list_tools()).tools}
    for name in ("harvest_session", "list_candidates", "accept_candidate", "dismiss_candidate"):
        check(name in tools and len(tools[name].description) > 40, f"{name} described")
    check("{{variable}}" in tools["harvest_session"].description or "placeholders" in tools["harvest_session"].description,
          "the tool carries the guidance for clients without prompts")

    labels = json.loads((FIXTURES / "labels.json").read_text())
    keys = [" ".join(r["key"].split()).lower() for r in labels["reusable"]]
    log = next(FIXTURES.glob("markdown/*.md"))
    turns = user_turns(log.read_text())
    check(len(turns) >= 4, f"user turns of {log.name}: {len(turns)}")
    found = []
    for turn in turns:
        flat = " ".join(turn.split()).lower()
        if any(k in flat for k in keys):
            name = turn.split("\n")[0][:60].rstrip(":. ")
            found.append({"name": name, "content": as_template(turn), "description": "Found in a chat log",
                          "tags": ["harvested", era], "reason": "The user asks this again and again.",
                          "excerpt": turn[:500]})
    check(len(found) >= 2, f"reusable turns in {log.name}: {found}")

    r = await s.call_tool("harvest_session", {"source": f"{log.name} ({era})", "prompts": found})
    check(not r.is_error, f"harvest_session: {text_of(r)}")
    added = r.structured_content["added"]
    check(len(added) == len({f["content"] for f in found}), f"queued: {r.structured_content}")
    check(all(c["origin"] == "model" and c["status"] == "pending" for c in added), f"{added}")
    check("review queue" in text_of(r) or "review" in text_of(r), text_of(r))

    # The same harvest again: counted again, not queued twice.
    r = await s.call_tool("harvest_session", {"prompts": found})
    check(r.structured_content["added"] == [] and len(r.structured_content["merged"]) == len(added),
          f"again: {r.structured_content}")

    r = await s.call_tool("list_candidates", {"limit": 100})
    queue = r.structured_content["candidates"]
    check(r.structured_content["pending"] == len(added), f"pending: {r.structured_content['pending']}")
    first, rest = queue[0], queue[1:]
    slug = f"harvested-{era}"
    r = await s.call_tool("accept_candidate", {"id": first["id"], "slug": slug, "tags": ["harvested"]})
    check(not r.is_error and r.structured_content["created"], f"accept: {text_of(r)}")
    r = await s.call_tool("get_prompt", {"slug": slug})
    check(r.structured_content["prompt"]["content"] == first["content"], f"saved: {r.structured_content}")
    for c in rest:
        r = await s.call_tool("dismiss_candidate", {"id": c["id"]})
        check(not r.is_error, f"dismiss: {text_of(r)}")
    r = await s.call_tool("list_candidates", {})
    check(r.structured_content["pending"] == 0, f"queue empty: {r.structured_content}")

    # Mistakes are tool errors that say what to fix.
    r = await s.call_tool("harvest_session", {"prompts": [{"name": "", "content": "x"}]})
    check(r.is_error and "candidates[0].name" in text_of(r), f"bad name: {text_of(r)}")
    r = await s.call_tool("accept_candidate", {"id": first["id"]})
    check(r.is_error and "already" in text_of(r), f"twice: {text_of(r)}")
    r = await s.call_tool("dismiss_candidate", {"id": "not-an-id"})
    check(r.is_error and "id" in text_of(r), f"bad id: {text_of(r)}")


async def over_http(url, key):
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as h:
        async with streamable_http_client(url, http_client=h) as (r, w):
            async with ClientSession(r, w) as s:
                init = await s.initialize()
                check("harvest_session" in (init.instructions or ""), "instructions mention harvest")
                await exercise(s, "http")


async def modern(url, key):
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as h:
        async with Client(streamable_http_client(url, http_client=h), mode="2026-07-28") as c:
            await exercise(c, "modern")


def main():
    mode, url, key = sys.argv[1:4]
    asyncio.run({"http": over_http, "modern": modern}[mode](url, key))
    print(f"ok: harvest over {mode}")


if __name__ == "__main__":
    main()

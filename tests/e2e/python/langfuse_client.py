"""Existing Langfuse code, unmodified, against PromptDB: the official Python SDK (langfuse 5.x).

    python langfuse_client.py

Reads LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and LANGFUSE_BASE_URL as any Langfuse program
does (printed by `promptdb keys create --langfuse`), and DEAD_BASE_URL, where nothing listens.
Mid-way it prints `KILL` and waits for a line on standard input: the test stops the server
then, to check that the SDK keeps serving from its cache. Exits non-zero on the first failed
check.
"""

import os
import sys
import time

os.environ.setdefault("LANGFUSE_TRACING_ENABLED", "false")

from langfuse import Langfuse  # noqa: E402
from langfuse.api import NotFoundError  # noqa: E402


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def main():
    lf = Langfuse()  # configured from the environment only
    check(lf.auth_check(), "auth_check passes with the key pair")

    # Text prompts, in a folder, with a name that is not a slug.
    name = "support/Triage Bot"
    lf.create_prompt(name=name, prompt="Triage this: {{ticket}}", labels=["production"],
                     config={"model": "gpt-5", "temperature": 0.2}, tags=["support"],
                     commit_message="first")
    p = lf.get_prompt(name, cache_ttl_seconds=0)
    check(p.version == 1 and p.name == name, f"get by the default label: {p.version} {p.name}")
    check(p.config == {"model": "gpt-5", "temperature": 0.2}, f"config: {p.config}")
    check("production" in p.labels and "latest" in p.labels, f"labels: {p.labels}")
    check(p.compile(ticket="printer on fire") == "Triage this: printer on fire", "compile()")
    check(p.commit_message == "first", f"commit message: {p.commit_message}")

    v2 = lf.create_prompt(name=name, prompt="Triage carefully: {{ticket}}", labels=["staging"])
    check(v2.version == 2, f"a second version: {v2.version}")
    check(lf.get_prompt(name, label="staging", cache_ttl_seconds=0).version == 2, "by label")
    check(lf.get_prompt(name, version=1, cache_ttl_seconds=0).prompt == "Triage this: {{ticket}}", "by version")
    check(lf.get_prompt(name, label="latest", cache_ttl_seconds=0).version == 2, "latest")

    # Chat prompts.
    lf.create_prompt(name="Chat Helper", type="chat", labels=["production"], prompt=[
        {"role": "system", "content": "You are {{persona}}."},
        {"role": "user", "content": "{{question}}"},
    ])
    chat = lf.get_prompt("Chat Helper", type="chat", cache_ttl_seconds=0)
    messages = chat.compile(persona="a librarian", question="Where is the index?")
    check(messages == [
        {"role": "system", "content": "You are a librarian."},
        {"role": "user", "content": "Where is the index?"},
    ], f"chat compile: {messages}")

    # Composition.
    lf.create_prompt(name="Tone", prompt="Be kind.", labels=["production"])
    lf.create_prompt(name="Kind Triage", labels=["production"],
                     prompt="@@@langfusePrompt:name=Tone|label=production@@@ Then triage {{ticket}}.")
    check(lf.get_prompt("Kind Triage", cache_ttl_seconds=0).prompt == "Be kind. Then triage {{ticket}}.",
          "composition tags are resolved")

    # The list.
    listed = lf.api.prompts.list(limit=50)
    names = {item.name for item in listed.data}
    check({name, "Chat Helper", "Tone", "Kind Triage"} <= names, f"list: {names}")
    check(listed.meta.total_items >= 4, f"meta: {listed.meta}")

    # The SDK's cache: a label move is seen once the TTL runs out (stale while revalidating).
    cached = lf.get_prompt(name, cache_ttl_seconds=1)
    check(cached.version == 1, "production is version 1")
    lf.update_prompt(name=name, version=2, new_labels=["production"])
    # update_prompt clears the SDK's cache for the name; fill it again with v2, then move back
    # from another client so this one does not know.
    check(lf.get_prompt(name, cache_ttl_seconds=1).version == 2, "the move is visible")
    other = Langfuse(public_key=os.environ["LANGFUSE_PUBLIC_KEY_2"],
                     secret_key=os.environ["LANGFUSE_SECRET_KEY_2"],
                     base_url=os.environ["LANGFUSE_BASE_URL"])
    other.update_prompt(name=name, version=1, new_labels=["production"])
    check(lf.get_prompt(name, cache_ttl_seconds=1).version == 2, "within the TTL the cache answers")
    time.sleep(1.2)
    stale = lf.get_prompt(name, cache_ttl_seconds=1)
    check(stale.version == 2, "past the TTL the stale version answers at once")
    deadline = time.time() + 5
    while lf.get_prompt(name, cache_ttl_seconds=1).version != 1:
        check(time.time() < deadline, "the background refresh brought the new production")
        time.sleep(0.1)

    # A missing prompt is NotFoundError; with a fallback, the fallback.
    try:
        lf.get_prompt("does-not-exist", cache_ttl_seconds=0, max_retries=0)
        check(False, "a missing prompt raises")
    except NotFoundError:
        pass
    fb = lf.get_prompt("does-not-exist", cache_ttl_seconds=0, max_retries=0, fallback="Fallback {{x}}")
    check(fb.is_fallback and fb.compile(x="1") == "Fallback 1", "fallback")

    # A wrong key is refused.
    wrong = Langfuse(public_key="pk-pdb-00000000-0000-7000-8000-000000000000",
                     secret_key=os.environ["LANGFUSE_SECRET_KEY"],
                     base_url=os.environ["LANGFUSE_BASE_URL"])
    try:
        accepted = wrong.auth_check()
    except Exception:  # the SDK raises on 401
        accepted = False
    check(not accepted, "a wrong key pair fails the auth check")

    # PromptDB goes away: the cache keeps answering, and fallbacks cover what it never saw.
    warm = lf.get_prompt("Tone", cache_ttl_seconds=1)
    print("KILL", flush=True)
    sys.stdin.readline()
    time.sleep(1.2)
    check(lf.get_prompt("Tone", cache_ttl_seconds=1).prompt == warm.prompt,
          "stale prompts are served while PromptDB is down")
    down = Langfuse(public_key=os.environ["LANGFUSE_PUBLIC_KEY_3"],
                    secret_key=os.environ["LANGFUSE_SECRET_KEY"],
                    base_url=os.environ["DEAD_BASE_URL"])
    fb = down.get_prompt("Tone", max_retries=0, fallback="Be nice.")
    check(fb.is_fallback and fb.prompt == "Be nice.", "the fallback when PromptDB is down")
    print("langfuse python: all checks passed")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes a large Claude Code session log for the harvest benchmark.

Copies of the labelled fixture sessions (promptdb-core/tests/fixtures/harvest/claude-code),
each under a fresh session id, until the file reaches the size asked for. Every copy varies the
user's pasted material and adds a few one-off messages, so the extractor meets new groups all the
way through, as it would in a year of real logs.

    benches/harvest_gen.py OUT.jsonl [MEGABYTES]
"""
import json
import pathlib
import random
import sys
import uuid

out = pathlib.Path(sys.argv[1])
target = int(sys.argv[2] if len(sys.argv) > 2 else 100) * 1024 * 1024
root = pathlib.Path(__file__).resolve().parent.parent / "promptdb-core/tests/fixtures/harvest/claude-code"
sessions = []
for path in sorted(root.rglob("*.jsonl")):
    lines = []
    for line in path.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            lines.append(line)  # keep the malformed line: it is part of the noise
    sessions.append(lines)

rng = random.Random(7)
words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango".split()
written = 0
with out.open("w") as f:
    copy = 0
    while written < target:
        copy += 1
        lines = sessions[copy % len(sessions)]
        sid = str(uuid.UUID(int=rng.getrandbits(128)))
        for item in lines:
            if isinstance(item, str):
                text = item
            else:
                item = dict(item)
                if "sessionId" in item:
                    item["sessionId"] = sid
                msg = item.get("message")
                if item.get("type") == "user" and isinstance(msg, dict) and isinstance(msg.get("content"), str):
                    msg = dict(msg)
                    # New pasted material in every copy.
                    msg["content"] = msg["content"] + "\n" + " ".join(rng.choice(words) for _ in range(8)) + ";"
                    item["message"] = msg
                text = json.dumps(item)
            f.write(text + "\n")
            written += len(text) + 1
        # A few one-off messages of this copy.
        for _ in range(3):
            one_off = {
                "type": "user", "sessionId": sid, "uuid": str(uuid.uuid4()), "isSidechain": False,
                "message": {"role": "user", "content": " ".join(rng.choice(words) for _ in range(12))},
            }
            text = json.dumps(one_off)
            f.write(text + "\n")
            written += len(text) + 1
print(f"{out}: {written / 1024 / 1024:.0f} MiB in {copy} sessions")

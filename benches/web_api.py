"""Every API call the web app's pages make, timed against a library of 10,000 prompts.

    benches/web_api.sh            # builds the release binary, runs this with the e2e venv
    python benches/web_api.py BIN [--prompts N] [--runs N]

Starts `BIN serve` (release build) on a throwaway SQLite database with rate limits off, seeds N
prompts (100 per batch: folders, tags, variables; every tenth has three versions and labels),
then calls each request the pages send `--runs` times on one kept-alive connection and prints
p50, p95 and max per call in milliseconds, with the goal (50 ms) checked. Times are measured at
the client on loopback, so they include the server time and a few tens of microseconds of
transport. Exits non-zero if any p95 is over the goal.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote

import httpx

GOAL_MS = 50.0
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
         "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa"]
FOLDERS = ["support", "sales", "eng/review", "eng/docs", "writing"]


def start(bin_path, data_dir):
    env = dict(os.environ, RUST_LOG="warn", PROMPTDB_RATE_LIMIT="off")
    for k in ("PROMPTDB_URL", "PROMPTDB_API_KEY", "PROMPTDB_DATABASE_URL"):
        env.pop(k, None)
    proc = subprocess.Popen(
        [bin_path, "--data-dir", data_dir, "serve", "--bind", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    url = None
    for line in proc.stdout:
        if line.startswith("listening on "):
            url = line.split(" ", 2)[2].strip()
            break
    if url is None:
        raise SystemExit("the server did not start: " + proc.stderr.read())
    key = None
    deadline = time.time() + 10
    while key is None and time.time() < deadline:
        line = proc.stderr.readline()
        m = re.search(r"pdb_[A-Za-z0-9_]+", line)
        if m:
            key = m.group(0)
    if key is None:
        raise SystemExit("no API key was printed")
    return proc, url, key


def seed(c, n):
    for start_i in range(0, n, 100):
        batch = []
        for i in range(start_i, min(start_i + 100, n)):
            w = WORDS[i % len(WORDS)]
            folder = FOLDERS[i % len(FOLDERS)]
            batch.append({
                "slug": f"{folder}/p-{i:05d}",
                "name": f"Prompt {i} {w}",
                "description": f"A {w} prompt for the web API benchmark",
                "content": f"Summarise {{{{text}}}} for {{{{audience}}}} in the style of {w} {i}. "
                           + "Context. " * 60,
                "tags": ["bench", w, WORDS[(i * 7) % len(WORDS)]],
                "pinned": i % 500 == 0,
                "favorite": i % 50 == 0,
            })
        r = c.post("/api/v1/prompts", json={"prompts": batch})
        r.raise_for_status()
    for i in range(0, n, 10):
        slug = quote(f"{FOLDERS[i % len(FOLDERS)]}/p-{i:05d}", safe="")
        for v in (2, 3):
            c.patch(f"/api/v1/prompts/{slug}",
                    json={"content": f"Version {v}: summarise {{{{text}}}}. " + "More. " * 40}
                    ).raise_for_status()
        c.put(f"/api/v1/prompts/{slug}/labels/staging", json={"version": 2}).raise_for_status()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--prompts", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as data:
        proc, url, key = start(args.bin, data)
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                              timeout=30) as c:
                t0 = time.time()
                seed(c, args.prompts)
                print(f"seeded {args.prompts} prompts in {time.time() - t0:.1f}s")
                hot_slug = "support/p-00000"
                hot = quote(hot_slug, safe="")
                draft = c.post("/api/v1/drafts", json={"prompt_slug": hot_slug,
                               "fields": {"content": "draft text"}}).json()["id"]
                page2 = c.get("/api/v1/prompts", params={"limit": 30}).json()["next_cursor"]
                calls = [
                    ("library: first page", "GET", "/api/v1/prompts?limit=30", None),
                    ("library: next page", "GET", f"/api/v1/prompts?limit=30&cursor={page2}", None),
                    ("library: search, one word", "GET", "/api/v1/prompts?q=bravo&limit=30", None),
                    ("library: search, two words + tag", "GET",
                     "/api/v1/prompts?q=summarise%20style%20%23bench&limit=30", None),
                    ("library: by tag", "GET", "/api/v1/prompts?tag=kilo&limit=30", None),
                    ("library: folder", "GET", "/api/v1/prompts?folder=eng/review&limit=30", None),
                    ("library: tags", "GET", "/api/v1/tags", None),
                    ("library: folders", "GET", "/api/v1/folders", None),
                    ("library: drafts summary", "GET", "/api/v1/drafts/summary", None),
                    ("app: me", "GET", "/api/v1/me", None),
                    ("app: preferences", "GET", "/api/v1/preferences", None),
                    ("prompt: get", "GET", f"/api/v1/prompts/{hot}", None),
                    ("prompt: render", "POST", f"/api/v1/prompts/{hot}/render",
                     {"variables": {"text": "the ticket"}}),
                    ("prompt: versions", "GET", f"/api/v1/prompts/{hot}/versions?limit=100", None),
                    ("prompt: diff", "GET", f"/api/v1/prompts/{hot}/diff?from=1&to=3", None),
                    ("prompt: labels", "GET", f"/api/v1/prompts/{hot}/labels", None),
                    ("prompt: label moves", "GET", f"/api/v1/prompts/{hot}/label-moves?limit=50", None),
                    ("prompt: use", "POST", f"/api/v1/prompts/{hot}/uses", None),
                    ("prompt: pin", "PATCH", f"/api/v1/prompts/{hot}", {"pinned": True}),
                    ("label: move", "PUT", f"/api/v1/prompts/{hot}/labels/staging", {"version": 3}),
                    ("editor: save draft", "POST", "/api/v1/drafts",
                     {"id": draft, "prompt_slug": hot_slug, "fields": {"content": "draft text 2"}}),
                    ("editor: get draft", "GET", f"/api/v1/drafts/{draft}", None),
                    ("drafts: list", "GET", "/api/v1/drafts", None),
                    ("keys: list", "GET", "/api/v1/keys", None),
                ]
                failed = []
                print(f"\n{'call':38} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
                for name, method, path, body in calls:
                    times = []
                    for _ in range(args.runs):
                        t = time.perf_counter()
                        r = c.request(method, path, json=body)
                        times.append((time.perf_counter() - t) * 1000)
                        if r.status_code >= 400:
                            raise SystemExit(f"{name}: {r.status_code} {r.text[:300]}")
                    times.sort()
                    p50 = statistics.median(times)
                    p95 = times[int(len(times) * 0.95) - 1]
                    flag = "" if p95 <= GOAL_MS else "  over the goal"
                    if flag:
                        failed.append(name)
                    print(f"{name:38} {p50:8.2f} {p95:8.2f} {times[-1]:8.2f}{flag}")
                t = time.perf_counter()
                r = c.get("/api/v1/export")
                r.raise_for_status()
                print(f"\nexport of {len(r.json()['prompts'])} prompts (download, not a page call): "
                      f"{(time.perf_counter() - t) * 1000:.0f} ms")
                print(f"\ngoal: every call's p95 <= {GOAL_MS:.0f} ms at {args.prompts} prompts: "
                      + ("met" if not failed else "missed by " + ", ".join(failed)))
                sys.exit(1 if failed else 0)
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()

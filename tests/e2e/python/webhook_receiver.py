"""A webhook receiver for the end-to-end tests: verifies every delivery with the official
Standard Webhooks library (`standardwebhooks`), and prints one JSON line per request.

    python webhook_receiver.py DIR [--fail N]

`POST /NAME` is verified with the secret in `DIR/NAME.secret` (read on every request, so the
test can write it after registering the hook). A request that does not verify gets 401; the
first N verified requests get 500 (to exercise retries); the rest 200. Prints
`listening on http://127.0.0.1:PORT` first.
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook

parser = argparse.ArgumentParser()
parser.add_argument("dir")
parser.add_argument("--fail", type=int, default=0)
args = parser.parse_args()
secrets = Path(args.dir)
lock = threading.Lock()
failures_left = [args.fail]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        name = self.path.strip("/")
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = {
            "path": name,
            "id": headers.get("webhook-id"),
            "timestamp": int(headers.get("webhook-timestamp", "0")),
            "content_type": headers.get("content-type"),
        }
        try:
            secret = (secrets / f"{name}.secret").read_text().strip()
            record["payload"] = Webhook(secret).verify(body, headers)
            record["verified"] = True
        except Exception as e:  # not verified: a bad signature, an old timestamp, no secret
            record["verified"] = False
            record["error"] = f"{type(e).__name__}: {e}"
        with lock:
            if not record["verified"]:
                status = 401
            elif failures_left[0] > 0:
                failures_left[0] -= 1
                status = 500
            else:
                status = 200
            record["status"] = status
            print(json.dumps(record), flush=True)
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)

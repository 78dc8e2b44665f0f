"""The receiver: an HTTP sink on its own host that writes down every delivery.

One JSON line per alert in each webhook Herald delivers: the alert's run and
sequence labels, its status, the request's Idempotency-Key and the arrival
time. Usage (inside the receiver's namespace):
python -m bench.cluster.receiver --bind 10.77.0.40:9000 --out deliveries.jsonl
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], out) -> None:
        super().__init__(address, _Handler)
        self.out = out
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: Sink

    def do_POST(self) -> None:
        arrived = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("Idempotency-Key", "")
        try:
            alerts = json.loads(body).get("alerts", [])
        except (ValueError, AttributeError):
            alerts = []
        lines = [
            json.dumps({
                "run": alert.get("labels", {}).get("run", ""),
                "seq": alert.get("labels", {}).get("seq", ""),
                "status": alert.get("status", ""), "key": key, "t": arrived,
            })
            for alert in alerts
        ]
        # Written before the answer: what the receiver acknowledged is on disk.
        with self.server.lock:
            self.server.out.write("".join(line + "\n" for line in lines))
            self.server.out.flush()
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    host, port = args.bind.rsplit(":", 1)
    with open(args.out, "a", encoding="utf-8") as out:
        sink = Sink((host, int(port)), out)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=sink.shutdown).start())
        sink.serve_forever()


if __name__ == "__main__":
    main()

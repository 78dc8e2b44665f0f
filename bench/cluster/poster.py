"""Alerts into Alertmanager's API at a steady rate, each with unique labels.

Each alert carries `run` and `seq` labels (so Alertmanager, Herald and the
receiver all see a new alert) and is written down (one JSON line: run, seq,
time) once Alertmanager accepted it; a refused post is retried. Runs until
SIGTERM or `--count` alerts. `--burst` posts them all in one request.
Usage (inside the client's namespace):
python -m bench.cluster.poster --am http://10.77.0.30:9093 --run r1 --rate 4 --out posted.jsonl
"""

from __future__ import annotations

import argparse
import json
import signal
import time
import urllib.request
from datetime import UTC, datetime

_stop = False


def _stopping(*_) -> None:
    global _stop
    _stop = True


def alert(run: str, seq: int) -> dict:
    return {
        "labels": {"alertname": "ClusterProof", "run": run, "seq": str(seq),
                   "severity": "critical"},
        "annotations": {"summary": f"cluster proof alert {seq} of {run}"},
        "startsAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


def post(url: str, alerts: list[dict]) -> bool:
    request = urllib.request.Request(  # noqa: S310 - the cluster's own Alertmanager
        url, data=json.dumps(alerts).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            answer.read()
            return 200 <= answer.status < 300
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--am", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--rate", type=float, default=4.0, help="alerts per second")
    parser.add_argument("--count", type=int, default=0, help="stop after this many (0: SIGTERM)")
    parser.add_argument("--burst", action="store_true", help="post --count alerts at once")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stopping)
    url = args.am.rstrip("/") + "/api/v2/alerts"
    with open(args.out, "a", encoding="utf-8") as out:
        if args.burst:
            alerts = [alert(args.run, seq) for seq in range(args.count)]
            while not post(url, alerts):
                time.sleep(0.2)
            posted = time.time()
            out.write("".join(
                json.dumps({"run": args.run, "seq": str(seq), "t": posted}) + "\n"
                for seq in range(args.count)
            ))
            return
        started, seq = time.monotonic(), 0
        while not _stop and (not args.count or seq < args.count):
            accepted = post(url, [alert(args.run, seq)])
            while not accepted and not _stop:
                time.sleep(0.2)
                accepted = post(url, [alert(args.run, seq)])
            if not accepted:
                break
            out.write(json.dumps({"run": args.run, "seq": str(seq), "t": time.time()}) + "\n")
            out.flush()
            seq += 1
            time.sleep(max(0.0, started + seq / args.rate - time.monotonic()))


if __name__ == "__main__":
    main()

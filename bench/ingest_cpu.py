"""CPU per webhook, in process: where a single-alert ingest spends its time.

Calls Herald's WSGI application directly (no gunicorn, no client) for N
webhooks of one new alert each, the common case of Alertmanager's, and
prints this process's CPU per request (median of several runs) and, with
`--profile`, cProfile's top functions by cumulative time. PostgreSQL's own
CPU is not in the figure: this is the Python side of the request.

    DATABASE_URL=... CELERY_BROKER_URL=... .venv/bin/python bench/ingest_cpu.py
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
import uuid

from common import bench_environment, bench_tenant
from ingest import payload


def _environ(body: bytes, host: str, key: str) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/alertmanager/",
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "SERVER_PROTOCOL": "HTTP/1.1",
    }


def _post(application, body: bytes, host: str, key: str) -> None:
    statuses: list[str] = []
    chunks = application(_environ(body, host, key), lambda status, headers: statuses.append(status))
    b"".join(chunks)
    if not statuses[0].startswith("200"):
        raise RuntimeError(statuses[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    environment = bench_environment()
    try:
        _, key = bench_tenant(slug="bench", receiver_url="http://127.0.0.1:9/")
        from alerting.infra.wsgi import application

        prefix = uuid.uuid4().hex[:8]
        counter = 0

        def run(n: int) -> float:
            nonlocal counter
            bodies = [payload(args.batch, prefix, counter + i) for i in range(n)]
            counter += n
            started = time.process_time()
            for body in bodies:
                _post(application, body, "127.0.0.1", key)
            return (time.process_time() - started) / n * 1000

        run(50)  # warm: caches, prepared statements
        figures = [run(args.requests) for _ in range(args.runs)]
        print(f"CPU per webhook of {args.batch} new alert(s), this process: median "
              f"{statistics.median(figures):.2f} ms (runs: "
              f"{' '.join(f'{f:.2f}' for f in figures)})")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            run(args.requests)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
            print(out.getvalue())
    finally:
        environment.close()


if __name__ == "__main__":
    main()

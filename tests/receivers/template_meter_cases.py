"""Run by tests/receivers/test_template_limits.py: the in-thread meter alone, in a fresh process.

Reads (sources, context, limits, seconds) pickled on stdin and renders each
source under the sandbox's meter only (no renderer process to kill it),
printing one JSON line per source: [source, verdict, named, CPU seconds].
A source the meter fails to stop within `seconds` ends the process with
every thread's stack on stderr (faulthandler), so the test names it.

A process of its own, not a fork of the test process: a fork inherits
whatever locks the test process's other threads (a Celery worker, the
delivery relay, clients) held at that moment.
"""

import faulthandler
import json
import pickle
import sys
import time

from receivers.template_limits import LimitExceeded, TemplateError
from receivers.template_sandbox import sandbox_compile, sandbox_render


def main() -> None:
    sources, context, limits, seconds = pickle.load(sys.stdin.buffer)  # noqa: S301 - from our test
    for source in sources:
        faulthandler.dump_traceback_later(seconds, exit=True)
        started = time.thread_time()
        try:
            sandbox_render(sandbox_compile(source, False), context, limits=limits)
            verdict, named = "rendered", None
        except LimitExceeded as exc:
            verdict, named = "limit", exc.limit
        except TemplateError as exc:
            verdict, named = "error", str(exc)
        cpu_seconds = time.thread_time() - started
        faulthandler.cancel_dump_traceback_later()
        print(json.dumps([source, verdict, named, cpu_seconds]), flush=True)


if __name__ == "__main__":
    main()

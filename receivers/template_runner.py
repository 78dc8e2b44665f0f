"""Tenants' templates render in child processes: the hard stop the sandbox's meter cannot give.

The meter (receivers.template_sandbox) stops a render between two steps; one
long step written in C (a regular expression, a conversion the size rules
did not foresee) would still hold the thread. So a tenant's template renders
in a child process of the one that needs it:

- the child is killed when a render has not answered after four times the
  CPU limit of wall time (at least a second): no thread of a worker or of the
  web tier is held longer, whatever the template does;
- its address space is capped (HERALD_TEMPLATE_MEMORY_MB above what it needs
  to start), it may write no file, and it gets none of the parent's
  environment (no database URL, no keys) nor its open connections;
- it answers in msgpack, never pickle: a child that a template took over
  must not be able to run code in its parent.

Each process keeps up to HERALD_TEMPLATE_RENDERERS children, started on
first use (about 0.1 s) and reused; a render takes one for itself, so a
killed child costs only the render that broke it. Herald's own default
templates render in the calling thread (they are ours; the meter still
bounds them).

`python -m receivers.template_runner` is the child's side.
"""

from __future__ import annotations

import atexit
import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from receivers.template_limits import LimitExceeded, TemplateError, TemplateLimits

_LENGTH = struct.Struct(">I")
_PROJECT_DIR = Path(__file__).resolve().parent.parent
# What a child inherits of the environment: nothing secret.
_CHILD_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")


@dataclass(frozen=True)
class Rendered:
    text: str
    cpu_seconds: float


# --- the parent's side ----------------------------------------------------


def _write(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_LENGTH.pack(len(payload)) + payload)
    stream.flush()


def _read_by(fd: int, seconds: float) -> bytes | None:
    """One framed answer from the child, None if it died; TimeoutError after `seconds`."""
    deadline = time.monotonic() + seconds
    received = bytearray()
    while True:
        if len(received) >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(received)
            if len(received) >= _LENGTH.size + size:
                return bytes(received[_LENGTH.size : _LENGTH.size + size])
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return None
        received += chunk


def _read(stream: BinaryIO) -> bytes | None:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


class _Child:
    """One renderer process, used by one thread at a time."""

    def __init__(self) -> None:
        environment = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "receivers.template_runner"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=_PROJECT_DIR,
            env=environment,
            close_fds=True,
            bufsize=0,
        )
        self.pid = os.getpid()

    def render(
        self, jobs: Sequence[tuple[str, bool]], context: Mapping[str, Any], limits: TemplateLimits
    ) -> list[Any]:
        request = pickle.dumps((list(jobs), dict(context), limits), protocol=5)
        try:
            _write(self.process.stdin, request)
            answer = _read_by(self.process.stdout.fileno(), limits.wall_limit * len(jobs))
        except TimeoutError:
            self.kill()
            raise LimitExceeded(
                f"the template did not finish within {limits.wall_limit:g}s and was stopped",
                limit="cpu_seconds",
            ) from None
        except OSError:
            answer = None
        if answer is None:
            self.kill()
            raise _ChildLost
        return msgspec.msgpack.decode(answer)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()


class _ChildLost(Exception):
    """The child died without answering (killed by its memory limit, most likely)."""


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._idle: list[_Child] = []
        self._started = 0

    def take(self, *, size: int, wait: float) -> _Child:
        with self._lock:
            deadline = time.monotonic() + wait
            while not self._idle and self._started >= size:
                left = deadline - time.monotonic()
                if left <= 0 or not self._lock.wait(left):
                    raise TemplateError("every template renderer is busy; try again")
            while self._idle:
                child = self._idle.pop()
                if child.process.poll() is None:
                    return child
                # Died while idle (killed from outside): not this render's fault.
                child.kill()
                self._started -= 1
            self._started += 1
        try:
            return _Child()
        except BaseException:
            self.discard()
            raise

    def give_back(self, child: _Child) -> None:
        with self._lock:
            self._idle.append(child)
            self._lock.notify()

    def discard(self) -> None:
        with self._lock:
            self._started -= 1
            self._lock.notify()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for child in idle:
            child.kill()


_pools: dict[int, _Pool] = {}
_pools_lock = threading.Lock()


def _pool() -> _Pool:
    # Children belong to the process that started them: a forked web worker
    # starts its own.
    with _pools_lock:
        pool = _pools.get(os.getpid())
        if pool is None:
            pool = _pools[os.getpid()] = _Pool()
        return pool


@atexit.register
def _close_pools() -> None:
    pool = _pools.get(os.getpid())
    if pool is not None:
        pool.close()


def templates_render_isolated(
    *,
    jobs: Sequence[tuple[str, bool]],
    context: Mapping[str, Any],
    limits: TemplateLimits,
    renderers: int = 4,
) -> list[Rendered | TemplateError]:
    """Render each (source, html) of `jobs` with `context` in a child; results in order."""
    pool = _pool()
    child = pool.take(size=renderers, wait=limits.wall_limit)
    try:
        answers = child.render(jobs, context, limits)
    except LimitExceeded as exc:
        pool.discard()
        return [exc] * len(jobs)
    except _ChildLost:
        pool.discard()
        return [
            LimitExceeded(
                f"the template needed more than {limits.memory_mb} MiB of memory",
                limit="memory_mb",
            )
        ] * len(jobs)
    except BaseException:
        child.kill()
        pool.discard()
        raise
    pool.give_back(child)
    return [_result(answer) for answer in answers]


def _result(answer: Mapping[str, Any]) -> Rendered | TemplateError:
    if "text" in answer:
        return Rendered(text=answer["text"], cpu_seconds=answer["cpu"])
    if answer.get("limit"):
        error: TemplateError = LimitExceeded(answer["error"], limit=answer["limit"])
        return error.at_line(answer.get("line"))
    return TemplateError(answer["error"], line=answer.get("line"))


# --- the child's side -----------------------------------------------------


class _CpuTimeUp(BaseException):
    """Not an Exception: nothing in a render may catch it."""


def _on_cpu_timer(signum: int, frame: Any) -> None:
    raise _CpuTimeUp


def _confine(limits: TemplateLimits, started_with: int) -> None:
    """Cap what a render may use. Soft limits: a template cannot call setrlimit."""
    ceiling = started_with + limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _started_with() -> int:
    """The address space the child needed to start, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _render_one(source: str, html: bool, context: Mapping[str, Any], limits) -> dict[str, Any]:
    from receivers.template_sandbox import sandbox_compile, sandbox_render

    started = time.thread_time()
    # The meter stops a render at its limit; the timer, a little later, stops
    # what runs outside the meter's steps (a filter's own Python loop).
    signal.setitimer(signal.ITIMER_PROF, limits.cpu_seconds * 1.2 + 0.05)
    try:
        text = sandbox_render(sandbox_compile(source, html), context, limits=limits)
    except _CpuTimeUp:
        return {
            "error": f"the template used more than {limits.cpu_seconds:g}s of CPU time",
            "limit": "cpu_seconds",
        }
    except LimitExceeded as exc:
        return {"error": exc.message, "line": exc.line, "limit": exc.limit}
    except TemplateError as exc:
        return {"error": exc.message, "line": exc.line}
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    return {"text": text, "cpu": time.thread_time() - started}


def _serve() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Nothing a template does may write to the parent's pipe but our answers.
    sys.stdout = sys.stderr
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGPROF, _on_cpu_timer)
    from receivers import template_sandbox  # noqa: F401 -- imported before the cap is measured

    started_with = _started_with()
    while (request := _read(stdin)) is not None:
        jobs, context, limits = pickle.loads(request)  # noqa: S301 -- from our parent only
        _confine(limits, started_with)
        answers = []
        for source, html in jobs:
            try:
                answers.append(_render_one(source, html, context, limits))
            except _CpuTimeUp:  # the timer fired between two renders' guards
                answers.append(
                    {"error": "the template used too much CPU time", "limit": "cpu_seconds"}
                )
        _write(stdout, msgspec.msgpack.encode(answers))


if __name__ == "__main__":
    _serve()

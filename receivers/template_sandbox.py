"""The Jinja2 environment every notification template renders in: Jinja's sandbox, bounded.

Jinja's sandbox stops a template from reaching Python's internals, not from
running forever or filling memory. This one also

- meters each render (receivers.template_limits): CPU time, loop iterations
  (counted in the code Jinja generates for every `for`), characters produced
  (every output, also inside macros and `{% set %}` blocks), call depth;
- checks, before they run, the operators (`*`, `**`, `+`, `%`), string
  methods and filters that can build large values;
- turns off Jinja's compile-time constant folding, which would evaluate a
  tenant's expressions where no limit applies (`{{ 'x' * 1000000000 }}` took
  15 s and 4 GB while compiling).

The meter runs in any thread; the hard stop for what the meter cannot see
(one long C-level operation) is the child process tenants' templates render
in (receivers.template_runner).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache, lru_cache, wraps
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter, SecurityError

from receivers.template_filters import FILTERS
from receivers.template_limits import (
    LimitExceeded,
    TemplateError,
    TemplateLimits,
    ValueSizer,
    check_binop,
    check_filter_arguments,
    check_format,
    check_format_spec,
    check_string_method,
    too_big,
)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "notifications"
MAX_RANGE = 1_000
# The CPU clock is a system call (~0.7 us): read it every this many steps.
_CLOCK_EVERY = 32

class _State(threading.local):
    meter: _Meter | None = None


_state = _State()


class _Meter:
    """What one render has used so far, in the thread that renders it."""

    __slots__ = ("deadline", "depth", "iterations", "limits", "produced", "sizer", "steps")

    def __init__(self, limits: TemplateLimits) -> None:
        self.limits = limits
        self.sizer = ValueSizer(limits.max_value_size)
        self.deadline = time.thread_time() + limits.cpu_seconds
        self.steps = self.iterations = self.produced = self.depth = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps % _CLOCK_EVERY == 0 and time.thread_time() > self.deadline:
            raise LimitExceeded(
                f"the template used more than {self.limits.cpu_seconds:g}s of CPU time",
                limit="cpu_seconds",
            )

    def iterate(self) -> None:
        self.iterations += 1
        if self.iterations > self.limits.max_iterations:
            raise LimitExceeded(
                f"the template's loops ran more than {self.limits.max_iterations:,} times",
                limit="max_iterations",
            )
        self.step()

    def sized(self, value: Any) -> Any:
        """`value`, if printing it stays within the limits."""
        if type(value) is not str and (size := self.sizer.size(value)) > self.limits.max_value_size:
            raise too_big("the printed value", size, self.limits)
        return value

    def produce(self, size: int) -> None:
        self.produced += size
        if self.produced > self.limits.max_produced_chars:
            raise LimitExceeded(
                f"the template produced more than {self.limits.max_produced_chars:,} characters",
                limit="max_output_chars",
            )
        self.step()


def _meter() -> _Meter:
    meter = _state.meter
    if meter is None:
        # Only renders run template code: folding is off, so compiling runs none.
        raise TemplateError("template code ran outside a metered render")
    return meter


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with every loop, output and constant left for run time.

    These are the generator's documented hooks for output (`_output_*`) and
    its `For` visitor: jinja2 is pinned below 3.2 for them.
    """

    def visit_For(self, node: nodes.For, frame: Any) -> None:
        bounded = nodes.For(
            node.target,
            # environment.metered_iter(<iterable>): counts every item.
            nodes.Call(
                nodes.EnvironmentAttribute("metered_iter"),
                [node.iter],
                [],
                None,
                None,
                lineno=node.iter.lineno,
            ),
            node.body,
            node.else_,
            node.test,
            node.recursive,
            lineno=node.lineno,
        )
        bounded.set_environment(self.environment)
        super().visit_For(bounded, frame)

    def _output_child_to_const(self, node: nodes.Expr, frame: Any, finalize: Any) -> str:
        if not isinstance(node, nodes.TemplateData):
            raise nodes.Impossible()  # evaluated at run time, under the meter
        return super()._output_child_to_const(node, frame, finalize)

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.metered_output({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Any, finalize: Any) -> None:
        # environment.metered_output(str(environment.metered_value(<value>)))
        self.write("environment.metered_output(")
        super()._output_child_pre(node, frame, finalize)
        self.write("environment.metered_value(")

    def _output_child_post(self, node: nodes.Expr, frame: Any, finalize: Any) -> None:
        self.write(")")
        super()._output_child_post(node, frame, finalize)
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
        # a ~ b: environment.metered_concat(<Jinja's join>, (a, b)), sized before it is joined.
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        else:
            join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"environment.metered_concat({join}, (")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


class _BoundedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        check_format_spec(format_spec, _meter().limits)
        return super().format_field(value, format_spec)


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, refusing unsafe attributes where they are read.

    Herald's own default templates render in it as it is: they are our code,
    linear in the alert data that ingest bounds, and what a tenant writes
    never renders here.
    """

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        # Jinja returns an Undefined that fails only when used, and a
        # lenient Undefined is never "used": refuse at the access itself.
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )


class BoundedSandbox(_Sandbox):
    """The immutable sandbox under the render's meter (see the module's docstring)."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def metered_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        meter = _meter()
        for item in iterable:
            meter.iterate()
            yield item

    def metered_output(self, value: str) -> str:
        _meter().produce(len(value))
        return value

    def metered_value(self, value: Any) -> Any:
        return _meter().sized(value)

    def metered_concat(self, join: Callable[[Iterable[Any]], str], parts: tuple) -> str:
        meter = _meter()
        meter.step()
        size = sum(meter.sizer.size(part) for part in parts)
        if size > meter.limits.max_value_size:
            raise too_big("the joined text", size, meter.limits)
        return join(parts)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        meter = _meter()
        meter.step()
        check_binop(operator, left, right, meter.limits, meter.sizer)
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _meter().step()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _meter().step()
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        meter = _meter()
        meter.step()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str | bytes):
            check_string_method(owner, __obj.__name__, args, kwargs, meter.limits, meter.sizer)
        if meter.depth >= meter.limits.max_depth:
            raise LimitExceeded(
                f"calls nested more than {meter.limits.max_depth} deep (a macro calling itself?)",
                limit="max_depth",
            )
        meter.depth += 1
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            meter.depth -= 1
        if isinstance(result, str) and len(result) > meter.limits.max_value_size:
            raise LimitExceeded(
                f"a call returned {len(result):,} characters, over the limit of "
                f"{meter.limits.max_value_size:,}",
                limit="max_value_size",
            )
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        template: str = value.__self__

        @wraps(wrapper)
        def bounded(*args: Any, **kwargs: Any) -> str:
            mapping = args[0] if value.__name__ == "format_map" and args else kwargs
            fields = sum(1 for _, name, _, _ in _BoundedFormatter(self).parse(template) if name)
            meter = _meter()
            arguments = (*args, *dict(mapping).values())
            check_format(template, arguments, fields, meter.limits, meter.sizer)
            for _, _, spec, _ in _BoundedFormatter(self).parse(template):
                if spec:
                    check_format_spec(spec, meter.limits)
            return wrapper(*args, **kwargs)

        return bounded


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    # Filters marked pass_context (and the like) get that first: not an argument.
    passes_first = getattr(function, "jinja_pass_arg", None) is not None

    @wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        meter = _meter()
        meter.step()
        arguments = args[1:] if passes_first else args
        check_filter_arguments(name, arguments, kwargs, meter.limits, meter.sizer)
        return function(*args, **kwargs)

    return bounded


def _bounded_range(*args: int) -> range:
    items = range(*args)
    if len(items) > MAX_RANGE:
        raise TemplateError(f"range() is limited to {MAX_RANGE} items in templates")
    return items


def _no_lipsum(*args: Any, **kwargs: Any) -> str:
    raise TemplateError("lipsum() is not available in templates")


def _environment(sandbox: type[_Sandbox], *, html: bool, **options: Any) -> _Sandbox:
    environment = sandbox(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=html,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        **options,
    )
    environment.filters.update(FILTERS)
    environment.globals["range"] = _bounded_range
    return environment


@cache
def _defaults_environment(html: bool) -> _Sandbox:
    return _environment(_Sandbox, html=html)


@cache
def sandbox_environment(html: bool) -> BoundedSandbox:
    """The environment of tenants' templates, for text or HTML parts (values escaped)."""
    environment = _environment(BoundedSandbox, html=html, optimized=False)
    environment.filters = {
        name: _bounded_filter(name, function) for name, function in environment.filters.items()
    }
    environment.globals["lipsum"] = _no_lipsum
    return environment


@lru_cache(maxsize=512)
def sandbox_compile(source: str, html: bool) -> jinja2.Template:
    """A tenant's template source, compiled (cached), or TemplateError with the line."""
    try:
        return sandbox_environment(html).from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", line=exc.lineno) from None
    except (RecursionError, MemoryError, SyntaxError, ValueError, OverflowError) as exc:
        # Nesting deeper than Python's own parser takes, or a literal it refuses.
        raise TemplateError(f"the template is too deeply nested or too large ({exc})") from None


def sandbox_default(name: str, html: bool) -> jinja2.Template:
    """One of Herald's default templates (templates/notifications/<name>), not metered."""
    try:
        return _defaults_environment(html).get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", line=exc.lineno, name=name) from None


def _error_line(exc: BaseException, filename: str | None) -> int | None:
    """The template line an exception was raised at, from Jinja's rewritten traceback."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == (filename or "<template>"):
            line = frame.lineno
    return line


def sandbox_render(
    template: jinja2.Template, context: Mapping[str, Any], *, limits: TemplateLimits
) -> str:
    """Render under the meter: the text (stripped), or TemplateError naming the line and limit."""
    _state.meter = meter = _Meter(limits)
    try:
        size = 0
        chunks = []
        for chunk in template.generate(context):
            size += len(chunk)
            if size > limits.max_output_chars:
                raise LimitExceeded(
                    f"the output is longer than {limits.max_output_chars:,} characters",
                    limit="max_output_chars",
                )
            chunks.append(chunk)
            meter.step()
        return "".join(chunks).strip()
    except TemplateError as exc:
        raise exc.at_line(_error_line(exc, template.filename)) from None
    except SecurityError as exc:
        raise TemplateError(
            f"not allowed in templates: {exc}", line=_error_line(exc, template.filename)
        ) from None
    except MemoryError:
        raise LimitExceeded(
            f"the template needed more than {limits.memory_mb} MiB of memory", limit="memory_mb"
        ) from None
    except RecursionError:
        raise LimitExceeded("the template nested too deeply", limit="max_depth") from None
    except Exception as exc:  # a template can raise nearly anything; report it, typed
        raise TemplateError(
            f"{type(exc).__name__}: {exc}", line=_error_line(exc, template.filename)
        ) from None
    finally:
        _state.meter = None

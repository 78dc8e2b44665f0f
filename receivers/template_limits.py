"""The hard limits on one template render, and the size rules that keep values within them (pure).

A tenant writes notification templates, so whatever a template can do is
bounded: the CPU time of one render, the size of every string, list or number
an operator, filter or method builds (refused *before* it is built), the text
a render produces, its loop iterations and its call depth. The rules here say
how big a result would be from its operands alone; the sandbox
(receivers.template_sandbox) applies them before each operation runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2.utils import Namespace
from markupsafe import Markup


class TemplateError(Exception):
    """A template that cannot be compiled or rendered, with the line at fault."""

    def __init__(self, message: str, *, line: int | None = None, name: str = "") -> None:
        self.message = message
        self.line = line
        self.name = name
        where = f"line {line}: " if line else ""
        super().__init__(f"{where}{message}")

    def at_line(self, line: int | None) -> TemplateError:
        """This error with the template line it was raised at, if it had none."""
        if self.line is None and line:
            self.line = line
            self.args = (f"line {line}: {self.message}",)
        return self


class LimitExceeded(TemplateError):
    """A render stopped by one of the hard limits; `limit` names it (a TemplateLimits field)."""

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class TemplateLimits:
    """What one render may use. Defaults documented in the README's security section."""

    # CPU time of the rendering thread (HERALD_TEMPLATE_CPU_SECONDS).
    cpu_seconds: float = 0.25
    # Characters a render outputs (HERALD_TEMPLATE_MAX_OUTPUT_CHARS); a render
    # may produce four times as much in macros and {% set %} blocks.
    max_output_chars: int = 1_000_000
    # Characters of a string, or items of a list, one operation builds
    # (HERALD_TEMPLATE_MAX_VALUE_SIZE).
    max_value_size: int = 1_000_000
    # Loop iterations of one render, all loops together (HERALD_TEMPLATE_MAX_ITERATIONS).
    max_iterations: int = 100_000
    # Nested calls, e.g. a macro calling itself (HERALD_TEMPLATE_MAX_DEPTH).
    max_depth: int = 40
    # Bits of an integer (10 ** 1000 has 3,322).
    max_int_bits: int = 16_384
    # Memory of the process that renders tenants' templates, MiB
    # (HERALD_TEMPLATE_MEMORY_MB; see receivers.template_runner).
    memory_mb: int = 512
    # Wall time before the renderer process is killed; None: four times the
    # CPU limit, at least a second (a loaded machine stretches CPU time).
    wall_seconds: float | None = None

    @property
    def wall_limit(self) -> float:
        return self.wall_seconds or max(1.0, 4 * self.cpu_seconds)

    @property
    def max_produced_chars(self) -> int:
        return 4 * self.max_output_chars

    @classmethod
    def from_settings(cls) -> TemplateLimits:
        from django.conf import settings

        return cls(
            cpu_seconds=settings.HERALD_TEMPLATE_CPU_SECONDS,
            max_output_chars=settings.HERALD_TEMPLATE_MAX_OUTPUT_CHARS,
            max_value_size=settings.HERALD_TEMPLATE_MAX_VALUE_SIZE,
            max_iterations=settings.HERALD_TEMPLATE_MAX_ITERATIONS,
            max_depth=settings.HERALD_TEMPLATE_MAX_DEPTH,
            memory_mb=settings.HERALD_TEMPLATE_MEMORY_MB,
        )


def too_big(what: str, size: int, limits: TemplateLimits) -> LimitExceeded:
    return LimitExceeded(
        f"{what} would be {size:,} long, over the limit of {limits.max_value_size:,}",
        limit="max_value_size",
    )


class ValueSizer:
    """About how long str() of a value would be, found without building it.

    A template can nest references cheaply (`[a, a, a]` of a list of lists of
    a long string), so a value's text can be far longer than anything built
    so far. Each container is measured once per render, and a measure stops
    as soon as it passes the limit.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # id -> (the container, its size): holding the container keeps its id unique.
        self._known: dict[int, tuple[Any, int]] = {}

    def size(self, value: Any) -> int:
        if isinstance(value, str | bytes):
            return len(value)
        if value is None or isinstance(value, bool | float | complex):
            return 24
        if isinstance(value, int):
            return value.bit_length() // 3 + 2
        known = self._known.get(id(value))
        if known is not None:
            return known[1]
        self._known[id(value)] = (value, 8)  # a cycle prints as [...]
        size = self._container_size(value)
        self._known[id(value)] = (value, size)
        return size

    def _container_size(self, value: Any) -> int:
        if isinstance(value, Mapping):
            items: Iterable[Any] = (part for pair in value.items() for part in pair)
        elif isinstance(value, list | tuple | set | frozenset):
            items = value
        elif isinstance(value, Namespace):
            items = (part for pair in _namespace_items(value) for part in pair)
        else:
            return 64  # dates, durations, loop and macro objects: short texts
        size = 2
        for item in items:
            size += self.size(item) + 4  # quotes and separator
            if size > self.limit:
                return size
        return size


def _namespace_items(namespace: Namespace) -> Iterable[tuple[str, Any]]:
    try:
        return object.__getattribute__(namespace, "_Namespace__attrs").items()
    except AttributeError:
        return ()


def _sized(value: Any) -> bool:
    return isinstance(value, str | bytes | list | tuple)


def _int(value: Any) -> bool:
    return isinstance(value, int)  # bool included: True * 'x' is 'x'


def check_int_bits(bits: int, limits: TemplateLimits) -> None:
    if bits > limits.max_int_bits:
        raise LimitExceeded(
            f"the number would have about {bits:,} bits, over the limit of "
            f"{limits.max_int_bits:,}",
            limit="max_int_bits",
        )


def check_binop(
    operator: str, left: Any, right: Any, limits: TemplateLimits, sizer: ValueSizer
) -> None:
    """Refuse `left <operator> right` if its result would be over a limit."""
    if operator == "*":
        if (_sized(left) and _int(right)) or (_sized(right) and _int(left)):
            sequence, times = (left, right) if _sized(left) else (right, left)
            size = len(sequence) * max(times, 0)
            if size > limits.max_value_size:
                raise too_big("the repeated value", size, limits)
        elif _int(left) and _int(right):
            check_int_bits(abs(left).bit_length() + abs(right).bit_length(), limits)
    elif operator == "**":
        if _int(left) and _int(right) and right > 0 and abs(left) > 1:
            check_int_bits(right * abs(left).bit_length(), limits)
    elif operator == "+":
        if _sized(left) and _sized(right):
            size = len(left) + len(right)
            if size > limits.max_value_size:
                raise too_big("the joined value", size, limits)
    elif operator == "%" and isinstance(left, str):
        check_percent_format(left, right, limits, sizer)


# printf-style conversions: %(name)-10.3s and friends.
_PERCENT = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d*))?"
    r"[hlL]?(?P<type>.)",
    re.DOTALL,
)


def _longest_argument(arguments: Any, sizer: ValueSizer) -> int:
    if isinstance(arguments, tuple | list):
        values = list(arguments)
    elif isinstance(arguments, Mapping):
        values = list(arguments.values())
    else:
        values = [arguments]
    return max((sizer.size(value) for value in values), default=0)


def check_percent_format(
    template: str, arguments: Any, limits: TemplateLimits, sizer: ValueSizer
) -> None:
    """`'%10s' % x`: widths, precisions and the result's size within the limits."""
    conversions = 0
    widest = 0
    for match in _PERCENT.finditer(template):
        if match["type"] == "%":
            continue
        conversions += 1
        for part in ("width", "precision"):
            value = match[part]
            if value == "*":
                raise TemplateError("'*' widths and precisions are not allowed in templates")
            if value:
                widest = max(widest, int(value))
    size = len(template) + conversions * max(widest, _longest_argument(arguments, sizer))
    if widest > limits.max_value_size or size > limits.max_value_size:
        raise too_big("the formatted text", max(widest, size), limits)


# A format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type].
_FORMAT_SPEC = re.compile(r"^(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)[,_]?(?:\.(?P<precision>\d*))?")


def check_format_spec(spec: str, limits: TemplateLimits) -> None:
    """`'{:>1000000000}'.format(x)`: the width and precision within the limits."""
    if "{" in spec:
        raise TemplateError("nested fields in format specs are not allowed in templates")
    match = _FORMAT_SPEC.match(spec)
    for part in ("width", "precision"):
        value = match[part] if match else ""
        if value and int(value) > limits.max_value_size:
            raise too_big("the formatted field", int(value), limits)


def check_format(
    template: str, arguments: Any, fields: int, limits: TemplateLimits, sizer: ValueSizer
) -> None:
    """`template.format(*arguments)` with `fields` fields: the result within the limits."""
    size = len(template) + fields * _longest_argument(arguments, sizer)
    if size > limits.max_value_size:
        raise too_big("the formatted text", size, limits)


def check_join(
    separator: str, items: list[Any], limits: TemplateLimits, sizer: ValueSizer
) -> None:
    size = len(separator) * max(len(items) - 1, 0) + sum(sizer.size(item) for item in items)
    if size > limits.max_value_size:
        raise too_big("the joined text", size, limits)


def check_width(width: Any, limits: TemplateLimits) -> None:
    """A padding width (ljust, center, zfill, the center and indent filters)."""
    if isinstance(width, int) and width > limits.max_value_size:
        raise too_big("the padded text", width, limits)


def check_replace(text: str, old: str, new: str, count: int, limits: TemplateLimits) -> None:
    found = len(text) + 1 if old == "" else text.count(old)
    if count is not None and count >= 0:
        found = min(found, count)
    size = len(text) + found * (len(new) - len(old))
    if size > limits.max_value_size:
        raise too_big("the replaced text", size, limits)


def check_string_method(
    value: str | bytes,
    name: str,
    args: tuple,
    kwargs: Mapping[str, Any],
    limits: TemplateLimits,
    sizer: ValueSizer,
) -> None:
    """The methods of str that can grow it, checked before the call; others are refused."""
    if name in _SHRINKING_METHODS:
        return
    if name in ("ljust", "rjust", "center", "zfill"):
        check_width(args[0] if args else kwargs.get("width"), limits)
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tabsize, int):
            size = len(value) + value.count("\t" if isinstance(value, str) else b"\t") * tabsize
            if size > limits.max_value_size:
                raise too_big("the expanded text", size, limits)
    elif name == "replace":
        old, new = [*args, None, None][:2]
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        if isinstance(old, str | bytes) and isinstance(new, str | bytes):
            check_replace(value, old, new, count, limits)  # type: ignore[arg-type]
    elif name == "join":
        items = args[0] if args else ()
        check_join(value, list(items) if isinstance(items, list | tuple) else [], limits, sizer)
    elif name not in ("format", "format_map"):  # those go through the sandbox's formatter
        raise TemplateError(f"the string method {name!r} is not allowed in templates")


# Methods of str and bytes whose result is no longer than the string (or is
# not a string): allowed as they are.
_SHRINKING_METHODS = frozenset({
    "capitalize", "casefold", "count", "decode", "encode", "endswith", "find", "index",
    "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower",
    "isnumeric", "isprintable", "isspace", "istitle", "isupper", "lower", "lstrip",
    "partition", "removeprefix", "removesuffix", "rfind", "rindex", "rpartition", "rsplit",
    "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper",
})


# Filters that rearrange what they are given without printing it.
STRUCTURAL_FILTERS = frozenset({
    "attr", "batch", "count", "default", "d", "dictsort", "first", "groupby", "items",
    "last", "length", "list", "map", "max", "min", "random", "reject", "rejectattr",
    "reverse", "select", "selectattr", "slice", "sort", "sum", "unique", "safe",
    "label", "severity_emoji", "severity_color", "duration", "datetime",
})


def check_filter_arguments(
    name: str, args: tuple, kwargs: Mapping[str, Any], limits: TemplateLimits, sizer: ValueSizer
) -> None:
    """A filter's arguments, before it runs: what it prints, and what it would build."""
    if name not in STRUCTURAL_FILTERS:
        for argument in (*args, *kwargs.values()):
            if (size := sizer.size(argument)) > limits.max_value_size:
                raise too_big(f"the text {name} would print", size, limits)
    if name in ("center", "indent"):
        width = args[1] if len(args) > 1 else kwargs.get("width")
        if isinstance(width, str):
            width = len(width)
        check_width(width, limits)
        if name == "indent" and isinstance(width, int):
            lines = str(args[0]).count("\n") + 1 if args else 1
            if lines * width > limits.max_value_size:
                raise too_big("the indented text", lines * width, limits)
    elif name in ("batch", "slice"):
        count = args[1] if len(args) > 1 else kwargs.get("linecount", kwargs.get("slices"))
        if isinstance(count, int) and count > limits.max_value_size:
            raise too_big(f"the {name} count", count, limits)
    elif name == "replace" and len(args) >= 3:
        count = args[3] if len(args) > 3 else kwargs.get("count")
        text, old, new = (str(arg) for arg in args[:3])
        check_replace(text, old, new, -1 if count is None else count, limits)
    elif name == "join" and args:
        separator = args[1] if len(args) > 1 else kwargs.get("d", "")
        items = args[0]
        listed = list(items) if isinstance(items, list | tuple) else []
        check_join(str(separator), listed, limits, sizer)
    elif name == "format" and args:
        check_percent_format(str(args[0]), args[1:] or dict(kwargs), limits, sizer)
    elif name == "wordwrap":
        width = args[1] if len(args) > 1 else kwargs.get("width", 79)
        if isinstance(width, int) and width < 1:
            raise TemplateError("wordwrap needs a width of at least 1")
    elif name == "sum":
        start = args[2] if len(args) > 2 else kwargs.get("start", 0)
        if not isinstance(start, int | float):
            # Summing lists copies them again at each step: quadratic.
            raise TemplateError("sum adds numbers only in templates")


def is_markup(value: Any) -> bool:
    return isinstance(value, Markup)

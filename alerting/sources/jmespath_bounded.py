"""JMESPath under a meter: a tenant's expression over a hostile body, bounded in time and size.

JMESPath has no loops, but it is not bounded by its input: each `[@, @]` in a
pipe doubles what follows (`[@,@]|[@,@]|…|to_string(@)` is 2^n times the
body), and deep equality of such shared structures is exponential. So every
node visited is counted against a step and CPU budget, every list built is
measured, and the operations that walk or copy a whole value (to_string,
join, contains, sort, merge, comparisons) have their operands sized first,
linearly (receivers.template_limits.ValueSizer measures shared parts once).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jmespath
from jmespath import exceptions as jmespath_errors
from jmespath import functions as jmespath_functions
from jmespath import visitor

from receivers.template_limits import ValueSizer

MAX_EXPRESSION_CHARS = 1_000
MAX_LIST_ITEMS = 10_000
# Characters a value walked or built by one operation may print as.
MAX_VALUE_CHARS = 1_000_000
_CLOCK_EVERY = 64

# Functions that walk or copy their arguments' whole values.
_WALKING_FUNCTIONS = frozenset(
    {"to_string", "join", "contains", "sort", "sort_by", "merge", "reverse", "max_by", "min_by"}
)


class ExpressionLimit(ValueError):
    """An evaluation stopped by a limit; the message says which."""


@dataclass
class Budget:
    """What all the expressions of one mapping may use together."""

    steps: int = 1_000_000
    cpu_seconds: float = 0.5

    def __post_init__(self) -> None:
        self.used = 0
        self.deadline = time.thread_time() + self.cpu_seconds
        self.sizer = ValueSizer(MAX_VALUE_CHARS)

    def step(self) -> None:
        self.used += 1
        if self.used > self.steps:
            raise ExpressionLimit(f"the mapping took more than {self.steps:,} steps")
        if self.used % _CLOCK_EVERY == 0 and time.thread_time() > self.deadline:
            raise ExpressionLimit(f"the mapping used more than {self.cpu_seconds:g}s of CPU time")

    def check_size(self, value: Any, what: str) -> None:
        if isinstance(value, list) and len(value) > MAX_LIST_ITEMS:
            raise ExpressionLimit(f"{what} has more than {MAX_LIST_ITEMS:,} items")
        if isinstance(value, list | dict | str) and self.sizer.size(value) > MAX_VALUE_CHARS:
            raise ExpressionLimit(f"{what} is longer than {MAX_VALUE_CHARS:,} characters")


class _BoundedFunctions(jmespath_functions.Functions):
    def __init__(self, budget: Budget) -> None:
        super().__init__()
        self.budget = budget

    def call_function(self, function_name: str, resolved_args: list[Any]) -> Any:
        self.budget.step()
        if function_name in _WALKING_FUNCTIONS:
            for argument in resolved_args:
                self.budget.check_size(argument, f"an argument of {function_name}()")
        result = super().call_function(function_name, resolved_args)
        self.budget.check_size(result, f"the result of {function_name}()")
        return result


class _BoundedInterpreter(visitor.TreeInterpreter):
    def __init__(self, budget: Budget) -> None:
        super().__init__(jmespath.Options(custom_functions=_BoundedFunctions(budget)))
        self.budget = budget

    def visit(self, node: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        self.budget.step()
        result = super().visit(node, *args, **kwargs)
        if isinstance(result, list) and len(result) > MAX_LIST_ITEMS:
            raise ExpressionLimit(f"a list of more than {MAX_LIST_ITEMS:,} items")
        return result

    def visit_comparator(self, node: dict[str, Any], value: Any) -> Any:
        # JMESPath's TreeInterpreter.visit_comparator, with both sides sized before comparing.
        left = self.visit(node["children"][0], value)
        right = self.visit(node["children"][1], value)
        self.budget.check_size(left, "a compared value")
        self.budget.check_size(right, "a compared value")
        compare = self.COMPARATOR_FUNC[node["value"]]
        if node["value"] in self._EQUALITY_OPS:
            return compare(left, right)
        if not (visitor._is_comparable(left) and visitor._is_comparable(right)):
            return None  # ordering compares numbers only
        return compare(left, right)


@lru_cache(maxsize=1024)
def expression_compile(source: str) -> jmespath.parser.ParsedResult:
    """A compiled expression, or ValueError saying what is wrong with it."""
    if not isinstance(source, str) or not source.strip():
        raise ValueError("must be a non-empty JMESPath expression")
    if len(source) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"longer than {MAX_EXPRESSION_CHARS:,} characters")
    try:
        parsed = jmespath.compile(source)
    except jmespath_errors.ParseError as exc:
        where = f" at character {exc.lex_position + 1}" if exc.lex_position is not None else ""
        raise ValueError(f"not a valid JMESPath expression: {exc.msg}{where}") from None
    except jmespath_errors.JMESPathError as exc:
        raise ValueError(f"not a valid JMESPath expression: {_first_line(exc)}") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    _functions_check(parsed.parsed)
    return parsed


def _functions_check(node: dict[str, Any]) -> None:
    """Unknown functions and wrong argument counts, which JMESPath finds only when it runs."""
    pending = [node]
    while pending:
        current = pending.pop()
        pending += [child for child in current.get("children", ()) if isinstance(child, dict)]
        if current.get("type") != "function_expression":
            continue
        name = current["value"]
        known = jmespath_functions.Functions.FUNCTION_TABLE.get(name)
        if known is None:
            raise ValueError(f"unknown function {name}()")
        signature = known["signature"]
        given = len(current["children"])
        if signature and signature[-1].get("variadic"):
            if given < len(signature):
                raise ValueError(f"{name}() takes at least {len(signature)} argument(s)")
        elif given != len(signature):
            raise ValueError(f"{name}() takes {len(signature)} argument(s), not {given}")


def expression_search(source: str, data: Any, *, budget: Budget) -> Any:
    """`source` evaluated over `data` within `budget`, or ValueError (never another error)."""
    parsed = expression_compile(source)
    try:
        return _BoundedInterpreter(budget).visit(parsed.parsed, data)
    except ExpressionLimit:
        raise
    except jmespath_errors.JMESPathError as exc:
        # Type and arity errors at run time: a function given the wrong kind of value.
        raise ValueError(_first_line(exc)) from None
    except RecursionError:
        raise ValueError("the value is nested too deeply to evaluate") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

"""A model's chat template rendered with a time and a size budget, in-process.

transformers renders chat templates in jinja's immutable sandbox, which stops attribute tricks
but not cost: two nested `range(100000)` loops run for hours, `{{ 'x' * 4000000000 }}` takes
12 GB (folded at compile time, before any render). Here the same sandbox and the same globals
and filters as transformers' (taken from its own environment, so the text is identical) run
with checks where cost arises: every loop step and call ticks a deadline; `*`, `+`, `%`, `**`,
`~`, calls and filters are refused before they build a value over the size limit; the output
is counted as it streams. A render is per row, so no per-row process: a check costs a counter
and, every few hundred steps, a clock read.
"""

from __future__ import annotations

import functools
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

MAX_SECONDS = 2.0  # real chat templates render a conversation in milliseconds
MAX_CHARS = 16 * 2**20  # any string or list a template builds, and its output
_SIZED = (str, list, tuple, dict)


class TemplateBudgetError(Exception):
    """kind: slow (over `limit` seconds), large (a value or the output over `limit`
    characters) or deep (recursion)."""

    def __init__(self, kind: str, limit: float, what: str = ""):
        self.kind, self.limit, self.what = kind, limit, what
        super().__init__(f"{kind}: {what} (limit {limit:g})")


@dataclass
class _Budget:
    seconds: float
    chars: int
    deadline: float
    ticks: int = 0

    def tick(self) -> None:
        self.ticks += 1
        if not self.ticks & 255 and time.monotonic() > self.deadline:
            raise TemplateBudgetError(
                "slow", self.seconds, f"still running after {self.ticks} steps"
            )

    def size(self, n: int, what: str = "a value") -> None:
        if n > self.chars:
            raise TemplateBudgetError("large", self.chars, f"{what} of {n} characters")


_NO_DEADLINE = _Budget(float("inf"), MAX_CHARS, float("inf"))  # compile time, stray calls
_BUDGET: ContextVar[_Budget] = ContextVar("ftui_template_budget", default=_NO_DEADLINE)
_WIDTH = re.compile(r"\d+")


def _widths(fmt: str, b: _Budget) -> None:
    """A format string's widths and precisions ('{:>999999999}', '%999999999s')."""
    for digits in _WIDTH.findall(fmt):
        if len(digits) > 7:
            b.size(int(digits), "a format width")


def _replace_size(s: str, old: Any, new: Any) -> int:
    if not isinstance(old, str) or not isinstance(new, str):
        return len(s)
    hits = len(s) + 1 if old == "" else s.count(old)
    return len(s) + hits * len(new)


def _check_args(b: _Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for a in (*args, *kwargs.values()):
        if isinstance(a, int) and not isinstance(a, bool) and a > b.chars:
            b.size(a, "an argument")


def _bounded_filter(f: Any) -> Any:
    @functools.wraps(f)  # keeps jinja's pass_context / pass_eval_context marker
    def run(*args: Any, **kwargs: Any) -> Any:
        b = _BUDGET.get()
        b.tick()
        _check_args(b, args, kwargs)
        strs = [a for a in args if isinstance(a, str)]
        if getattr(f, "__name__", "") == "do_replace" and len(strs) >= 3:
            b.size(_replace_size(strs[0], strs[1], strs[2]), "a replace")
        rv = f(*args, **kwargs)
        if isinstance(rv, _SIZED):
            b.size(len(rv))
        return rv

    return run


def _counted(context: Any, value: Any) -> Any:
    """A for-loop's iterable, each step ticking the budget (a context filter: never folded)."""
    b = _BUDGET.get()
    for item in value:
        b.tick()
        yield item


def _sized(context: Any, value: Any) -> Any:
    """The result of `~`, checked (a doubling loop stops at twice the limit)."""
    if isinstance(value, _SIZED):
        _BUDGET.get().size(len(value), "a joined string")
    return value


@functools.lru_cache(maxsize=8)
def _compiled(source: str) -> Any:
    import jinja2
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jinja2.visitor import NodeTransformer
    from transformers.utils.chat_template_utils import _compile_jinja_template

    # transformers' own environment (its filters, globals, extensions), from an empty template:
    # compiling the real one there would fold `'x' * 4000000000` at compile time
    base = _compile_jinja_template("").environment

    class BoundedEnvironment(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "+", "%", "**"})  # also stops compile-time folding

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            b = _BUDGET.get()
            b.tick()
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, _SIZED) and isinstance(n, int):
                        b.size(len(seq) * max(n, 0), "a repeated value")
            elif operator == "+" and isinstance(left, _SIZED) and isinstance(right, _SIZED):
                b.size(len(left) + len(right), "a joined value")
            elif operator == "%" and isinstance(left, str):
                _widths(left, b)
            elif operator == "**" and isinstance(left, int) and isinstance(right, int):
                if abs(left) > 1 and right * abs(left).bit_length() > 1 << 16:
                    b.size(right * abs(left).bit_length() // 3, "a power")
            rv = super().call_binop(context, operator, left, right)
            if isinstance(rv, _SIZED):
                b.size(len(rv))
            return rv

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            b = _BUDGET.get()
            b.tick()
            _check_args(b, args, kwargs)
            inner = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
            owner, name = getattr(inner, "__self__", None), getattr(inner, "__name__", "")
            if isinstance(owner, str) and name in ("format", "format_map"):
                _widths(owner, b)
            elif isinstance(owner, str) and name == "replace" and len(args) >= 2:
                b.size(_replace_size(owner, args[0], args[1]), "a replace")
            rv = super().call(__context, __obj, *args, **kwargs)
            if isinstance(rv, _SIZED):
                b.size(len(rv))
            return rv

    env = BoundedEnvironment(
        trim_blocks=base.trim_blocks,
        lstrip_blocks=base.lstrip_blocks,
        extensions=[type(ext) for ext in base.extensions.values()],
    )
    env.filters.update({name: _bounded_filter(f) for name, f in base.filters.items()})
    env.filters["_ftui_iter"] = jinja2.pass_context(_counted)
    env.filters["_ftui_sized"] = jinja2.pass_context(_sized)
    env.globals.update(base.globals)

    class Bound(NodeTransformer):
        def visit_For(self, node: Any) -> Any:  # noqa: N802
            self.generic_visit(node)
            node.iter = nodes.Filter(
                node.iter, "_ftui_iter", [], [], None, None, lineno=node.lineno
            )
            return node

        def visit_Concat(self, node: Any) -> Any:  # noqa: N802
            self.generic_visit(node)
            return nodes.Filter(node, "_ftui_sized", [], [], None, None, lineno=node.lineno)

    return env.from_string(Bound().visit(env.parse(source)))


def render_bounded(
    source: str, seconds: float = MAX_SECONDS, max_chars: int = MAX_CHARS, **context: Any
) -> str:
    """The template rendered with `context`; TemplateBudgetError when it takes over `seconds`,
    builds a value or an output over `max_chars`, or recurses past Python's limit. Template
    syntax errors and the template's own raise_exception(...) propagate as jinja errors."""
    budget = _Budget(seconds, max_chars, time.monotonic() + seconds)
    token = _BUDGET.set(budget)
    try:
        template = _compiled(source)
        out: list[str] = []
        total = 0
        for piece in template.generate(**context):
            total += len(piece)
            budget.size(total, "the output")
            budget.tick()
            out.append(piece)
        return "".join(out)
    except RecursionError:
        raise TemplateBudgetError("deep", 0, "recursion past Python's limit") from None
    except (OverflowError, MemoryError) as exc:  # the sandbox's range() over 100000 items
        raise TemplateBudgetError("large", max_chars, str(exc).split(".")[0]) from None
    finally:
        _BUDGET.reset(token)

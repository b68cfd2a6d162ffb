"""Jinja2 for checklist values, sandboxed and bounded: a template is data, it cannot exhaust us.

The sandbox alone keeps a template from reaching Python internals, but not from asking for
``'a' * 10**9``, ``'x'.center(10**9)``, ``10 ** 10 ** 10`` or loops nested until the morning.
Here, on top of Jinja's ``ImmutableSandboxedEnvironment`` (no ``append``/``update``):
- every number given to a call or filter, and every repeat count of ``*``, is at most
  ``MAX_NUMBER``, and ``**`` only takes small exponents, so no single step makes a giant value;
- what a filter or call returns, and the rendered output (counted as it is produced), is at
  most ``MAX_OUTPUT`` characters;
- rendering one value takes at most ``MAX_SECONDS`` (a trace function checks the clock on each
  line of the compiled template), which bounds loops whatever they iterate over;
- ``namespace``, ``lipsum``, ``cycler`` and ``joiner`` are not offered (a namespace is how a
  loop would grow a value across iterations).
Each refusal is a ``TemplateBound`` naming what went past which bound.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 64 * 1024  # characters of one rendered value (a title, a host, an argv item)
MAX_NUMBER = 100_000  # largest number a call, a filter or a repetition may take
MAX_SECONDS = 2.0  # rendering time of one value
MAX_BITS = 4096  # an integer result (so ** chains cannot grow numbers without end)


class TemplateBound(jinja2.TemplateError):
    """A checklist template went past one of the bounds above."""


def _check_numbers(values) -> None:
    for value in values:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if abs(value) > MAX_NUMBER:
                raise TemplateBound(f"the number {value:g} is larger than {MAX_NUMBER:,}")


def _check_size(result: Any) -> Any:
    if isinstance(result, str | bytes | list | tuple) and len(result) > MAX_OUTPUT:
        raise TemplateBound(f"a value of {len(result):,} characters (at most {MAX_OUTPUT:,})")
    if isinstance(result, int) and result.bit_length() > MAX_BITS:
        raise TemplateBound(f"a number of more than {MAX_BITS} bits")
    return result


def _bounded_filter(func: Callable) -> Callable:
    @functools.wraps(func)  # keeps jinja_pass_arg (pass_context and friends)
    def bounded(*args, **kwargs):
        _check_numbers((*args, *kwargs.values()))
        return _check_size(func(*args, **kwargs))

    return bounded


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any):
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, **options)
        for name in ("namespace", "lipsum", "cycler", "joiner"):
            self.globals.pop(name, None)
        self.filters = {name: _bounded_filter(f) for name, f in self.filters.items()}

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise TemplateBound(f"the exponent {right:g} is larger than 64")
        if operator == "*":
            sequence = isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple)
            if sequence:
                _check_numbers((left, right))
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _check_numbers((*args, *kwargs.values()))
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def render(self, source: str, context: dict[str, Any]) -> str:
        """Render ``source`` within the output and time bounds."""
        template = self.from_string(source)
        deadline = time.monotonic() + MAX_SECONDS

        def tracer(frame, event, arg):
            if time.monotonic() > deadline:
                raise TemplateBound(f"rendering took longer than {MAX_SECONDS:g} s")
            return tracer

        previous = sys.gettrace()
        sys.settrace(tracer)
        try:
            parts, size = [], 0
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise TemplateBound(f"the output is longer than {MAX_OUTPUT:,} characters")
                parts.append(chunk)
            return "".join(parts)
        finally:
            sys.settrace(previous)

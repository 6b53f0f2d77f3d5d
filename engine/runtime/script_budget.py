"""The budget one evaluation of model code runs under: time, loop steps and what it builds.

Model code is compiled by RestrictedPython (script_gate), which turns every attribute
access, subscript, loop and in-place operator into a call to a guard; script_gate adds
guards for the operators that can build big values (`+`, `*`, `%`, `**`, `<<`) and for
f-string values. A `Budget` is those guards for one evaluation:

- time: past `QA_SCRIPT_TIME_LIMIT` seconds (default 2) the next guard stops the code;
- steps: at most `QA_SCRIPT_MAX_STEPS` loop iterations (default 1,000,000), counted in
  every `for` and comprehension (the only ways model code can repeat: `while`, functions
  and lambdas are refused by the static check);
- size: at most `QA_SCRIPT_MAX_SIZE` items or characters (default 2,000,000) built in all by
  operators, slices, method calls and the builtins that copy (`list`, `sorted`, `str`, ...),
  each big value's size worked out *before* it is built, so `'x' * 10**10` never allocates;
  no `range` longer than that either, and no whole number longer than MAX_INT_BITS bits.

Nothing here uses signals or threads, so it works the same in a threaded web server, the
scheduler and the CLI; the worker carries on with its next request when a budget stops code.
"""
import operator
import os
import re
import time
from dataclasses import dataclass

from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import INSPECT_ATTRIBUTES
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.runtime.script_names import SAFE_BUILTINS

TIME_CHECK_EVERY = 64  # loop steps between looks at the clock (each step is bounded by the size budget)
MAX_INT_BITS = 10_000  # about 3,000 digits: far beyond any date or score arithmetic
BLOCKED_ATTRIBUTES = frozenset({"format", "format_map", "mro"}) | INSPECT_ATTRIBUTES
# Methods that hand back something already held (no new value to count against the size budget).
_ACCESSORS = frozenset({"get", "pop", "setdefault", "popitem"})
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)
_FORMAT_SPEC = re.compile(r"%[^a-zA-Z%]*[a-zA-Z%]")


class ModelCodeError(SpiffWorkflowException):
    """Model code was stopped by the gate. A SpiffWorkflow exception, so the engine reports it
    at the task like any failing script (adding where it happened as notes)."""
    task = None  # the SpiffWorkflow task whose code it was, once known

    def __str__(self):
        return ". ".join([str(self.args[0]) if self.args else "", *self.notes])


class ScriptLimitExceeded(ModelCodeError):
    """Model code went past its budget of time, steps or size; the message says which."""


class ModelCodeRefused(ModelCodeError):
    """Model code may not run: it failed the safety check, or reached for a refused attribute."""


@dataclass(frozen=True)
class Limits:
    seconds: float
    steps: int
    size: int


def limits_from_environment() -> Limits:
    """The limits named in the module docstring, from the environment or their defaults."""
    return Limits(seconds=float(os.environ.get("QA_SCRIPT_TIME_LIMIT", "2")),
                  steps=int(os.environ.get("QA_SCRIPT_MAX_STEPS", "1000000")),
                  size=int(os.environ.get("QA_SCRIPT_MAX_SIZE", "2000000")))


LIMITS = limits_from_environment()


class Budget:
    """The guards of one evaluation, sharing its clock and counters (made afresh each time)."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or LIMITS
        self.deadline = time.monotonic() + self.limits.seconds
        self.steps = 0
        self.size = 0

    def names(self) -> dict:
        """The guard names RestrictedPython's rewritten code calls, and the budgeted builtins."""
        return {"__builtins__": self.builtins(), "_getattr_": self.getattr, "_getitem_": self.getitem,
                "_getiter_": self.getiter, "_write_": full_write_guard, "_inplacevar_": self.inplace,
                "_binop_": self.binop, "_fmt_": self.formatted, "_apply_": self.apply,
                "_unpack_sequence_": guarded_unpack_sequence, "_iter_unpack_sequence_": guarded_iter_unpack_sequence}

    def builtins(self) -> dict:
        return {**SAFE_BUILTINS, "slice": slice,  # RestrictedPython writes a[1:2] as a[slice(1, 2)]
                "range": self.range, "str": _Measured(str, self.str), "sum": self.sum,
                **{name: _Measured(SAFE_BUILTINS[name], self._copying(SAFE_BUILTINS[name]))
                   for name in ("list", "tuple", "set", "dict", "sorted")}}

    # --- the three budgets ----------------------------------------------------------------

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise ScriptLimitExceeded(f"it ran for more than {self.limits.seconds:g} seconds, the limit for one "
                                      "script or expression (QA_SCRIPT_TIME_LIMIT)")

    def charge(self, size: int, what: str) -> None:
        """Count `size` items or characters about to be built by `what`; refuse past the budget."""
        self.size += size
        if self.size > self.limits.size:
            raise ScriptLimitExceeded(f"{what} makes it build more than {self.limits.size:,} items or characters, "
                                      "the limit for one script or expression (QA_SCRIPT_MAX_SIZE)")
        self.tick()

    @property
    def remaining(self) -> int:
        """How much more may be built: measuring a value never walks further than this."""
        return max(self.limits.size - self.size, 0)

    def getiter(self, iterable):
        """Every loop and comprehension iterates through here: one step per item."""
        self.tick()
        return self._counted(iter(iterable))

    def _counted(self, iterator):
        for item in iterator:
            self.steps += 1
            if self.steps > self.limits.steps:
                raise ScriptLimitExceeded(f"its loops ran more than {self.limits.steps:,} times, the limit for one "
                                          "script or expression (QA_SCRIPT_MAX_STEPS)")
            if not self.steps % TIME_CHECK_EVERY:
                self.tick()
            yield item

    # --- guards RestrictedPython calls -----------------------------------------------------

    def getattr(self, value, name: str):
        if name.startswith("_") or name in BLOCKED_ATTRIBUTES:
            raise ModelCodeRefused(f"'.{name}' is not allowed in model code")
        found = getattr(value, name)
        if callable(found) and not isinstance(found, type):
            return self._method(found, name, value)
        return found

    def getitem(self, value, key):
        found = value[key]
        if isinstance(key, slice) and isinstance(found, _SIZED):
            self.charge(len(found), "a slice")
        return found

    def binop(self, symbol: str, left, right):
        _check_binop(self, symbol, left, right)
        return _BINARY[symbol](left, right)

    def inplace(self, symbol: str, left, right):
        plain = symbol[:-1]
        if plain in _BINARY:
            _check_binop(self, plain, left, right)
        return _INPLACE[symbol](left, right)

    def formatted(self, value):
        """An f-string's value: counted at the size it will take as text."""
        self.charge(rendered_size(value, self.remaining), "an f-string")
        return value

    def apply(self, function, *args, **kwargs):
        return function(*args, **kwargs)

    # --- budgeted builtins and methods -------------------------------------------------------

    def range(self, *args):
        numbers = range(*args)
        if len(numbers) > self.limits.size:
            raise ScriptLimitExceeded(f"range of {len(numbers):,} numbers: longer than {self.limits.size:,}, the "
                                      "limit for one script or expression (QA_SCRIPT_MAX_SIZE)")
        return numbers

    def str(self, *args, **kwargs):
        if len(args) == 1 and not kwargs:
            self.charge(rendered_size(args[0], self.remaining), "str()")
        return str(*args, **kwargs)

    def sum(self, iterable, start=0):
        if isinstance(start, bool) or not isinstance(start, (int, float)):
            raise ModelCodeRefused("sum() adds numbers; join text with ''.join() and lists with a comprehension")
        return sum(iterable, start)

    def _copying(self, builtin):
        """`list`, `sorted` and the like: count what they copy (before copying when its size is known)."""
        def copy(*args, **kwargs):
            if args and hasattr(args[0], "__len__"):
                self.charge(len(args[0]), f"{builtin.__name__}()")
                return builtin(*args, **kwargs)
            result = builtin(*args, **kwargs)
            self.charge(len(result), f"{builtin.__name__}()")
            return result
        return copy

    def _method(self, method, name: str, owner):
        predict = _PREDICTIONS.get(name)

        def call(*args, **kwargs):
            if predict is not None and isinstance(owner, (type, _Measured)):  # str.join(',', parts)
                if args:
                    size, rest = predict(args[0], args[1:], kwargs)
                    self.charge(size, f"'.{name}()'")
                    return method(args[0], *rest, **kwargs)
            elif predict is not None:
                size, args = predict(owner, args, kwargs)
                self.charge(size, f"'.{name}()'")
                return method(*args, **kwargs)
            result = method(*args, **kwargs)
            if name not in _ACCESSORS and isinstance(result, _SIZED):
                self.charge(len(result), f"'.{name}()'")
            return result
        return call


class _Measured:
    """A builtin type whose calls are measured, keeping its class methods (`dict.fromkeys`,
    `str.lower` as a sort key): attribute reads go to the type, through the attribute guard."""

    def __init__(self, kind, measured_call):
        self._kind, self._call = kind, measured_call

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._kind, name)


def rendered_size(value, limit: int) -> int:
    """About how many characters `value` takes as text, counting no further than just past `limit`
    (a list holding one long text a million times is long as text, though small in memory)."""
    total, pending = 0, [value]
    while pending and total <= limit:
        item = pending.pop()
        if isinstance(item, (str, bytes)):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            pending.extend(item)
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 2
        else:
            total += 32  # a number, a date, None
    return total


def _check_binop(budget: Budget, symbol: str, left, right) -> None:
    """Work out, before it is built, how big an operator's result would be."""
    if symbol == "+" and isinstance(left, _SIZED) and isinstance(right, _SIZED):
        budget.charge(len(left) + len(right), "'+'")
    elif symbol == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, (str, bytes, list, tuple)) and isinstance(times, int):
                budget.charge(len(sequence) * max(times, 0), "'*'")
        if _whole(left) and _whole(right):
            _check_bits(left.bit_length() + right.bit_length(), "'*'")
    elif symbol == "**" and _whole(left) and _whole(right) and right > 0:
        _check_bits(max(left.bit_length(), 1) * right, "'**'")
    elif symbol == "<<" and _whole(left) and _whole(right):
        _check_bits(left.bit_length() + right, "'<<'")
    elif symbol == "%" and isinstance(left, (str, bytes)):
        budget.charge(_formatted_size(left, right, budget.remaining), "'%' formatting")


def _formatted_size(template, values, limit: int) -> int:
    specs = _FORMAT_SPEC.findall(template if isinstance(template, str) else template.decode("latin-1"))
    if any("*" in spec for spec in specs):
        raise ModelCodeRefused("'%' formatting with a '*' width is not allowed in model code")
    widths = sum(int(number) for spec in specs for number in re.findall(r"\d+", spec))
    return len(template) + widths + rendered_size(values, limit)


def _check_bits(bits: int, what: str) -> None:
    if bits > MAX_INT_BITS:
        raise ScriptLimitExceeded(f"{what} would make a whole number of more than {MAX_INT_BITS:,} bits, "
                                  "the limit for model code")


def _whole(value) -> bool:
    return isinstance(value, int)


def _widening(owner, args, kwargs):
    """ljust, rjust, center, zfill: as long as the width asked for."""
    width = args[0] if args else kwargs.get("width", 0)
    return (max(int(width), len(owner)) if isinstance(width, int) else len(owner)), args


def _replacing(owner, args, kwargs):
    if len(args) >= 2 and isinstance(owner, (str, bytes)):
        old, new = args[0], args[1]
        found = owner.count(old) if old else len(owner) + 1
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            found = min(found, args[2])
        return len(owner) + found * max(len(new) - len(old), 0), args
    return len(owner), args


def _joining(owner, args, kwargs):
    """join: the parts are gathered first (they may be a one-off iterator) and measured."""
    if not args:
        return 0, args
    parts = list(args[0])
    size = sum(len(part) for part in parts if isinstance(part, (str, bytes))) + len(owner) * max(len(parts) - 1, 0)
    return size, (parts, *args[1:])


def _expanding_tabs(owner, args, kwargs):
    tab = args[0] if args else kwargs.get("tabsize", 8)
    return len(owner) + owner.count("\t" if isinstance(owner, str) else b"\t") * max(int(tab), 0), args


def _translating(owner, args, kwargs):
    table = args[0] if args else None
    longest = max((len(v) for v in table.values() if isinstance(v, (str, bytes))), default=1) \
        if isinstance(table, dict) else 1
    return len(owner) * max(longest, 1), args


def _extending(owner, args, kwargs):
    if not args:
        return 0, args
    items = args[0] if hasattr(args[0], "__len__") else list(args[0])
    return len(items), (items, *args[1:])


def _bytes_long(owner, args, kwargs):
    length = args[0] if args else kwargs.get("length", 1)
    return (int(length) if isinstance(length, int) else 0), args


_PREDICTIONS = {"ljust": _widening, "rjust": _widening, "center": _widening, "zfill": _widening,
                "replace": _replacing, "join": _joining, "expandtabs": _expanding_tabs, "translate": _translating,
                "extend": _extending, "update": _extending, "to_bytes": _bytes_long}

_BINARY = {"+": operator.add, "*": operator.mul, "%": operator.mod, "**": operator.pow, "<<": operator.lshift}
_INPLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
            "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
            ">>=": operator.irshift, "|=": operator.ior, "^=": operator.ixor, "&=": operator.iand}

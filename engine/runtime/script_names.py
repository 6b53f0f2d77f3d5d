"""The names a diagram's scripts and expressions may use besides task data.

Kept apart from the script engine so that the static check (model_script_safety), the
runtime gate (script_gate) and the engine itself (services) all read one list.
"""
import builtins
from datetime import date, datetime, timedelta
from typing import Callable

# Functions a diagram's expressions may call (e.g. working-day arithmetic for timers).
EXPRESSION_HELPERS: dict[str, Callable] = {}

# Builtins a diagram's expressions and scripts may use: enough for conditions and
# small data shaping, nothing that reaches files, imports or the interpreter. The runtime
# gate hands out budgeted versions of the ones that build or repeat (script_budget).
SAFE_BUILTINS = {name: getattr(builtins, name)
                 for name in ("abs", "all", "any", "bool", "dict", "enumerate", "filter", "float",
                              "int", "len", "list", "map", "max", "min", "range", "round", "set",
                              "sorted", "str", "sum", "tuple", "zip")}

# Classes every script sees, for date arithmetic.
ENGINE_GLOBALS = {"date": date, "datetime": datetime, "timedelta": timedelta}


def expression_helper(name: str):
    """Offer a function to every script and expression in a diagram as `name`.

    Names should be distinctive: task data that used the same key would shadow it
    (SpiffWorkflow refuses such data)."""
    def register(function: Callable) -> Callable:
        EXPRESSION_HELPERS[name] = function
        return function
    return register


def known_globals() -> set[str]:
    """Names every script and expression may use without them being task data."""
    return set(SAFE_BUILTINS) | set(EXPRESSION_HELPERS) | set(ENGINE_GLOBALS)

"""The one gate every piece of model code passes at the moment the engine evaluates it.

SpiffWorkflow hands all the Python a diagram or decision table holds — scripts, pre- and
post-scripts, conditions, loop and multi-instance expressions, timers, message payloads and
correlations, service task parameters, DMN input and output entries, and whatever a later
SpiffWorkflow adds — to its script engine's *environment* (`evaluate` or `execute`; a few
callers skip the engine and call the environment directly). `GatedEnvironment` is that
environment for every workflow this product runs: live instances, the sandbox, validation.
So a field nobody listed still cannot run code.

Each source text is compiled once (cached by text and mode) through two checks:

1. the static allow-list (model_script_safety.check_python): the same rules the process
   owner is told about at the element when the model is validated;
2. RestrictedPython, with a policy that rewrites every attribute access, subscript, loop,
   in-place operator, size-building operator and f-string value into a call to a guard of
   the evaluation's `Budget` (script_budget), which refuses underscore and format
   attributes at run time too and stops code past its time, step or size budget.

Code that fails either check never runs: the evaluation raises ModelCodeRefused, which the
engine treats like any failing script (the sandbox shows it at the element; a live
instance goes to its `error` state).
"""
import ast
import copy
import functools
from types import CodeType

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment

from engine.runtime.model_script_safety import check_python
from engine.runtime.script_budget import Budget, ModelCodeRefused

COMPILED_CACHE_SIZE = 4096
_GUARDED_OPERATORS = {ast.Add: "+", ast.Mult: "*", ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<"}


class _BudgetedTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus guards on the operators and f-string values that can build
    big values (the guards are named with underscores, which model code itself may not use)."""

    def visit_BinOp(self, node: ast.BinOp):
        node = self.node_contents_visit(node)
        symbol = _GUARDED_OPERATORS.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(func=ast.Name("_binop_", ast.Load()), args=[ast.Constant(symbol), node.left, node.right],
                        keywords=[])
        copy_locations(call, node)
        return call

    def visit_FormattedValue(self, node: ast.FormattedValue):
        node = self.node_contents_visit(node)
        node.value = ast.Call(func=ast.Name("_fmt_", ast.Load()), args=[node.value], keywords=[])
        copy_locations(node.value, node)
        return node


def gated_code(source, mode: str) -> CodeType:
    """The compiled, guarded form of `source` ("eval" for an expression, "exec" for a script);
    ModelCodeRefused with the reasons when it may not run."""
    if not isinstance(source, str):
        raise ModelCodeRefused(f"model code must be text, not {type(source).__name__}")
    code, problems = _compile(source, mode)
    if code is None:
        raise ModelCodeRefused(f"this code is not allowed to run ({'; '.join(problems)})")
    return code


@functools.lru_cache(maxsize=COMPILED_CACHE_SIZE)
def _compile(source: str, mode: str) -> tuple[CodeType | None, tuple[str, ...]]:
    text = source.strip()
    if mode == "exec" and not text:
        text = "pass"  # an empty script does nothing, as before
    problems = check_python(text, script=mode == "exec").problems
    if problems:
        return None, tuple(problems)
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(text, filename="<string>", policy=_BudgetedTransformer)
    if result.errors:
        return None, tuple(result.errors)
    return result.code, ()


class GatedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment, with every evaluation gated and budgeted."""

    def evaluate(self, expression, context, external_context=None):
        code = gated_code(expression, "eval")
        names = copy.copy(self.globals)
        self._prepare_context(context)
        names.update(external_context or {})
        names.update(context)
        names.update(Budget().names())  # last, so task data cannot stand in for a guard
        return eval(code, names)

    def execute(self, script, context, external_context=None):
        code = gated_code(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        names = copy.copy(self.globals)
        self._prepare_context(context)
        names.update(external_context or {})
        names.update(Budget().names())
        context.update(names)
        try:
            exec(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True

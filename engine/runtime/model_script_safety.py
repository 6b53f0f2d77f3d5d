"""The static safety check for the Python a diagram carries: scripts, conditions, timers.

SpiffWorkflow runs a diagram's scripts and expressions with `exec` and `eval`. Restricted
builtins (engine.runtime.script_names.SAFE_BUILTINS) stop `open` and `import`, but not
attribute walking (`().__class__.__base__.__subclasses__()`): whoever can publish a
script could run any code on the server. So every piece of Python is checked against an
allow-list twice: before a model is saved, tried or published (model_validation, to tell the
process owner at the element), and again each time the engine evaluates it (script_gate,
before RestrictedPython compiles it with its run-time guards):

- only plain statements and expressions (assignments, `if`, `for`, comparisons, calls,
  literals, subscripts, list/dict/set comprehensions); no imports, function or class
  definitions, lambdas, generators, `while`, `try`, `with`, `global`;
- no name or attribute that starts with an underscore, and no `format`/`format_map`
  (a format string can reach attributes: "{0.__class__}");
- no huge powers (`10 ** 10 ** 10` would hang the server evaluating a timer), and no f-string
  format computed or wider than MAX_FORMAT_WIDTH (`f"{x:>999999999}"` would fill the memory);
- every name read is a builtin from SAFE_BUILTINS, an expression helper, `date`,
  `datetime`, `timedelta`, or task data (the caller decides which data exists).
"""
import ast
import re
from dataclasses import dataclass, field

from engine.runtime.script_names import known_globals
BLOCKED_ATTRIBUTES = {"format", "format_map", "mro"}
MAX_EXPONENT = 64
MAX_FORMAT_WIDTH = 1000

_ALLOWED = (
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.Pass,
    ast.Break, ast.Continue, ast.Delete,
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Compare, ast.Call, ast.keyword, ast.Constant,
    ast.JoinedStr, ast.FormattedValue, ast.Attribute, ast.Subscript, ast.Slice, ast.Name, ast.Starred,
    ast.Dict, ast.Set, ast.List, ast.Tuple, ast.ListComp, ast.SetComp, ast.DictComp, ast.comprehension,
    ast.Load, ast.Store, ast.Del, ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop,
)
_WHY_NOT = {
    ast.Import: "imports are not allowed", ast.ImportFrom: "imports are not allowed",
    ast.Lambda: "lambda functions are not allowed: they could hide code from this check",
    ast.FunctionDef: "defining functions is not allowed", ast.AsyncFunctionDef: "defining functions is not allowed",
    ast.ClassDef: "defining classes is not allowed",
    ast.GeneratorExp: "generator expressions are not allowed: use a list comprehension, [x for x in ...]",
    ast.While: "while loops are not allowed: a loop that never ends would hang the server; use for",
    ast.Try: "try/except is not allowed", ast.With: "with blocks are not allowed",
    ast.Global: "global is not allowed", ast.Nonlocal: "nonlocal is not allowed",
    ast.Yield: "yield is not allowed", ast.YieldFrom: "yield is not allowed", ast.Await: "await is not allowed",
    ast.NamedExpr: "the := operator is not allowed", ast.Raise: "raise is not allowed",
    ast.Assert: "assert is not allowed", ast.Return: "return is not allowed outside a function",
}


@dataclass
class ScriptCheck:
    """What a piece of Python reads and writes, and why it is unsafe (empty when safe)."""
    problems: list[str] = field(default_factory=list)
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)

    @property
    def safe(self) -> bool:
        return not self.problems


def check_python(source: str, *, script: bool) -> ScriptCheck:
    """Check a script (`script=True`, statements) or an expression against the allow-list.

    Returns the problems (each naming the line) and the data names the code reads
    (names that are neither known globals nor assigned by the code itself) and writes.
    """
    result = ScriptCheck()
    text = (source or "").strip()
    if not text:
        result.problems.append("is empty")
        return result
    try:
        tree = ast.parse(text, mode="exec" if script else "eval")
    except SyntaxError as error:
        result.problems.append(f"line {error.lineno or 1}: not valid Python ({error.msg})")
        return result
    loaded: set[str] = set()
    _visit(tree, result, loaded)
    loop_names = {name.id for node in ast.walk(tree) if isinstance(node, ast.comprehension)
                  for name in ast.walk(node.target) if isinstance(name, ast.Name)}
    result.reads = loaded - result.writes - known_globals()
    result.writes -= loop_names
    if not script:
        result.writes = set()
    return result


def _visit(node: ast.AST, result: ScriptCheck, loaded: set[str]) -> None:
    """Walk the tree; a construct that is refused outright is reported once, not entered."""
    problem = _node_problem(node)
    if problem:
        result.problems.append(f"line {getattr(node, 'lineno', 1)}: {problem}")
        if type(node) in _WHY_NOT or not isinstance(node, _ALLOWED):
            return
    if isinstance(node, ast.Name):
        (loaded if isinstance(node.ctx, ast.Load) else result.writes).add(node.id)
    for child in ast.iter_child_nodes(node):
        _visit(child, result, loaded)


def _node_problem(node: ast.AST) -> str | None:
    if type(node) in _WHY_NOT:
        return _WHY_NOT[type(node)]
    if not isinstance(node, _ALLOWED):
        return f"'{type(node).__name__}' is not allowed here"
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        return f"the name '{node.id}' is not allowed: names may not start with an underscore"
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            return f"'.{node.attr}' is not allowed: attributes may not start with an underscore"
        if node.attr in BLOCKED_ATTRIBUTES:
            return f"'.{node.attr}' is not allowed: use an f-string instead"
    if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        spec = node.format_spec
        if not all(isinstance(part, ast.Constant) for part in getattr(spec, "values", [spec])):
            return "a format in an f-string must be written out, not computed"
        widths = [int(n) for part in spec.values for n in re.findall(r"\d+", str(part.value))]
        if any(width > MAX_FORMAT_WIDTH for width in widths):
            return f"widths and precisions in an f-string format are allowed up to {MAX_FORMAT_WIDTH}"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = node.right
        if not (isinstance(exponent, ast.Constant) and isinstance(exponent.value, int)
                and abs(exponent.value) <= MAX_EXPONENT):
            return f"powers are allowed only with a whole-number exponent up to {MAX_EXPONENT}"
    return None

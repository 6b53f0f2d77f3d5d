"""The generic runtime knows nothing of the QA domain: no module in engine/runtime imports
engine.qa, directly or by `from engine import qa`. The domain registers what the runtime
needs (engine/runtime/instance_subjects.py, services, hooks) instead."""
import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[1] / "engine" / "runtime"


def imported_modules(source: str) -> set[str]:
    """Every module a Python source imports, with `from engine import qa` read as engine.qa."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def imports_the_domain(source: str) -> bool:
    return any(name == "engine.qa" or name.startswith("engine.qa.") for name in imported_modules(source))


def test_the_check_sees_every_way_of_importing_the_domain():
    for source in ("import engine.qa", "from engine.qa.models import Audit", "from engine import qa",
                   "def f():\n    from engine.qa import access\n"):
        assert imports_the_domain(source), source
    assert not imports_the_domain("from engine.runtime import events\nimport engine.quality")


def test_no_runtime_module_imports_the_qa_domain():
    modules = sorted(RUNTIME.rglob("*.py"))
    assert len(modules) > 20
    offenders = [path.name for path in modules if imports_the_domain(path.read_text())]
    assert offenders == []

"""A process's start declaration (process.json `start`): who may start it by hand, with
which form, about what; read by the Start page (engine/runtime/starting.py) and checked
when a model is validated."""
from engine.accounts import User
from engine.runtime.instance_subjects import ABOUT_KINDS

SCOPES = ("any", "own")


def start_declaration(manifest: dict) -> dict | None:
    """The manifest's `start` declaration, or None when nobody may start the process by hand."""
    declared = manifest.get("start")
    return declared if isinstance(declared, dict) and declared.get("roles") else None


def declaration_problems(manifest: dict, forms: dict, known_roles) -> list[str]:
    """What is wrong with a manifest's start declaration, for model validation."""
    declared = manifest.get("start")
    if declared is None:
        return []
    if not isinstance(declared, dict) or not declared.get("roles"):
        return ["start: declare the roles who may start the process as a non-empty list under 'roles'"]
    problems = [f"start: role '{role}' is not a known role" for role in declared["roles"] if role not in known_roles]
    if declared.get("scope", "any") not in SCOPES:
        problems.append(f"start: scope must be one of {', '.join(SCOPES)}")
    if declared.get("about") is not None and declared["about"] not in ABOUT_KINDS:
        problems.append(f"start: a process cannot be about '{declared['about']}' "
                        f"(one of {', '.join(sorted(ABOUT_KINDS))}, or nothing)")
    if declared.get("form") and declared["form"] not in forms:
        problems.append(f"start: form '{declared['form']}' does not exist")
    return problems


def may_start(user: User, manifest: dict) -> bool:
    declared = start_declaration(manifest)
    return declared is not None and user.has_role(*declared["roles"])

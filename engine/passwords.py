"""Choosing a password, as the NCSC advises: length over complexity, no common passwords.

No composition rules (a capital, a digit, a symbol) and no forced expiry: a long
password the person can remember, refused only when it is too short, is one of the
most common passwords (engine/data/common-passwords.txt), or is built from the
person's own username or email. The rules apply whenever a password is set; existing
hashes (the demo's included) are left alone.
"""
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from engine.accounts import User
from engine.runtime import events
from engine.sessions import end_all_sessions

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
MAX_LENGTH = 256  # far beyond any passphrase, short of making the hash a cost to the server


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 12


def password_problem(password: str, user: User, policy: PasswordPolicy) -> str | None:
    """Why `password` may not be `user`'s new password, in words for them; None if it may."""
    if len(password) < policy.min_length:
        return f"Password must be {policy.min_length} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    lowered = password.lower()
    if lowered in common_passwords():
        return "This password is too common; choose one that would be hard to guess, such as three random words"
    personal = {user.username.lower(), *(_email_parts(user.email))}
    if any(part and len(part) >= 3 and part in lowered for part in personal):
        return "Password must not contain your username or email address"
    return None


@dataclass(frozen=True)
class PasswordChange:
    current: str
    new: str
    confirm: str


def change_password(session: Session, user: User, change: PasswordChange, policy: PasswordPolicy,
                    *, keep_session_id: int | None) -> dict[str, str]:
    """Set `user`'s own new password, or say per field what is wrong and change nothing.

    On success every other session and every API token of the person ends (the one
    they changed it from, `keep_session_id`, stays), the must-change flag is cleared
    and the change is recorded. The caller commits."""
    errors = {}
    if not user.check_password(change.current):
        errors["current_password"] = "Your current password is not correct"
    problem = password_problem(change.new, user, policy)
    if problem:
        errors["new_password"] = problem
    elif change.new != change.confirm:
        errors["confirm_password"] = "Enter the same new password twice"
    elif change.new == change.current and "current_password" not in errors:
        errors["new_password"] = "Your new password must be different from your current one"
    if errors:
        return errors
    user.set_password(change.new)
    user.must_change_password = False
    events.record(session, "user.password_changed", actor_id=user.id, subject=("user", user.id))
    end_all_sessions(session, user.id, "password_changed", user.id, keep_session_id=keep_session_id)
    return {}


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The deny-list, read once per process."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _email_parts(email: str | None) -> set[str]:
    if not email:
        return set()
    local, _, _ = email.lower().partition("@")
    return {email.lower(), local}

"""Time-based one-time codes (TOTP, RFC 6238) as a second step after a local password.

A person enrols by scanning a secret into an authenticator app and proving it with a
code; only then does sign-in ask for codes. A code is accepted one 30-second step
either side of now (clocks drift), and never twice: the last step used is stored, so
a code seen over someone's shoulder is worthless once typed. Recovery codes are
random, shown once, stored only as SHA-256 digests (they carry 80 random bits, so a
slow hash adds nothing) and each works once.

The TOTP secret itself has to be readable to check codes, so it is stored as it is:
the database and its disks must be encrypted at rest (see the README).
"""
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import DateTime, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.accounts import User
from engine.clock import clock
from engine.database import Base
from engine.runtime import events

# Roles whose holders must use a second factor when the council sets QA_REQUIRE_MFA=1.
MFA_REQUIRED_ROLES = ("system_administrator", "qa_lead")
STEP_SECONDS = 30
ALLOWED_DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 8
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


class TotpCredential(Base):
    """One person's authenticator secret; `confirmed_at` is empty until they prove it works."""
    __tablename__ = "totp_credentials"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_step: Mapped[int | None] = mapped_column(Integer)


class RecoveryCode(Base):
    __tablename__ = "totp_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_digest: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TwoFactorError(Exception):
    """A refusal to show the person as it is (wrong code, nothing to confirm, …)."""


def is_enrolled(session: Session, user: User) -> bool:
    credential = session.get(TotpCredential, user.id)
    return credential is not None and credential.confirmed_at is not None


def is_required(user: User, require_mfa: bool) -> bool:
    """Whether this person may only sign in with a second factor."""
    return require_mfa and user.has_role(*MFA_REQUIRED_ROLES)


def pending_secret(session: Session, user: User) -> str:
    """The secret being set up for `user`, made on first ask and kept until confirmed,
    so reloading the page does not invalidate what they already scanned."""
    credential = session.get(TotpCredential, user.id)
    if credential is not None and credential.confirmed_at is not None:
        raise TwoFactorError("Two-factor sign-in is already set up.")
    if credential is None:
        credential = TotpCredential(user_id=user.id, secret=pyotp.random_base32(), created_at=clock.now())
        session.add(credential)
        session.flush()
    return credential.secret


def provisioning_uri(secret: str, user: User, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads (from the QR code or typed)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)


def confirm_enrolment(session: Session, user: User, code: str) -> list[str]:
    """Turn two-factor on once `code` proves the app holds the secret; returns the
    recovery codes, which are shown once and never again."""
    credential = _locked_credential(session, user)
    if credential is None or credential.confirmed_at is not None:
        raise TwoFactorError("Start setting up two-factor sign-in again.")
    step = _matching_step(credential, code)
    if step is None:
        events.record(session, "user.two_factor_failed", actor_id=user.id, subject=("user", user.id),
                      payload={"during": "enrolment"})
        raise TwoFactorError("Enter the 6-digit code your authenticator app shows now")
    credential.confirmed_at = clock.now()
    credential.last_used_step = step
    codes = _replace_recovery_codes(session, user)
    events.record(session, "user.two_factor_enrolled", actor_id=user.id, subject=("user", user.id),
                  payload={"recovery_codes": len(codes)})
    return codes


def verify(session: Session, user: User, code: str, *, during: str = "sign_in") -> str:
    """Accept a current authenticator code or an unused recovery code for an enrolled person.

    Returns which kind was used ("totp" or "recovery_code"); a wrong, stale or reused
    code is recorded as a failure and raises TwoFactorError."""
    credential = _locked_credential(session, user)
    if credential is None or credential.confirmed_at is None:
        raise TwoFactorError("Two-factor sign-in is not set up.")
    step = _matching_step(credential, code)
    if step is not None:
        credential.last_used_step = step
        return "totp"
    recovery = _unused_recovery_code(session, user, code)
    if recovery is not None:
        recovery.used_at = clock.now()
        events.record(session, "user.recovery_code_used", actor_id=user.id, subject=("user", user.id),
                      payload={"during": during, "left": recovery_codes_left(session, user)})
        return "recovery_code"
    events.record(session, "user.two_factor_failed", actor_id=user.id, subject=("user", user.id),
                  payload={"during": during})
    raise TwoFactorError("Enter a correct code from your authenticator app, or an unused recovery code")


def disable(session: Session, user: User, code: str, require_mfa: bool) -> None:
    """Turn two-factor off after a valid code, unless this person is required to have it."""
    if is_required(user, require_mfa):
        raise TwoFactorError("Your role must use two-factor sign-in, so it cannot be turned off.")
    verify(session, user, code, during="disable")
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    events.record(session, "user.two_factor_disabled", actor_id=user.id, subject=("user", user.id))


def _locked_credential(session: Session, user: User) -> TotpCredential | None:
    """Read under a row lock, so two sign-ins racing with one code cannot both use it."""
    return session.get(TotpCredential, user.id, with_for_update=True, populate_existing=True)


def _matching_step(credential: TotpCredential, code: str) -> int | None:
    """The time step whose code this is, within the drift window and after the last one used."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(credential.secret, interval=STEP_SECONDS)
    now_step = int(clock.now().timestamp()) // STEP_SECONDS
    for step in range(now_step - ALLOWED_DRIFT_STEPS, now_step + ALLOWED_DRIFT_STEPS + 1):
        if credential.last_used_step is not None and step <= credential.last_used_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _replace_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(4))
             for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_digest=_digest(code)) for code in codes)
    return codes


def _unused_recovery_code(session: Session, user: User, code: str) -> RecoveryCode | None:
    normalised = "".join(code.lower().split()).replace("-", "")
    if len(normalised) != 16:
        return None
    spelled = "-".join(normalised[i:i + 4] for i in range(0, 16, 4))
    return session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_digest == _digest(spelled),
        RecoveryCode.used_at.is_(None)).with_for_update())


def recovery_codes_left(session: Session, user: User) -> int:
    """How many recovery codes this person has not used yet."""
    return len(session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()

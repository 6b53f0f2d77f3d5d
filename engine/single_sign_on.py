"""Who a verified OpenID Connect ID token belongs to, and which roles it gives them.

The web layer (Authlib) has already checked the token's signature, issuer, audience,
expiry and nonce; this module only decides. A person is found by the provider's stable
id (Entra ID's `oid`, otherwise `sub`), or at their first single sign-on by email, after
which the id is stored on them. Roles either come from the token (`roles` or `groups`)
through the council's mapping, replacing the person's roles at every sign-in, or stay
managed in the product when no mapping is configured. Nobody unknown gets in unless
provisioning is on. Every outcome is an event in the trail.
"""
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.accounts import NO_PASSWORD, ROLES, User, UserRole
from engine.organisation import directory
from engine.runtime import events

ROLE_CLAIMS = ("roles", "groups")


class SignInRefused(Exception):
    """The token is genuine but this person may not sign in; `reason` goes in the trail."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.subject = self.email = ""


@dataclass(frozen=True)
class SsoPolicy:
    """The council's choices: where roles come from and whether strangers are created."""
    role_claim: str | None = None
    role_map: Mapping[str, frozenset[str]] = field(default_factory=dict)
    provisioning: bool = False

    @property
    def maps_roles(self) -> bool:
        return self.role_claim is not None

    def roles_from(self, claims: Mapping) -> set[str]:
        values = claims.get(self.role_claim) or []
        if isinstance(values, str):
            values = [values]
        return {role for value in values for role in self.role_map.get(str(value), ())}


def policy_from_settings(role_claim: str, role_map: str, provisioning: bool) -> SsoPolicy:
    """Read QA_OIDC_ROLE_CLAIM / QA_OIDC_ROLE_MAP / QA_OIDC_PROVISIONING; a mistake stops
    the app at start-up with a message naming it, rather than signing people in wrongly."""
    role_claim = role_claim.strip() or None
    if role_claim is not None and role_claim not in ROLE_CLAIMS:
        raise ValueError(f"QA_OIDC_ROLE_CLAIM must be one of {', '.join(ROLE_CLAIMS)}, not {role_claim!r}")
    mapping = parse_role_map(role_map)
    if role_claim is None and mapping:
        raise ValueError("QA_OIDC_ROLE_MAP is set but QA_OIDC_ROLE_CLAIM is not (roles or groups)")
    if role_claim is not None and not mapping:
        raise ValueError("QA_OIDC_ROLE_CLAIM is set but QA_OIDC_ROLE_MAP maps nothing")
    return SsoPolicy(role_claim, mapping, provisioning)


def parse_role_map(text: str) -> dict[str, frozenset[str]]:
    """`{"claim value": "role" or ["role", …]}` as JSON, or `value=role,value=role`
    (a value may be named twice to give two roles). Unknown roles are an error."""
    text = text.strip()
    if not text:
        return {}
    pairs: list[tuple[str, str]] = []
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"QA_OIDC_ROLE_MAP is not valid JSON: {error}") from None
        for value, roles in loaded.items():
            pairs += [(value, role) for role in ([roles] if isinstance(roles, str) else roles)]
    else:
        for item in filter(None, (part.strip() for part in re.split(r"[,\n]", text))):
            value, equals, role = item.rpartition("=")
            if not equals or not value.strip():
                raise ValueError(f"QA_OIDC_ROLE_MAP entry {item!r} is not claim_value=role")
            pairs.append((value.strip(), role.strip()))
    unknown = sorted({role for _, role in pairs if role not in ROLES})
    if unknown:
        raise ValueError(f"QA_OIDC_ROLE_MAP names unknown roles: {', '.join(unknown)}")
    mapping: dict[str, set[str]] = {}
    for value, role in pairs:
        mapping.setdefault(value, set()).add(role)
    return {value: frozenset(roles) for value, roles in mapping.items()}


def sign_in_from_claims(session: Session, claims: Mapping, policy: SsoPolicy) -> tuple[User, str]:
    """The person these verified claims belong to, with roles brought up to date, and
    how they were found ("subject", "email" or "provisioned").

    Raises SignInRefused when nobody matches, the match is inactive or ambiguous, or
    the mapping gives them no role; the caller rolls back and calls `record_refusal`,
    so a refusal changes nothing but the trail."""
    subject = str(claims.get("oid") or claims.get("sub") or "")
    email = str(claims.get("email") or claims.get("preferred_username") or "").strip().lower()
    try:
        if not subject:
            raise SignInRefused("no_subject", "Your council account did not say who you are.")
        user, matched_by = _find_person(session, subject, email)
        if user is None:
            user, matched_by = _provision(session, subject, email, claims, policy), "provisioned"
        if not user.active:
            raise SignInRefused("inactive", "Your account here is not active. Ask your system administrator.")
        if policy.maps_roles:
            _replace_roles(session, user, policy.roles_from(claims), policy.role_claim)
            if not user.roles:
                raise SignInRefused("no_role", "Your council account gives you no role in this service.")
    except SignInRefused as refusal:
        refusal.subject, refusal.email = subject, email
        raise
    return user, matched_by


def record_refusal(session: Session, reason: str, subject: str = "", email: str = "") -> None:
    """Put a refused single sign-on in the trail: why, and who the provider said it was."""
    events.record(session, "user.sso_sign_in_refused",
                  payload={"reason": reason[:200], "subject": subject[:255], "email": email[:200]})


def _find_person(session: Session, subject: str, email: str) -> tuple[User | None, str]:
    user = session.scalar(select(User).where(User.oidc_subject == subject))
    if user is not None:
        return user, "subject"
    if not email:
        return None, ""
    matches = session.scalars(select(User).where(func.lower(User.email) == email)).all()
    if len(matches) > 1:
        raise SignInRefused("ambiguous_email", "More than one account here has your email address. "
                                               "Ask your system administrator.")
    if not matches:
        return None, ""
    user = matches[0]
    if user.oidc_subject is not None:
        # Linked to another identity already: an email moved between people must not
        # hand one person's account to the next.
        raise SignInRefused("linked_to_another_identity", "Your account here belongs to a different council "
                                                          "account. Ask your system administrator.")
    user.oidc_subject = subject
    events.record(session, "user.sso_linked", actor_id=user.id, subject=("user", user.id),
                  payload={"matched_by": "email"})
    return user, "email"


def _provision(session: Session, subject: str, email: str, claims: Mapping, policy: SsoPolicy) -> User:
    """Create the person through the organisation service, as an administrator would (the
    same checks and the same events), with no local password and the provider's id on them."""
    if not policy.provisioning:
        raise SignInRefused("unknown_person", "There is no account here for you. Ask your system administrator.")
    if policy.maps_roles and not policy.roles_from(claims):
        raise SignInRefused("no_role", "Your council account gives you no role in this service.")
    details = directory.PersonDetails(username=_free_username(session, email or subject),
                                      display_name=str(claims.get("name") or email or subject)[:120],
                                      email=email or "")
    try:
        user, _ = directory.create_person(session, None, details, password_hash=NO_PASSWORD,
                                          reason="provisioned at their first single sign-on")
    except directory.OrganisationError as problem:
        raise SignInRefused("cannot_provision", f"Your account could not be made here: {problem}")
    user.oidc_subject = subject
    session.flush()
    events.record(session, "user.provisioned", subject=("user", user.id),
                  payload={"username": user.username, "via": "oidc"})
    return user


def _replace_roles(session: Session, user: User, wanted: set[str], claim: str) -> None:
    """Make the person's roles exactly `wanted`, one event per grant or removal."""
    why = {"via": "oidc", "reason": f"role mapping from the {claim} claim"}
    for row in [row for row in user.role_rows if row.role not in wanted]:
        user.role_rows.remove(row)
        events.record(session, "user.role_removed", subject=("user", user.id), payload={"role": row.role, **why})
    for role in sorted(wanted - user.roles):
        user.role_rows.append(UserRole(role=role))
        events.record(session, "user.role_granted", subject=("user", user.id), payload={"role": role, **why})
    session.flush()


def _free_username(session: Session, wanted: str) -> str:
    base = wanted[:72]
    candidate, n = base, 1
    while session.scalar(select(User.id).where(User.username == candidate)) is not None:
        n += 1
        candidate = f"{base}.{n}"
    return candidate

"""People who use the system, their roles, and how they prove who they are.

Passwords are stored as salted hashes (Werkzeug's scrypt); API bearer tokens are
random and stored only as a SHA-256 digest, so a database leak yields no usable
credential. Tokens expire, can be revoked, and die with a password change
(engine.sessions.end_all_sessions).
"""
import hashlib
import secrets
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, false, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from engine.clock import clock
from engine.database import Base, as_utc
from engine.runtime import events

ROLES = {
    "practitioner": "Practitioner (social worker)",
    "team_manager": "Team manager",
    "head_of_service": "Head of service",
    "principal_social_worker": "Principal social worker",
    "qa_lead": "Quality assurance lead",
    "qa_officer": "Quality assurance officer",
    "reviewing_officer": "Independent reviewing officer",
    "conference_review_manager": "Conference and review manager",
    "assistant_director": "Assistant director",
    "director": "Director of children's services",
    "process_owner": "Process owner",
    "participation_officer": "Participation officer",
    "system_administrator": "System administrator",
    "partner_agency": "Partner agency auditor (sees only the multi-agency audits they are invited to)",
}

TOKEN_LIFETIME = timedelta(hours=8)
# The password hash of a person who signs in only through single sign-on: no
# password ever matches it (Werkzeug refuses a hash without a method and salt).
NO_PASSWORD = "!"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", use_alter=True, name="fk_users_team_id_teams"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The identity provider's stable id for this person (Entra ID `oid`, else `sub`),
    # stored at their first single sign-on so later sign-ins never depend on email.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The organisation (engine/organisation) keeps these; `version` guards against two
    # administrators overwriting each other's edit of the same person.
    employee_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    line_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active_from: Mapped[date | None] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    role_rows: Mapped[list["UserRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return self.has_password and check_password_hash(self.password_hash, password)

    @property
    def has_password(self) -> bool:
        """False for people who only ever sign in through the council's identity provider."""
        return self.password_hash != NO_PASSWORD

    # Flask-Login protocol, kept here so the web layer needs no wrapper class.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def is_live(self) -> bool:
        return self.revoked_at is None and as_utc(self.expires_at) > clock.now()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (never says which part was wrong).

    A password hash is computed whether or not the username exists (against a dummy
    hash for an unknown one), so the time taken does not tell a guesser which
    usernames are real."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash made the same way as real ones, of a password nobody knows."""
    return generate_password_hash(secrets.token_urlsafe(16))


def issue_api_token(session: Session, user: User) -> tuple[str, datetime]:
    """Create a bearer token for `user`; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    expires_at = now + TOKEN_LIFETIME
    session.add(ApiToken(token_digest=secret_digest(token), user_id=user.id, expires_at=expires_at,
                         created_at=now))
    return token, expires_at


def live_api_token(session: Session, token: str) -> tuple[ApiToken, User] | None:
    """The stored token and its person, if the bearer token is unexpired, unrevoked and
    its person active; otherwise None.

    A person who must change their password gets nothing through the API until
    they have, as on the pages."""
    found = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                            .where(ApiToken.token_digest == secret_digest(token))
                            .options(joinedload(User.role_rows))).unique().first()
    # One query for the token, its person and their roles: it runs before every API request.
    if found is None:
        return None
    row, user = found
    if not row.is_live() or not user.active or user.must_change_password:
        return None
    return row, user


def live_api_tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """A person's tokens that still work, newest first, for them to see and revoke."""
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                           .order_by(ApiToken.id.desc())).all()
    return [row for row in rows if row.is_live()]


def revoke_api_token(session: Session, row: ApiToken) -> bool:
    """Revoke one token now, at its owner's request, and record it (the caller commits).

    Revoking a token already revoked changes nothing and returns False."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = clock.now()
    events.record(session, "api.token_revoked", actor_id=row.user_id, subject=("user", row.user_id),
                  payload={"token_id": row.id})
    return True


def secret_digest(secret: str) -> str:
    """SHA-256 of a random bearer secret (API token, session key): what the database keeps."""
    return hashlib.sha256(secret.encode()).hexdigest()

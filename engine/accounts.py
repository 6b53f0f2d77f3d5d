"""People who use the system, their roles, and how they prove who they are.

Passwords are stored as salted hashes (Werkzeug's scrypt); API bearer tokens are
random and stored only as a SHA-256 digest, so a database leak yields no usable
credential.
"""
import hashlib
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from engine.database import Base, as_utc, utcnow

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


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (never says which part was wrong)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def issue_api_token(session: Session, user: User) -> tuple[str, datetime]:
    """Create a bearer token for `user`; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + TOKEN_LIFETIME
    session.add(ApiToken(token_digest=_digest(token), user_id=user.id, expires_at=expires_at))
    return token, expires_at


def user_for_token(session: Session, token: str) -> User | None:
    """The user a live bearer token belongs to, or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_digest == _digest(token)))
    if row is None or as_utc(row.expires_at) < utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

"""What allocating an audit reads: the case, its audits, the people, the process version,
the grading scale and the count behind the next audit reference.

One allocation reads each of these as it checks its rules, one query at a time. A
batch (a cycle's confirmation starting hundreds of audits in one transaction) reads
them for every case at once with `preload`, and each allocation then finds its facts
in memory. The facts hold what they read, so the session keeps those objects (its
identity map alone holds them weakly), and are kept in step with the audits the batch
itself allocates: an allocation in a batch is checked exactly as it would be alone.
"""
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.qa import case_references
from engine.qa.grading_scale import GradingScale, scale_of_version, seed_scale
from engine.qa.models import Audit, Case
from engine.runtime.models import ProcessVersion
from engine.runtime.registry import latest_version

RECENT_AUDIT_DAYS = 365
SCALE_PROCESS_KEY = "case_file_audit"  # new audits grade on the newest case file audit's scale


def audit_reference_count(session: Session, year: int) -> int:
    """How many audit references `year` has given out (the next one is this plus one)."""
    return session.scalar(select(func.count(Audit.id)).where(Audit.reference.like(f"AUD-{year}-%"))) or 0


def latest_audit_since(session: Session, case_id: int, since: date) -> Audit | None:
    """The case's latest audit allocated on or after `since`, if any."""
    return session.scalar(select(Audit).where(Audit.case_id == case_id, func.date(Audit.allocated_at) >= since)
                          .order_by(Audit.allocated_at.desc()).limit(1))


class AllocationFacts:
    """The facts allocations read, each read once and kept for the transaction's batch.

    Created for `today`: the recent audits it preloads count back from that day, and a
    question about another day (a batch running past midnight) is asked of the database."""

    def __init__(self, session: Session, today: date):
        self.session, self.today = session, today
        self._cases: dict[str, Case | None] = {}
        self._open_audits: dict[int, Audit | None] = {}
        self._recent_audits: dict[int, Audit | None] = {}
        self._people: dict[int, User | None] = {}
        self._versions: dict[str, ProcessVersion | None] = {}
        self._scale: GradingScale | None = None
        self._references: dict[int, int] = {}

    @classmethod
    def preload(cls, session: Session, today: date, case_references_wanted: Iterable[str],
                people: Iterable[int], process_keys: Iterable[str]) -> "AllocationFacts":
        """Everything a batch of allocations reads, in a few queries whatever its size."""
        facts = cls(session, today)
        references = {case_references.normalised(reference) for reference in case_references_wanted}
        facts._cases = dict.fromkeys(references)
        facts._cases.update({case.reference: case for case in session.scalars(
            select(Case).where(Case.reference.in_(references)))})
        case_ids = [case.id for case in facts._cases.values() if case is not None]
        facts._open_audits = dict.fromkeys(case_ids)
        for audit in session.scalars(select(Audit).where(Audit.case_id.in_(case_ids), Audit.status != "closed")):
            facts._open_audits[audit.case_id] = facts._open_audits[audit.case_id] or audit
        facts._recent_audits = dict.fromkeys(case_ids)
        for audit in session.scalars(select(Audit).where(Audit.case_id.in_(case_ids),
                                                         func.date(Audit.allocated_at) >= facts._since(today))
                                     .order_by(Audit.allocated_at.desc())):
            facts._recent_audits[audit.case_id] = facts._recent_audits[audit.case_id] or audit
        # The auditors and moderators, and the cases' team managers (the cycle tells them what was drawn).
        wanted_people = {person for person in people if person} | {
            case.team.manager_id for case in facts._cases.values() if case is not None and case.team.manager_id}
        facts._people = dict.fromkeys(wanted_people)
        facts._people.update({user.id: user for user in session.scalars(select(User).where(User.id.in_(wanted_people)))})
        for key in {*process_keys, SCALE_PROCESS_KEY}:
            facts.version(key)
        return facts

    def case(self, reference: str) -> Case | None:
        """The case with this (normalised) reference."""
        if reference not in self._cases:
            self._cases[reference] = self.session.scalar(select(Case).where(Case.reference == reference))
        return self._cases[reference]

    def open_audit(self, case_id: int) -> Audit | None:
        """An audit of the case still under way, if any."""
        if case_id not in self._open_audits:
            self._open_audits[case_id] = self.session.scalar(
                select(Audit).where(Audit.case_id == case_id, Audit.status != "closed"))
        return self._open_audits[case_id]

    def recent_audit(self, case_id: int, today: date) -> Audit | None:
        """The case's latest audit allocated in the 12 months before `today`, if any."""
        if today != self.today:
            return latest_audit_since(self.session, case_id, self._since(today))
        if case_id not in self._recent_audits:
            self._recent_audits[case_id] = latest_audit_since(self.session, case_id, self._since(today))
        return self._recent_audits[case_id]

    def person(self, user_id: int) -> User | None:
        if user_id not in self._people:
            self._people[user_id] = self.session.get(User, user_id)
        return self._people[user_id]

    def version(self, process_key: str) -> ProcessVersion | None:
        """The newest published version of `process_key`: the one an audit starts."""
        if process_key not in self._versions:
            self._versions[process_key] = latest_version(self.session, process_key)
        return self._versions[process_key]

    def scale(self) -> GradingScale:
        """The grading scale new audits grade on (that of the version a case file audit starts)."""
        if self._scale is None:
            version = self.version(SCALE_PROCESS_KEY)
            self._scale = scale_of_version(version) if version is not None else seed_scale()
        return self._scale

    def next_reference(self, year: int) -> str:
        """The reference the next audit allocated in `year` takes."""
        if year not in self._references:
            self._references[year] = audit_reference_count(self.session, year)
        return f"AUD-{year}-{self._references[year] + 1:05d}"

    def allocated(self, audit: Audit, year: int) -> None:
        """Keep the facts in step with an audit just allocated with `next_reference(year)`
        (written or not yet): it is its case's audit under way and its latest, and its
        reference is taken."""
        self._open_audits[audit.case_id] = self._open_audits.get(audit.case_id) or audit
        self._recent_audits[audit.case_id] = audit
        self._references[year] += 1

    @staticmethod
    def _since(today: date) -> date:
        return today - timedelta(days=RECENT_AUDIT_DAYS)

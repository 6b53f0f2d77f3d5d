"""A timer's escalation goes out by email to a real SMTP server on this machine."""
from datetime import datetime, timezone

from engine.clock import clock
from engine.database import make_session_factory
from engine.email_delivery import deliver_outbox
from engine.qa.models import COHORTS
from engine.runtime.timers import fire_due_timers
from tests.test_notifications import smtp_server  # noqa: F401  (fixture)
from tests.test_timescales import OVERDUE, _allocate


def test_overdue_audit_emails_the_auditor_and_the_team_manager(session, database_url, smtp_server):  # noqa: F811
    audit = _allocate(session)
    case, manager = audit.case, audit.team_manager_id
    team_name, cohort_label, age_band = case.team.name, COHORTS[case.cohort], case.age_band
    from engine.accounts import User
    addresses = {person: session.get(User, person).email for person in (audit.auditor_id, manager)}
    session.rollback()
    factory = make_session_factory(database_url)
    clock.set(datetime(2026, 12, 31, 8, 0, 1, tzinfo=timezone.utc))
    assert OVERDUE < clock.now() and fire_due_timers(factory) == 1
    assert deliver_outbox(factory) == 3  # the auditor's new task (at allocation), overdue; the manager's escalation

    received = {(to[0], message["Subject"]): message for to, message in smtp_server.messages}
    reference = f"case {case.reference}, {audit.reference}"
    escalation = received[(addresses[manager], f"Escalation: the audit is overdue ({reference})")]
    assert (addresses[audit.auditor_id], f"Overdue: the audit was due on 30 December 2026 ({reference})") in received
    plain = escalation.get_body(("plain",)).get_content()
    html = escalation.get_body(("html",)).get_content()
    for body in (plain, html):
        assert f"https://audit.northbridge.example/audits/{audit.id}" in body
        assert "was due on 30 December 2026 and is 1 working day overdue" in body
        assert case.reference in body
        assert team_name not in body and cohort_label not in body and age_band not in body
    assert "<h1" in html and "Escalation: the audit is overdue" in html
    factory.kw["bind"].dispose()

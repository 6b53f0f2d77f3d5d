"""Reports, exports and retention on PostgreSQL, the production database.

The SQL aggregates, the date arithmetic and the generator's bulk inserts differ by
dialect; this runs the hand-computed report of tests/test_reports.py, an export and
retention against a database of its own on the server named by QA_TEST_POSTGRES_URL.
"""
import json
import zipfile
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from engine.clock import clock
from engine.qa import reports, retention
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.demo_history import AuditPlan, write_history
from engine.qa.models import Case, Team
from engine.qa.trail_export import ExportFilters, request_export, run_export
from engine.runtime.events import verify_chain
from tests.conftest import user_named
from tests.postgres.conftest import (postgres_server_url, postgres_url, seeded_postgres_template,  # noqa: F401
                                     session, session_factory)
from tests.test_reports import AS_OF, PLANS

pytestmark = pytest.mark.postgres


def test_the_hand_computed_report_holds_on_postgresql(session):  # noqa: F811
    write_history(session, PLANS)
    session.commit()
    report = reports.build_report(session, reports.cycles_of_year(2025)[0], as_of=AS_OF)
    assert report["completion"]["totals"] == {"allocated": 6, "completed": 5, "on_time": 4, "overdue": 1,
                                              "moderated": 4, "rate": 83.3, "on_time_rate": 80.0}
    assert report["grades"]["overall"] == {"outstanding": 1, "good": 2, "requires_improvement": 1, "inadequate": 1}
    assert report["actions"] == {"total": 4, "completed": 3, "completed_on_time": 2, "open": 1, "overdue": 1,
                                 "cancelled": 0, "on_time_rate": 66.7, "median_days_to_close": 20}
    assert (report["moderation"]["agreement_rate"], report["inadequate"]["median_hours_to_notify"]) == (50.0, 2.0)
    # The generator gave ids itself: live inserts after it still get fresh ones.
    case = session.scalar(select(Case).join(Team).where(Team.name == "Leaving Care 1").order_by(Case.id))
    allocate_audit(session, AllocationRequest(case.reference, user_named(session, "tm.mash1").id,
                                              user_named(session, "hos.disabled").id), user_named(session, "qa.lead"))
    session.commit()


def test_export_and_retention_on_postgresql(session, session_factory, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("QA_EXPORT_DIR", str(tmp_path))
    write_history(session, PLANS + [AuditPlan("MASH 1", date(2024, 4, 2), "good", moderated_grade="good", closed=True)])
    export = request_export(session, user_named(session, "qa.lead"), ExportFilters(date(2025, 4, 1), date(2025, 6, 30)))
    session.commit()
    done = run_export(session_factory, export.id, tmp_path)
    assert done.status == "done", done.error
    with zipfile.ZipFile(tmp_path / done.file_name) as archive:
        assert json.loads(archive.read("manifest.json"))["counts"]["audits"] == len(PLANS)
    clock.set(datetime(2032, 6, 1, tzinfo=timezone.utc))
    assert retention.apply_retention(session)["audits_anonymised"] == 1  # the one closed in 2024
    session.commit()
    assert verify_chain(session).ok

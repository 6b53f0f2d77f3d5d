"""Compliance measures and the impact for the child in the reports, against figures worked
out by hand from a small stated history, and the small-number rule for viewers who cannot
open the audits behind a figure.

Six audits in cycle 1 of 2025/26 (written by the direct generator; every question is
answered Yes and one social worker counted unless a plan says otherwise):

  P1 MASH 1, Good, moderated (agreed)           seen: yes
  P2 MASH 1, RI, moderated                       seen: no;  smart plan: partly, moderator: no
  P3 Children in Care 1, Good, not moderated     seen: partly; impact: worse
  P4 Children in Care 1, Good, moderated         seen: N/A
  P5 MASH 1, never graded                        (no findings)
  P6 MASH 1, Outstanding, not moderated          seen: yes; three social workers

Seen in line with the plan (N/A left out): yes 2, partly 1, no 1 of 4 -> 50%, 25%, 25%.
Plan SMART as it stands (P2 the moderator's "no"): yes 4 of 5 -> 80%, no 20%.
By team, seen: MASH 1 yes 2 of 3 -> 66.7%; Children in Care 1 yes 0 of 1 -> 0%.
Impact: improved 4, worse 1 of 5 -> 80% / 20%. Social workers: 1, 1, 1, 1, 3 -> median 1,
three or more 1 of 5 -> 20%.
"""
import io
from datetime import date

import pytest
from pypdf import PdfReader

from engine.qa import reports
from engine.qa.access import audit_scope
from engine.qa.demo_history import AuditPlan, write_history
from tests.conftest import sign_in, user_named

AS_OF = date(2025, 7, 1)
SEEN = "child_voice.seen_in_line_with_plan"
SMART = "planning.smart_plan"
PLANS = [
    AuditPlan("MASH 1", date(2025, 4, 2), "good", moderated_grade="good"),
    AuditPlan("MASH 1", date(2025, 4, 3), "requires_improvement", moderated_grade="requires_improvement",
              answers={SEEN: "no", SMART: "partly"}, moderated_answers={SMART: "no"}),
    AuditPlan("Children in Care 1", date(2025, 4, 4), "good", answers={SEEN: "partly"}, impact="worse"),
    AuditPlan("Children in Care 1", date(2025, 4, 7), "good", moderated_grade="good",
              answers={SEEN: "not_applicable"}),
    AuditPlan("MASH 1", date(2025, 4, 8), None),
    AuditPlan("MASH 1", date(2025, 4, 9), "outstanding",
              answers={"management_oversight.social_workers_in_12_months": "3"}),
]


@pytest.fixture
def history(session):
    write_history(session, PLANS)
    session.commit()
    return session


def report_for(session, username: str | None):
    extra = audit_scope(user_named(session, username)) if username else None
    return reports.build_report(session, reports.cycles_of_year(2025)[0], reports.Scope(extra=extra), as_of=AS_OF)


def question(report, area, key):
    return next(q for q in report["compliance"]["questions"] if (q["area"], q["key"]) == (area, key))


def shares(cells):
    return {answer: cell["share"] for answer, cell in cells.items()}


def test_each_question_shares_by_hand_for_the_qa_lead(history):
    report = report_for(history, "qa.lead")
    assert report["small_numbers_hidden"] is False
    seen = question(report, "child_voice", "seen_in_line_with_plan")
    assert seen["label"].startswith("Was the child seen in line with the plan")
    assert (seen["base"], seen["not_applicable"]) == (4, 1)
    assert {a: c["count"] for a, c in seen["answers"].items()} == {"yes": 2, "partly": 1, "no": 1}
    assert shares(seen["answers"]) == {"yes": 50.0, "partly": 25.0, "no": 25.0}
    assert seen["trend"][-1]["share"] == 50.0 and len(seen["trend"]) == len(report["trend"])
    assert shares(question(report, "planning", "smart_plan")["answers"]) == {"yes": 80.0, "partly": 0.0, "no": 20.0}
    # The six areas' 25, and the 4 children in care questions P3 and P4 (children in care) were asked.
    assert len(report["compliance"]["questions"]) == 29
    assert question(report, "children_in_care", "placement_stability")["base"] == 2

    headlines = report["compliance"]["headlines"]
    seen_column = headlines["measures"].index("Children seen in line with the plan, and alone where appropriate")
    by_team = {row["label"]: row["cells"][seen_column]["share"] for row in headlines["by"]["team"]}
    assert by_team == {"MASH 1": 66.7, "Children in Care 1": 0.0}
    assert headlines["overall"][seen_column]["share"] == 50.0
    workers = report["compliance"]["worker_changes"]
    assert (workers["median"], workers["three_or_more"]["share"], workers["base"]) == (1, 20.0, 5)

    impact = report["impact"]
    assert impact["base"] == 5 and shares(impact["overall"]) == {"improved": 80.0, "no_change": 0.0, "worse": 20.0}
    by_team = {row["label"]: shares(row["cells"]) for row in impact["by"]["team"]}
    assert by_team["Children in Care 1"] == {"improved": 50.0, "no_change": 0.0, "worse": 50.0}


def test_figures_on_fewer_than_five_audits_are_hidden_from_a_viewer_who_cannot_open_them(history):
    report = report_for(history, "hos.cic")  # sees Children in Care audits, not MASH's
    assert report["small_numbers_hidden"] is True
    seen = question(report, "child_voice", "seen_in_line_with_plan")
    assert seen["base"] == 4 and all(c["hidden"] and c["share"] is None and c["count"] is None
                                     for c in seen["answers"].values())
    smart = question(report, "planning", "smart_plan")  # five audits: shown
    assert shares(smart["answers"]) == {"yes": 80.0, "partly": 0.0, "no": 20.0}
    teams = {row["label"]: row["cells"] for row in report["impact"]["by"]["team"]}
    assert all(cell["hidden"] for cell in teams["Children in Care 1"].values())
    assert report["compliance"]["worker_changes"]["median"] == 1  # five counted


def test_the_report_page_shows_the_measures_and_says_fewer_than_5(app, history, client):
    sign_in(client, "hos.cic")
    page = client.get("/reports?period=cycle:2025-04-01&service=").text
    assert "Compliance with practice standards" in page
    assert "fewer than 5" in page
    assert "What has changed for the child" in page
    qa = app.test_client()
    sign_in(qa, "qa.lead")
    page = qa.get("/reports?period=cycle:2025-04-01").text
    assert "fewer than 5" not in page
    assert "Was the child seen in line with the plan or statutory frequency" in page and "50.0%" in page


def test_the_report_pdf_carries_the_measures_with_the_same_rule(app, history):
    def pdf_text(username):
        browser = app.test_client()
        sign_in(browser, username)
        response = browser.get("/reports/report.pdf?period=cycle:2025-04-01&service=")
        return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).split())
    lead = pdf_text("qa.lead")
    assert "What has changed for the child" in lead and "Compliance with practice standards: every question" in lead
    assert "Was the child seen in line with the plan or statutory frequency" in lead
    assert "2 (50%) 1 (25%) 1 (25%) 1" in lead and "fewer than 5" not in lead
    assert "4 (80%) 0 (0%) 1 (20%)" in lead
    outsider = pdf_text("hos.cic")
    assert "fewer than 5" in outsider and "2 (50%) 1 (25%)" not in outsider

"""The case profile and cohort in the audit: passed into the process data, shown on the
audit and task pages, in the API's audit record and in the per-audit PDF with human labels;
the audit tool asks a child in care's own questions and not a child in need's, requires
them only when shown, and the compliance measures count them among the audits asked."""
import html
import json
import re
from datetime import date, timedelta

from sqlalchemy import func, select

from engine.clock import clock
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.compliance import Suppression, compliance
from engine.qa.demo_history import AuditPlan, write_history
from engine.qa.finding_models import AuditFinding
from engine.qa.models import Audit, Case, Team
from engine.qa.retention import apply_retention
from engine.runtime.instances import task_data
from engine.runtime.models import Event, HumanTask, ProcessInstance
from tests import answers
from tests.conftest import user_named
from tests.test_api import bearer, token_for
from tests.test_trail_export import export_dir, june_2025_audit_pdf_text  # noqa: F401
from tests.test_web_lifecycle import Browsers, allocate_through_the_page, do_task, open_tasks, people_of, posted, read

PLACEMENT = "Is the placement stable and meeting the child"
PROFILE = {"legal_status": "care_order", "placement_moves_12_months": 3, "missing_episodes_12_months": 1,
           "disability": True, "first_language": "Polish", "referrals_12_months": 0, "s47_enquiries_12_months": 0}


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def case_of_cohort(session, cohort: str, profile: dict | None = None) -> str:
    """An open case of `cohort` outside tm.mash1's team (the auditor), given `profile`."""
    def query(s):
        manager = user_named(s, "tm.mash1")
        case = s.scalars(select(Case).join(Team).where(Case.cohort == cohort, Team.manager_id != manager.id,
                                                       Case.status == "open").order_by(Case.id)).first()
        for key, value in (profile or {}).items():
            setattr(case, key, value)
        s.commit()
        return case.reference
    return read(session, query)


def audit_tool_task(session, audit_id: int) -> tuple[int, str]:
    instance_id = read(session, lambda s: s.get(Audit, audit_id).instance_id)
    return open_tasks(session, instance_id, "complete_audit_tool")[0]


def test_a_child_in_cares_audit_asks_their_own_questions_and_shows_the_profile(app, session):
    browsers = Browsers(app)
    audit_id = allocate_through_the_page(session, browsers, case_of_cohort(session, "child_in_care", PROFILE))
    who = people_of(session, audit_id)
    data = read(session, lambda s: task_data(s, s.scalar(select(HumanTask).where(
        HumanTask.instance_id == s.get(Audit, audit_id).instance_id, HumanTask.state == "ready"))))
    assert data["cohort"] == "child_in_care"
    assert data["case_profile"]["legal_status"] == "care_order" and data["case_profile"]["placement_moves_12_months"] == 3
    do_task(session, browsers, audit_id, "prepare_audit", who["auditor"], answers.PREPARE)

    task_id, form_key = audit_tool_task(session, audit_id)
    auditor = browsers[who["auditor"]]
    page = text_of(auditor.get(f"/tasks/{task_id}").text)
    assert "Cohort Child in care" in page and "Children in care" in page and PLACEMENT in page
    assert "Is there a permanence plan" in page and "Is the pathway plan current" not in page and "Were core groups held" not in page
    assert "Legal status Care order (section 31)" in page and "Placement moves in the last 12 months 3" in page

    without = {key: value for key, value in answers.audit_tool().items() if key != "children_in_care"}
    refused = auditor.post(f"/tasks/{task_id}", data=posted(form_key, without))
    assert refused.status_code == 422
    assert f"Select an answer for: {PLACEMENT}" in text_of(refused.text)
    done = auditor.post(f"/tasks/{task_id}", data=posted(form_key, answers.audit_tool()))
    assert done.status_code == 302
    stored = read(session, lambda s: {(f.area, f.question): f.answer for f in s.scalars(
        select(AuditFinding).where(AuditFinding.audit_id == audit_id))})
    assert stored[("children_in_care", "placement_stability")] == "yes"
    assert stored[("children_in_care", "education")] == "no"
    assert not any(area in ("care_leavers", "child_protection") for area, _ in stored)

    before = read(session, lambda s: s.scalar(select(func.count(Event.seq)).where(Event.kind == "audit.viewed")))
    shown = text_of(browsers["qa.lead"].get(f"/audits/{audit_id}").text)
    for expected in ("Legal status Care order (section 31)", "Placement moves in the last 12 months 3",
                     "Missing episodes in the last 12 months 1", "Disability Yes", "First language Polish",
                     "Section 47 enquiries in the last 12 months 0",
                     f"Children in care: answers and evidence Question Auditor's answer Evidence on the file {PLACEMENT}",
                     "Review minutes showing placement stability"):
        assert expected in shown, expected
    assert "care_order" not in shown and "not_applicable" not in shown
    assert read(session, lambda s: s.scalar(select(func.count(Event.seq)).where(Event.kind == "audit.viewed"))) == before + 1

    client = app.test_client()
    record = client.get(f"/api/v1/audits/{audit_id}", headers=bearer(token_for(client, "qa.lead"))).get_json()
    profile = {item["key"]: (item["value"], item["value_label"]) for item in record["profile"]}
    assert profile["legal_status"] == ("care_order", "Care order (section 31)")
    assert profile["disability"] == (True, "Yes") and profile["placement_moves_12_months"] == (3, "3")
    assert any(area["area"] == "children_in_care" and area["label"] == "Children in care" for area in record["findings"])


def test_a_child_in_need_audit_does_not_ask_the_cohort_questions_and_ignores_answers_to_them(app, session):
    browsers = Browsers(app)
    audit_id = allocate_through_the_page(session, browsers, case_of_cohort(session, "child_in_need"))
    who = people_of(session, audit_id)
    do_task(session, browsers, audit_id, "prepare_audit", who["auditor"], answers.PREPARE)
    task_id, form_key = audit_tool_task(session, audit_id)
    auditor = browsers[who["auditor"]]
    page = text_of(auditor.get(f"/tasks/{task_id}").text)
    assert "Cohort Child in need" in page and "The child's voice" in page
    assert PLACEMENT not in page and "Children in care" not in page and "Care leavers" not in page
    # Everything the helper knows is posted, the other cohorts' sections too: they are not kept.
    assert auditor.post(f"/tasks/{task_id}", data=posted(form_key, answers.audit_tool())).status_code == 302
    areas = read(session, lambda s: set(s.scalars(select(AuditFinding.area).where(AuditFinding.audit_id == audit_id))))
    assert "children_in_care" not in areas and "child_voice" in areas
    instance_data = read(session, lambda s: task_data(s, s.scalar(select(HumanTask).where(
        HumanTask.instance_id == s.get(Audit, audit_id).instance_id, HumanTask.state == "ready"))))
    assert "children_in_care" not in instance_data and instance_data["cohort"] == "child_in_need"


def test_the_audit_pdf_carries_the_profile_with_human_labels(session, database_url, export_dir):  # noqa: F811
    team = session.scalar(select(Team).where(Team.name == "Children in Care 1"))
    for case in session.scalars(select(Case).where(Case.team_id == team.id)):
        for key, value in PROFILE.items():
            setattr(case, key, value)
    write_history(session, [AuditPlan("Children in Care 1", date(2025, 6, 2), "good", cohort="child_in_care",
                                      answers={"children_in_care.permanence": "partly"})])
    reference = session.scalar(select(Audit.reference))
    flat = " ".join(june_2025_audit_pdf_text(session, database_url, export_dir, reference).split())
    for expected in ("Legal status Care order (section 31)", "Placement moves in the last 12 months 3",
                     "Disability Yes", "First language Polish", "Children in care",
                     "Is there a permanence plan, agreed by the second looked-after review, progressing without drift? Partly"):
        assert expected in flat, expected
    assert "care_order" not in flat


def test_a_cohort_question_is_counted_only_among_the_audits_asked_it(session):
    ids = write_history(session, [
        AuditPlan("Children in Care 1", date(2025, 4, 2), "good", cohort="child_in_care"),
        AuditPlan("Children in Care 1", date(2025, 4, 3), "good", cohort="child_in_care",
                  answers={"children_in_care.placement_stability": "no"}),
        AuditPlan("Children in Care 1", date(2025, 4, 4), "good", cohort="child_in_care",
                  answers={"children_in_care.placement_stability": "partly"}),
        AuditPlan("Children in Care 1", date(2025, 4, 7), "good", cohort="child_in_care",
                  answers={"children_in_care.placement_stability": "not_applicable"}),
        AuditPlan("MASH 1", date(2025, 4, 8), "good", cohort="child_in_need"),
        AuditPlan("MASH 1", date(2025, 4, 9), "good", cohort="child_protection",
                  answers={"child_protection.rcpc_timely": "no"}),
    ])
    session.commit()
    measures = compliance(session, Audit.id.in_(ids), Suppression(False), [], {})
    by_key = {(q["area"], q["key"]): q for q in measures["questions"]}
    placement = by_key[("children_in_care", "placement_stability")]
    assert placement["area_label"] == "Children in care" and placement["label"].startswith(PLACEMENT)
    assert (placement["base"], placement["not_applicable"]) == (3, 1)
    assert {answer: cell["share"] for answer, cell in placement["answers"].items()} == \
        {"yes": 33.3, "partly": 33.3, "no": 33.3}
    rcpc = by_key[("child_protection", "rcpc_timely")]
    assert rcpc["base"] == 1 and rcpc["answers"]["no"]["share"] == 100.0
    assert ("care_leavers", "pathway_plan") not in by_key
    assert by_key[("child_voice", "seen_in_line_with_plan")]["base"] == 6


def test_retention_blanks_the_profile_copied_into_an_audits_process_data(session):
    reference = case_of_cohort(session, "child_in_care", PROFILE)
    audit = allocate_audit(session, AllocationRequest(reference, user_named(session, "tm.mash1").id,
                                                      user_named(session, "psw").id), user_named(session, "qa.lead"))
    session.commit()
    started = session.scalar(select(Event).where(Event.kind == "instance.started", Event.instance_id == audit.instance_id))
    assert json.loads(started.payload)["data"]["case_profile"] == "from the case register"  # never in the chain
    audit.status, audit.closed_at = "closed", clock.now() - timedelta(days=7 * 365)
    apply_retention(session)
    session.commit()
    serialized = session.get(ProcessInstance, audit.instance_id).serialized
    assert '"legal_status": "[anonymised]"' in serialized and '"first_language": "[anonymised]"' in serialized
    assert '"placement_moves_12_months": 3' in serialized and "Polish" not in serialized
    assert session.scalar(select(Case).where(Case.reference == reference)).legal_status == "care_order"

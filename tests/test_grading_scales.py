"""The grading scale and the ILACS judgement areas as data of the case file audit model:
the seed's four grades by default, a new scale by publishing a new version, a bad scale
refused with a message, reports that compare grades only on the same scale and report by
judgement area, and the small-number rule on the grade tables.

The report history (cycle 1 of 2025/26), worked by hand:

  on the three-point scale (version 2)        on the seed's four grades (version 1)
  P1 MASH 1, child protection, Strong          P5 MASH 1, child in need, Good
  P2 MASH 1, child in need, Developing         P6 MASH 1, child protection, Inadequate
  P3 CiC 1, child in care, Serious concern
  P4 CiC 1, care leaver, Strong

Three-point figures: Strong 2, Developing 1, Serious concern 1 of 4 -> Good or better 50%,
Serious concern 25%. Judgement areas: help and protection Strong 1, Developing 1 (50%);
children in care Serious concern 1 (0%); care leavers Strong 1 (100%). Two audits graded on
a different scale are counted apart: Good 1, Inadequate 1.
"""
import copy
import re
import sqlite3
import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from alembic import command
from sqlalchemy import select, update

from engine.clock import clock
from engine.migrations import alembic_config, upgrade
from engine.notification_models import Notification
from engine.qa import reports
from engine.qa.access import audit_scope
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.demo_activities import run_thematic_history
from engine.qa.demo_history import AuditPlan, write_history
from engine.qa.grading_scale import (SEED_SCALE_PATH, current_scale, scale_from_data, scale_of_version, scale_problems,
                                     seed_scale)
from engine.qa.models import Audit, Case, Service, Team
from engine.qa.narrative_models import ReportNarrative
from engine.qa.thematic import _grade_table, thematic_report
from engine.qa.thematic_models import DipSample
from engine.runtime.errors import InvalidFormData
from engine.runtime.instances import form_schema
from engine.runtime.model_drafts import create_draft, open_draft, publish_draft
from engine.runtime.model_import import ImportRefused, read_upload
from engine.runtime.models import HumanTask, ProcessVersion
from engine.runtime.registry import PROCESSES_DIR, ModelError, built_model_for, publish, read_model_from_disk
from tests import answers
from tests.conftest import sign_in, user_named
from tests.test_engine_lifecycle import _do, _open_task

SEED = json.loads(SEED_SCALE_PATH.read_text())
THREE_POINT = {**copy.deepcopy(SEED), "name": "Three-point practice scale", "grades": [
    {"key": "strong", "label": "Strong practice", "good_or_better": True, "escalates": False, "colour": "#00703c"},
    {"key": "developing", "label": "Developing practice", "good_or_better": False, "escalates": False,
     "colour": "#8a4300"},
    {"key": "serious_concern", "label": "Serious concern", "good_or_better": False, "escalates": True,
     "colour": "#d4351c"}]}
AS_OF = date(2025, 7, 1)


def model_zip(scale: dict) -> bytes:
    """The case file audit model, as a modeller would download and upload it, with `scale`."""
    files = {**read_model_from_disk(PROCESSES_DIR / "case_file_audit"), "grading_scale.json": json.dumps(scale)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(f"case_file_audit/{path}", text)
    return buffer.getvalue()


def publish_scale(session, scale: dict) -> ProcessVersion:
    """A new version carrying `scale`, through the import path: upload, draft, publish."""
    owner = user_named(session, "process.owner")
    model = read_upload("case_file_audit.zip", model_zip(scale))
    draft = create_draft(session, model.files, owner)
    version = publish_draft(session, draft.process_key, owner, draft.revision, "Moving to the three-point scale")
    session.commit()
    return version


def seed_version(session) -> ProcessVersion:
    return session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == "case_file_audit")
                          .order_by(ProcessVersion.version))


def test_the_seed_scale_is_the_four_ofsted_grades_and_the_forms_offer_them(session):
    version = seed_version(session)
    scale = scale_of_version(version)
    assert scale == seed_scale() and current_scale(session) == scale
    assert list(scale.labels.values()) == ["Outstanding", "Good", "Requires improvement to be good", "Inadequate"]
    assert scale.good_or_better == ("outstanding", "good") and scale.escalating == ("inadequate",)
    forms = built_model_for(version).forms
    overall = forms["grading-schema.json"]["properties"]["overall_grade"]
    assert overall["enum"] == ["outstanding", "good", "requires_improvement", "inadequate"]
    assert overall["enumNames"][2] == "Requires improvement to be good"
    moderated = forms["moderation-schema.json"]["properties"]["moderated_area_grades"]["properties"]["planning"]
    assert moderated["enum"] == list(scale.keys)
    below_good = forms["grading-schema.json"]["allOf"][1]["if"]["properties"]["overall_grade"]["enum"]
    assert below_good == ["requires_improvement", "inadequate"]


def test_an_audit_on_the_seed_scale_records_its_scale_and_judgement_area(session):
    qa_lead, auditor, moderator = (user_named(session, name) for name in ("qa.lead", "tm.mash1", "hos.cincp"))
    case = session.scalar(select(Case).where(Case.cohort == "child_in_care", Case.team_id.in_(
        select(Case.team_id).where(Case.worker_id != auditor.id))).order_by(Case.id))
    audit = allocate_audit(session, AllocationRequest(case.reference, auditor.id, moderator.id), qa_lead)
    session.commit()
    assert audit.grading_scale == seed_scale().signature and audit.judgement_area == "children_in_care"


@pytest.fixture
def three_point(session):
    return publish_scale(session, THREE_POINT)


def test_a_new_version_grades_on_its_own_scale_and_escalates_on_its_escalating_grade(session, three_point, app):
    assert three_point.version == 2 and current_scale(session).name == "Three-point practice scale"
    qa_lead, auditor, moderator = (user_named(session, name) for name in ("qa.lead", "tm.mash1", "hos.cincp"))
    case = session.scalar(select(Case).where(Case.cohort == "care_leaver").order_by(Case.id))
    audit = allocate_audit(session, AllocationRequest(case.reference, auditor.id, moderator.id), qa_lead)
    session.commit()
    assert audit.grading_scale == scale_of_version(three_point).signature != seed_scale().signature
    assert audit.judgement_area == "care_leavers"
    _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
    _do(session, audit, "complete_audit_tool", audit.auditor_id, answers.audit_tool("developing"))
    _do(session, audit, "record_feedback", audit.auditor_id, answers.FEEDBACK)
    grading = _open_task(session, audit, "grade_audit")
    schema = form_schema(built_model_for(three_point), grading.form_key)
    assert schema["properties"]["overall_grade"]["enumNames"] == ["Strong practice", "Developing practice",
                                                                   "Serious concern"]
    with pytest.raises(InvalidFormData) as refused:  # the old scale's grade is not on this version's form
        _do(session, audit, "grade_audit", audit.auditor_id, answers.grading("good"))
    assert refused.value.errors["overall_grade"] == "Select an answer for: Overall grade"
    session.rollback()
    with pytest.raises(InvalidFormData) as refused:  # below good on the new scale: actions are needed
        _do(session, audit, "grade_audit", audit.auditor_id, answers.grading("developing", actions=0))
    assert "actions" in refused.value.errors
    session.rollback()
    _do(session, audit, "grade_audit", audit.auditor_id, answers.grading("serious_concern", actions=1))
    escalation = _open_task(session, audit, "acknowledge_escalation")
    assert escalation is not None and escalation.assignee_id == audit.head_of_service_id
    notice = session.scalar(select(Notification).where(Notification.recipient_id == audit.head_of_service_id,
                                                       Notification.kind == "inadequate_audit"))
    assert notice.subject.startswith("Serious concern audit: immediate attention needed")
    session.commit()  # end the read: SQLite lets one writer in, and the page below is another

    browser = app.test_client()
    sign_in(browser, "qa.lead")
    page = browser.get(f"/audits/{audit.id}").text
    assert "Serious concern" in page and "Developing practice" in page
    assert "The experiences and progress of care leavers" in page and "Three-point practice scale" in page


def test_an_invalid_scale_is_refused_at_upload_and_at_publish_with_what_is_wrong(session, app):
    duplicate = copy.deepcopy(SEED)
    duplicate["grades"][1]["key"] = "outstanding"
    no_escalation = copy.deepcopy(SEED)
    no_escalation["grades"][3]["escalates"] = False
    none_good = copy.deepcopy(SEED)
    for grade in none_good["grades"]:
        grade["good_or_better"] = False
    pale = copy.deepcopy(SEED)
    pale["grades"][2]["colour"] = "#f47738"
    cases = [(duplicate, "grade 2: the key 'outstanding' is used twice"),
             (no_escalation, "mark one grade as escalating at once to the head of service"),
             (none_good, "mark at least one grade as good or better"),
             (pale, "grade 3: the colour #f47738 is too light to read on white")]
    before = session.scalar(select(ProcessVersion.version).where(ProcessVersion.process_key == "case_file_audit")
                            .order_by(ProcessVersion.version.desc()))
    for scale, message in cases:
        assert message in " ".join(scale_problems(scale))
        with pytest.raises(ImportRefused) as refused:
            read_upload("case_file_audit.zip", model_zip(scale))
        assert any(message in problem for problem in refused.value.problems)
        files = {**read_model_from_disk(PROCESSES_DIR / "case_file_audit"), "grading_scale.json": json.dumps(scale)}
        with pytest.raises(ModelError) as not_published:
            publish(session, files)
        assert any(f"grading_scale.json: {message}" in problem for problem in not_published.value.problems)
    session.rollback()
    assert session.scalar(select(ProcessVersion.version).where(ProcessVersion.process_key == "case_file_audit")
                          .order_by(ProcessVersion.version.desc())) == before
    session.commit()

    browser = app.test_client()
    sign_in(browser, "process.owner")
    reply = browser.post("/models/upload", content_type="multipart/form-data",
                         data={"model": (io.BytesIO(model_zip(duplicate)), "case_file_audit.zip")})
    assert reply.status_code == 422
    assert "the key &#39;outstanding&#39; is used twice" in reply.text or "the key 'outstanding' is used twice" in reply.text


@pytest.fixture
def mixed_history(session, three_point):
    seed = seed_version(session)
    write_history(session, [
        AuditPlan("MASH 1", date(2025, 4, 2), "strong", cohort="child_protection", version=three_point),
        AuditPlan("MASH 1", date(2025, 4, 3), "developing", cohort="child_in_need", version=three_point),
        AuditPlan("Children in Care 1", date(2025, 4, 4), "serious_concern", cohort="child_in_care",
                  version=three_point),
        AuditPlan("Children in Care 1", date(2025, 4, 7), "strong", cohort="care_leaver", version=three_point),
        AuditPlan("MASH 1", date(2025, 4, 8), "good", cohort="child_in_need", version=seed),
        AuditPlan("MASH 1", date(2025, 4, 9), "inadequate", cohort="child_protection", version=seed),
    ])
    session.commit()
    return session


def report_for(session, username):
    return reports.build_report(session, reports.cycles_of_year(2025)[0],
                                reports.Scope(extra=audit_scope(user_named(session, username))), as_of=AS_OF)


def test_reports_compare_grades_only_on_the_same_scale_and_by_judgement_area(mixed_history):
    report = report_for(mixed_history, "qa.lead")
    assert report["small_numbers_hidden"] is False
    assert report["grades"] == {"overall": {"strong": 2, "developing": 1, "serious_concern": 1}, "total": 4}
    assert (report["shares"]["good_or_better"], report["shares"]["inadequate"]) == (50.0, 25.0)
    assert report["other_scales"] == {"total": 2, "scales": [{
        "name": "Ofsted four-point scale", "total": 2,
        "grades": seed_scale().labels, "counts": {"outstanding": 0, "good": 1, "requires_improvement": 0,
                                                  "inadequate": 1}}]}
    areas = {row["key"]: (row["counts"], row["good_or_better"]) for row in report["by_dimension"]["judgement_area"]}
    assert areas == {"help_and_protection": ({"strong": 1, "developing": 1, "serious_concern": 0}, 50.0),
                     "children_in_care": ({"strong": 0, "developing": 0, "serious_concern": 1}, 0.0),
                     "care_leavers": ({"strong": 1, "developing": 0, "serious_concern": 0}, 100.0)}
    assert [row["key"] for row in report["by_dimension"]["judgement_area"]] == \
        ["help_and_protection", "children_in_care", "care_leavers"]
    assert [a["grade"] for a in report["inadequate"]["audits"]] == ["serious_concern"]
    assert mixed_history.scalar(select(Audit.judgement_area).where(Audit.overall_grade == "inadequate")) == \
        "help_and_protection"


def test_the_report_page_and_pdf_say_other_scales_are_reported_separately(app, mixed_history):
    browser = app.test_client()
    sign_in(browser, "qa.lead")
    page = browser.get("/reports?period=cycle:2025-04-01").text
    assert "Grades in this report are on the Three-point practice scale" in page
    assert "Audits graded on a different scale (2) are reported separately" in page
    assert "Audits graded on the Ofsted four-point scale" in page
    assert "By inspection judgement area" in page and "The experiences and progress of care leavers" in page
    assert "Serious concern audits you can open" in page
    pdf = browser.get("/reports/report.pdf?period=cycle:2025-04-01")
    from pypdf import PdfReader
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "Audits graded on a different scale (2) are reported separately" in text
    assert "Grades by inspection judgement area" in text and "Strong practice" in text


def test_grade_counts_under_5_are_hidden_from_a_reader_who_cannot_open_the_audits(app, mixed_history):
    hidden = report_for(mixed_history, "hos.cic")  # opens Children in Care audits only
    assert hidden["small_numbers_hidden"] is True
    assert hidden["grades"]["overall"] == {"strong": "fewer than 5", "developing": "fewer than 5",
                                           "serious_concern": "fewer than 5"}
    teams = {row["label"]: row for row in hidden["by_dimension"]["team"]}
    assert teams["MASH 1"]["counts"] == {"strong": "fewer than 5", "developing": "fewer than 5", "serious_concern": 0}
    assert teams["MASH 1"]["good_or_better"] == "fewer than 5"
    assert hidden["other_scales"]["scales"][0]["counts"]["inadequate"] == "fewer than 5"
    mixed_history.commit()

    head = app.test_client()
    sign_in(head, "hos.cic")
    page = head.get("/reports?period=cycle:2025-04-01&service=").text
    assert "in the grade tables a count from 1 to 4" in page
    assert "fewer than 5" in page and ">50.0%<" not in page
    lead = app.test_client()
    sign_in(lead, "qa.lead")
    page = lead.get("/reports?period=cycle:2025-04-01").text
    assert "in the grade tables a count from 1 to 4" not in page and "50.0%" in page


def test_a_team_manager_reads_the_published_grades_with_small_numbers_hidden(app, mixed_history):
    team = mixed_history.scalar(select(Team.id).where(Team.name == "MASH 1"))
    mixed_history.commit()
    lead = app.test_client()
    sign_in(lead, "qa.lead")
    query = "period=cycle:2025-04-01&service=&team=&audit_type="
    lead.post(f"/reports/narrative?{query}", data={
        "key_findings": "Planning is the weakest area.", "learning": "Chronologies help.",
        "recommendations": "Plan with contingency.", "do_differently": "Review plans monthly.",
        "team_questions": "How do we test contingency?"})
    assert lead.post(f"/reports/narrative/submit?{query}").status_code == 302  # only a signed-off narrative is published
    narrative_id = mixed_history.scalar(select(ReportNarrative.id))
    mixed_history.commit()  # end the read, so the sign-off can write
    psw = app.test_client()
    sign_in(psw, "psw")
    assert psw.post(f"/reports/narratives/{narrative_id}/sign-off").status_code == 302
    reply = lead.post(f"/reports/publish?{query}", data={"teams": [str(team)]}, follow_redirects=True)
    assert reply.status_code == 200 and reply.request.path.startswith("/learning/")
    manager = app.test_client()
    sign_in(manager, "tm.mash1")
    assert manager.get("/reports?period=cycle:2025-04-01").status_code == 403  # cannot open the audits behind it
    figures = dict(re.findall(r'<dt class="govuk-summary-list__key">\s*(.*?)\s*</dt>\s*'
                              r'<dd class="govuk-summary-list__value">\s*(.*?)\s*</dd>',
                              manager.get(reply.request.path).text, re.S))
    assert figures["Graded Strong practice"] == "fewer than 5"  # 2 audits
    assert figures["Graded Serious concern"] == "fewer than 5"  # 1 audit
    assert "Graded Good" not in figures  # the four-grade audits are not added to the three-point counts
    page = lead.get("/reports?period=cycle:2025-04-01").text  # the QA lead, who can open them all, sees 2
    assert re.search(r'By team.*?MASH 1</th>\s*<td[^>]*>1</td>\s*<td[^>]*>1</td>\s*<td[^>]*>0</td>', page, re.S)


def test_migration_0023_gives_earlier_audits_the_seed_scale_and_their_judgement_area(tmp_path):
    database = tmp_path / "before_scales.sqlite"
    url = f"sqlite:///{database}"
    command.upgrade(alembic_config(url), "0021")
    with sqlite3.connect(database) as connection:  # an audit allocated before scales were model data
        for number, cohort in ((1, "child_protection"), (2, "care_leaver"), (3, "unknown_cohort")):
            connection.execute(
                "INSERT INTO audits (id, reference, audit_type, case_id, team_id, service_id, cohort, auditor_id, "
                "moderator_id, worker_id, team_manager_id, head_of_service_id, status, allocated_at, due_on, "
                "moderation_due_on, safeguarding_concern, overall_grade) VALUES (?, ?, 'random', 1, 1, 1, ?, 1, 1, 1, "
                "1, 1, 'closed', '2025-04-02 09:00:00', '2025-04-23', '2025-05-07', 0, 'good')",
                (number, f"A-{number}", cohort))
    upgrade(url)
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT reference, grading_scale, judgement_area FROM audits ORDER BY id").fetchall()
    signature = seed_scale().signature
    assert rows == [("A-1", signature, "help_and_protection"), ("A-2", signature, "care_leavers"),
                    ("A-3", signature, None)]


def test_the_form_editor_previews_grade_choices_from_the_drafts_scale(session, app):
    open_draft(session, "case_file_audit", user_named(session, "process.owner"))
    session.commit()
    browser = app.test_client()
    sign_in(browser, "process.owner")
    page = browser.get("/models/case_file_audit/draft/forms/grading").text
    assert 'data-preview-url="/models/form-preview?process=case_file_audit"' in page
    assert 'value="requires_improvement"' in page and "Requires improvement to be good" in page
    schema = json.loads((PROCESSES_DIR.parent / "forms" / "grading-schema.json").read_text())
    live = browser.post("/models/form-preview?process=case_file_audit",
                        data={"schema": json.dumps(schema), "ui_schema": "{}"}).text
    assert 'value="inadequate"' in live and "Inadequate" in live


def test_the_monitoring_grade_filter_offers_the_current_scale_and_names_other_scales_grades(app, mixed_history):
    references = dict(mixed_history.execute(select(Audit.overall_grade, Case.reference).join(Case, Case.id == Audit.case_id)
                                             .where(Audit.overall_grade.in_(("serious_concern", "good")))).all())
    mixed_history.commit()
    browser = app.test_client()
    sign_in(browser, "qa.lead")
    page = browser.get("/instances").text
    offered = re.findall(r'<option value="([a-z_]+)"[^>]*>\s*([^<]+?)\s*</option>',
                         page[page.index('name="grade"'):page.index("</select>", page.index('name="grade"'))])
    assert offered[:3] == [("strong", "Strong practice"), ("developing", "Developing practice"),
                           ("serious_concern", "Serious concern")]
    assert ("good", "Good (Ofsted four-point scale)") in offered and ("inadequate", "Inadequate (Ofsted four-point scale)") in offered
    serious = browser.get("/instances?grade=serious_concern").text
    assert references["serious_concern"] in serious and references["good"] not in serious
    good = browser.get("/instances?grade=good").text
    assert references["good"] in good and references["serious_concern"] not in good
    refused = browser.get("/instances?grade=excellent").text
    assert "There is no grade (moderated if moderated) &#39;excellent&#39;" in refused


def test_the_dashboard_counts_open_audits_at_the_escalating_grade_of_each_audits_own_scale(app, mixed_history):
    """By hand, from the history above: P2 (Developing) moderated to Serious concern, P3 Serious
    concern and P6 Inadequate are open at their scale's escalating grade: 3. P4 (Strong)
    moderated to Serious concern is closed, so not counted; P1, P5 are not escalating."""
    session = mixed_history
    audits = session.scalars(select(Audit).order_by(Audit.id)).all()
    assert [a.overall_grade for a in audits] == ["strong", "developing", "serious_concern", "strong", "good",
                                                 "inadequate"]
    p1, p2, p3, p4, p5, p6 = audits
    p2.moderated_grade = "serious_concern"
    p4.moderated_grade, p4.status = "serious_concern", "closed"
    expected = {p2.instance_id, p3.instance_id, p6.instance_id}
    assert None not in expected and all(a.status != "closed" for a in (p1, p2, p3, p5, p6))
    session.commit()
    browser = app.test_client()
    sign_in(browser, "qa.lead")
    page = browser.get("/monitoring").text
    part = page.split('data-count="open_escalating"')[1]
    href = part.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert int(part.split(">")[1].split("<")[0]) == 3
    assert "Open Serious concern audits" in page and "Open Inadequate audits" not in page
    listed = browser.get(href).text
    assert {int(found) for found in re.findall(r'data-instance="(\d+)"', listed)} == expected
    assert "<strong>3</strong> processes found" in listed
    offered = listed[listed.index('name="grade"'):listed.index("</select>", listed.index('name="grade"'))]
    assert re.search(r'<option value="any-escalating"[^>]*selected[^>]*>\s*Serious concern or Inadequate '
                     r'\(escalating on its scale\)', offered)


def test_a_thematic_audits_report_grades_on_its_audits_own_scale(app, session, three_point):
    # the demo's thematic audit runs months ago: its cases were open by then
    session.execute(update(Case).values(opened_on=clock.today() - timedelta(days=3 * 365)))
    thematic = run_thematic_history(session, sample_size=2, seed=7)
    session.commit()
    report = thematic_report(session, thematic)
    assert report["grading_scale"] == "Three-point practice scale"
    assert report["grades"] == [{"grade": "Strong practice", "count": 1, "share": 50},
                                {"grade": "Developing practice", "count": 1, "share": 50},
                                {"grade": "Serious concern", "count": 0, "share": 0}]
    assert report["good_or_better"] == 50
    assert sorted(row["grade"] for row in report["audits"]) == ["Developing practice", "Strong practice"]
    thematic_id = thematic.id
    session.commit()
    browser = app.test_client()
    sign_in(browser, "psw")
    page = browser.get(f"/thematic/{thematic_id}").text
    assert "on the Three-point practice scale" in page and "Strong practice" in page and "Requires improvement" not in page
    from pypdf import PdfReader
    pdf = browser.get(f"/thematic/{thematic_id}/report.pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "on the Three-point practice scale" in text and "Developing practice" in text


def test_a_thematic_sample_graded_on_two_scales_counts_the_other_scales_grades_apart():
    three = scale_from_data(THREE_POINT)
    table = _grade_table([three, three, seed_scale(), three], ["strong", "serious_concern", "good", None], seed_scale())
    assert table["scale"] == "Three-point practice scale" and table["good_or_better"] == 50
    assert table["rows"] == [{"grade": "Strong practice", "count": 1, "share": 50},
                             {"grade": "Developing practice", "count": 0, "share": 0},
                             {"grade": "Serious concern", "count": 1, "share": 50},
                             {"grade": "Good (Ofsted four-point scale)", "count": 1, "share": 100}]


def test_the_dip_sample_and_multi_agency_forms_rate_on_their_versions_scale(app, session):
    for process in ("dip_sample", "multi_agency_section"):
        publish(session, {**read_model_from_disk(PROCESSES_DIR / process), "grading_scale.json": json.dumps(THREE_POINT)})
    session.commit()
    section = form_schema(built_model_for(session.scalar(select(ProcessVersion).where(
        ProcessVersion.process_key == "multi_agency_section").order_by(ProcessVersion.version.desc()))),
        "multi_agency_section-schema.json")
    assert section["properties"]["quality"]["enumNames"] == ["Strong practice", "Developing practice", "Serious concern"]
    service_id = session.scalar(select(Service.id).where(Service.name == "Child in Need and Child Protection"))
    session.commit()

    head = app.test_client()
    sign_in(head, "hos.cincp")
    started = head.post("/start/dip_sample", data={"about": str(service_id), "focus": "Oversight", "method": "draw",
                                                   "number_of_cases": "1", "seed": "7"})
    assert started.status_code == 302 and "/tasks/" in started.location
    page = head.get(started.location).text
    assert 'value="strong"' in page and "Developing practice" in page and "Requires improvement" not in page
    reference = session.scalar(select(DipSample.cases))[0]
    session.commit()
    answers_given = {"findings": "Plans were current.", "learning": "Record supervision decisions.",
                     "cases.0.case_reference": reference, "cases.0.rating": "good", "cases.0.finding": "Seen on time.",
                     "cases.0.immediate_concern": "no", "action": "complete"}
    refused = head.post(started.location, data=answers_given)  # the seed's grade is not on this version's scale
    assert refused.status_code == 422 and "Select an answer for: Practice seen" in refused.text
    assert head.post(started.location, data={**answers_given, "cases.0.rating": "developing"}).status_code == 302
    assert session.scalar(select(DipSample.results))[0]["rating"] == "developing"

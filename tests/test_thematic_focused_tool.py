"""A thematic audit with a focused tool of its own, walked over HTTP: the commissioner writes
three Yes / Partly / No questions, the sampled cases' audits (focused audits linked to the
thematic audit) present exactly those questions, the answers are stored as findings of the
focused audit's version, and the report (page and PDF) gives each question's shares, which
are computed here by hand."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.qa.compliance import Suppression
from engine.qa.finding_models import AuditFinding
from engine.qa.models import Audit, Service
from engine.qa.thematic import thematic_report
from engine.qa.thematic_models import ThematicAudit
from engine.runtime.models import HumanTask, InstanceStart, ProcessInstance, ProcessVersion
from tests.test_thematic_audit import FINDINGS, SERVICE, commission, ready_task
from tests.test_web_lifecycle import Browsers, read

QUESTIONS = ("Was the neglect named in the plan for the child?", "Did the plan measure change for the child?",
             "Was the child seen alone when old enough?")
# Each audit's answers to q1, q2, q3, in the order the audits were started.
ANSWERS = (("yes", "no", "not_applicable"), ("yes", "partly", "yes"), ("no", "partly", "yes"))
# Where each audit's moderator disagrees (by the audit's place): their answer and why.
DISAGREEMENTS = {0: {"q1": ("partly", "The plan names neglect only in its history.")},
                 2: {"q3": ("no", "The child was seen with the carer each time.")}}
LABELS = {"yes": "Yes", "partly": "Partly", "no": "No", "not_applicable": "Not applicable"}


def focused_commission() -> dict:
    return {**commission(clock.today() + timedelta(days=90)), "tool": "focused",
            **{f"focused_questions.{index}.question": text for index, text in enumerate(QUESTIONS)}}


def focused_audits(session, instance_id: int) -> list[tuple]:
    def query(s):
        ids = list(s.scalars(select(InstanceStart.instance_id).where(InstanceStart.parent_instance_id == instance_id)))
        return [(a.id, a.reference, a.instance_id, s.get(ProcessInstance, a.instance_id).process_key,
                 s.get(User, a.auditor_id).username, s.get(User, a.moderator_id).username)
                for a in s.scalars(select(Audit).where(Audit.instance_id.in_(ids)).order_by(Audit.id))]
    return read(session, query)


def test_a_focused_tool_is_asked_of_each_sampled_case_and_reported_as_shares_per_question(app, session):
    browsers = Browsers(app)
    psw, lead = browsers["psw"], browsers["qa.lead"]
    service_id = read(session, lambda s: s.scalar(select(Service.id).where(Service.name == SERVICE)))
    no_questions = psw.post("/start/thematic_audit", data={"about": str(service_id), **focused_commission(),
                                                           **{f"focused_questions.{i}.question": "" for i in range(3)}})
    assert no_questions.status_code == 422 and "Questions of the focused tool" in no_questions.text
    assert read(session, lambda s: s.scalar(select(ThematicAudit))) is None

    assert psw.post("/start/thematic_audit", data={"about": str(service_id),
                                                   **focused_commission()}).status_code == 302
    thematic = read(session, lambda s: (lambda t: {"id": t.id, "instance_id": t.instance_id, "tool": t.tool,
                                                   "questions": t.focused_questions})(s.scalar(select(ThematicAudit))))
    assert thematic["tool"] == "focused"
    assert thematic["questions"] == [{"key": f"q{n}", "question": text} for n, text in enumerate(QUESTIONS, start=1)]
    draw = ready_task(session, thematic["instance_id"], "draw_sample")
    lead.post(f"/tasks/{draw}", data={"action": "claim"})
    lead.post(f"/tasks/{draw}", data={"seed": "99", "confirmed": "yes", "action": "complete"})
    review = lead.get(f"/thematic/{thematic['id']}/review").text
    assert "Confirming starts one focused audit for each proposed case" in review
    assert lead.post(f"/thematic/{thematic['id']}/confirm").status_code == 302

    audits = focused_audits(session, thematic["instance_id"])
    done_audits = []
    assert len(audits) == 3 and {row[3] for row in audits} == {"focused_audit"}
    for (audit_id, reference, instance_id, _, auditor, moderator), answers in zip(audits, ANSWERS):
        task = ready_task(session, instance_id, "complete_focused_tool")
        page = browsers[auditor].get(f"/tasks/{task}").get_data(as_text=True)
        assert all(text in page for text in QUESTIONS) and "Focused tool: Neglect" in page
        assert "Grade the audit" not in page and 'name="focused.q1"' in page
        incomplete = browsers[auditor].post(f"/tasks/{task}", data={"focused.q1": answers[0], "action": "complete"})
        assert incomplete.status_code == 422 and QUESTIONS[1] in incomplete.text  # every question is required
        done = browsers[auditor].post(f"/tasks/{task}", data={
            **{f"focused.q{n}": answer for n, answer in enumerate(answers, start=1)},
            "focused.notes": "Plan of 3 March read with the worker.", "action": "complete"})
        assert done.status_code == 302, done.text
        audit_page = browsers[moderator].get(f"/audits/{audit_id}").get_data(as_text=True)
        assert QUESTIONS[0] in audit_page
        check = ready_task(session, instance_id, "check_answers")
        check_page = browsers[moderator].get(f"/tasks/{check}").get_data(as_text=True)
        assert f"The auditor answered: {LABELS[answers[0]]}." in check_page and "Plan of 3 March" in check_page
        assert 'name="moderator_check.q1_view"' in check_page and "Agree with the auditor" in check_page
        views = {f"moderator_check.q{n}_view": "agree" for n in range(1, 4)}
        for key, (answer, reason) in DISAGREEMENTS.get(len(done_audits), {}).items():
            unexplained = browsers[moderator].post(f"/tasks/{check}", data={
                **views, f"moderator_check.{key}_view": "disagree", f"moderator_check.{key}_answer":
                answers[int(key[1:]) - 1], "action": "complete"})
            assert unexplained.status_code == 422
            assert "choose an answer other than the auditor" in unexplained.text and "say why" in unexplained.text
            assert ready_task(session, instance_id, "check_answers") == check  # nothing changed
            views |= {f"moderator_check.{key}_view": "disagree", f"moderator_check.{key}_answer": answer,
                      f"moderator_check.{key}_reason": reason}
        # Agreeing, an answer left chosen on a question is not read.
        views.setdefault("moderator_check.q2_answer", "yes")
        checked = browsers[moderator].post(f"/tasks/{check}", data={**views, "action": "complete"})
        assert checked.status_code == 302, checked.text
        done_audits.append(audit_id)

    def stored(s):
        version = s.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == "focused_audit"))
        rows = s.scalars(select(AuditFinding).where(AuditFinding.audit_id.in_([a[0] for a in audits]))
                         .order_by(AuditFinding.audit_id, AuditFinding.stage, AuditFinding.question)).all()
        return version, [(r.audit_id, r.stage, r.area, r.question, r.answer, r.process_version_id) for r in rows]
    version, rows = read(session, stored)
    expected = [(audit[0], stage, "focused", f"q{n}", DISAGREEMENTS.get(place, {}).get(f"q{n}", (answer,))[0]
                 if stage == "moderator" else answer, version)
                for place, (audit, answers) in enumerate(zip(audits, ANSWERS)) for stage in ("auditor", "moderator")
                for n, answer in enumerate(answers, start=1)]
    assert sorted(rows) == sorted(expected)
    assert read(session, lambda s: {a.status for a in s.scalars(select(Audit).where(
        Audit.id.in_([a[0] for a in audits])))}) == {"closed"}

    # By hand, the moderated answers: q1 Partly, Yes, No (the first moderator's Partly for the auditor's
    # Yes): 1 of 3 each; q2 Partly 2 of 3, No 1 of 3; q3 n/a, Yes, No (the third moderator's No for
    # the auditor's Yes): Yes 1 of 2, No 1 of 2.
    page = psw.get(f"/thematic/{thematic['id']}").get_data(as_text=True)
    assert 'id="focused-shares"' in page and 'id="thematic-grades"' not in page
    assert "where the moderator disagreed with the auditor, the moderator's answer is counted" in page
    for key, cells in {"q1": ("1 (33.3%)", "1 (33.3%)", "1 (33.3%)"), "q2": ("0 (0.0%)", "2 (66.7%)", "1 (33.3%)"),
                       "q3": ("1 (50.0%)", "0 (0.0%)", "1 (50.0%)")}.items():
        row = page.split(f'data-question="{key}"')[1].split("</tr>")[0]
        for choice, cell in zip(("yes", "partly", "no"), cells):
            assert f'data-answer="{choice}">{cell}</td>' in row, (key, choice, row)
    assert "A focused tool of its own" in page
    views = page.split('id="moderator-views"')[1].split("</table>")[0]
    for place, (reference, key, auditor, moderator, reason) in enumerate((
            (audits[0][1], "q1", "Yes", "Partly", DISAGREEMENTS[0]["q1"][1]),
            (audits[2][1], "q3", "Yes", "No", DISAGREEMENTS[2]["q3"][1]))):
        row = views.split(f'data-audit="{reference}" data-question="{key}"')[1].split("</tr>")[0]
        assert f'data-view="auditor">{auditor}<' in row and f'data-view="moderator">{moderator}<' in row
        assert reason in row and QUESTIONS[int(key[1:]) - 1] in row
    assert views.count("<tr") == 3  # the header and the two disagreements

    findings = ready_task(session, thematic["instance_id"], "write_findings")
    lead.post(f"/tasks/{findings}", data={"action": "claim"})
    assert lead.post(f"/tasks/{findings}", data=FINDINGS).status_code == 302  # every focused audit is checked

    pdf = psw.get(f"/thematic/{thematic['id']}/report.pdf")
    assert pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "The focused tool's answers" in text and "Was the neglect named" in text and "66.7%" in text
    assert "Where the moderator disagreed" in text and "The child was seen with the carer" in text


def pdf_text(data: bytes) -> str:
    pypdf = pytest.importorskip("pypdf")
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_small_numbers_are_hidden_from_a_reader_who_cannot_open_every_audit(session):
    from engine.qa.demo_activities import run_thematic_history
    thematic = run_thematic_history(session, sample_size=2, seed=5, tool="focused")
    session.commit()
    assert thematic.tool == "focused" and thematic.status == "published"
    shown = thematic_report(session, thematic, Suppression(False))["focused"]
    hidden = thematic_report(session, thematic, Suppression(True))["focused"]
    assert [row["base"] for row in shown] == [row["base"] for row in hidden]
    for row in shown:
        assert sum(cell["count"] for cell in row["answers"].values()) == row["base"]
        assert row["base"] + row["not_applicable"] == 2
    for row in hidden:
        assert all(cell["hidden"] and cell["count"] is None and cell["share"] is None
                   for cell in row["answers"].values() if row["base"])
    tasks = session.scalars(select(HumanTask.form_schema).where(HumanTask.spec_name == "complete_focused_tool")).all()
    assert len(tasks) == 2 and all(schema["properties"]["focused"]["title"] == thematic.theme for schema in tasks)

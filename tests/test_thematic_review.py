"""The QA lead reviews a thematic audit's seeded draw over HTTP before any audit starts: removes
one case and swaps another (for the next case of the seeded order, after naming ineligible ones
that are refused with a message), each with a reason kept on the row, in the trail and in the
report; confirming starts exactly the audits of the reviewed sample."""
import json
from datetime import timedelta

from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.qa.models import Audit, Case, Service, Team
from engine.qa.sampling import recently_audited_cases
from engine.qa.thematic_models import ThematicAudit, ThematicSampleCase
from engine.runtime.models import Event, InstanceStart
from tests.test_thematic_audit import SERVICE, commission, ready_task
from tests.test_web_lifecycle import Browsers, read


def drawn_for_review(app, session, seed="4242", **answers):
    """A thematic audit of SERVICE commissioned by the principal social worker and drawn by the QA lead."""
    browsers = Browsers(app)
    service_id = read(session, lambda s: s.scalar(select(Service.id).where(Service.name == SERVICE)))
    started = browsers["psw"].post("/start/thematic_audit", data={
        "about": str(service_id), **commission(clock.today() + timedelta(days=90)), **answers})
    assert started.status_code == 302, started.get_data(as_text=True)
    instance_id = read(session, lambda s: s.scalar(select(ThematicAudit.instance_id)))
    draw = ready_task(session, instance_id, "draw_sample")
    browsers["qa.lead"].post(f"/tasks/{draw}", data={"action": "claim"})
    assert browsers["qa.lead"].post(f"/tasks/{draw}", data={"seed": seed, "confirmed": "yes",
                                                            "action": "complete"}).status_code == 302
    return browsers, read(session, lambda s: s.scalar(select(ThematicAudit.id)))


def sample_rows(session, thematic_id) -> list[tuple]:
    return read(session, lambda s: [
        (row.id, s.get(Case, row.case_id).reference, row.status, row.reason, row.changed_by_id, row.replaces_id)
        for row in s.scalars(select(ThematicSampleCase).where(ThematicSampleCase.thematic_id == thematic_id)
                             .order_by(ThematicSampleCase.id))])


def payloads(session, kind: str) -> list[dict]:
    return read(session, lambda s: [json.loads(p) for p in s.scalars(select(Event.payload).where(Event.kind == kind)
                                                                       .order_by(Event.seq))])


def test_the_qa_lead_removes_and_swaps_cases_with_reasons_and_the_audits_start_from_the_reviewed_sample(app, session):
    browsers, thematic_id = drawn_for_review(app, session)
    lead, psw = browsers["qa.lead"], browsers["psw"]
    rows = sample_rows(session, thematic_id)
    assert [row[2] for row in rows] == ["proposed"] * 3
    review_url = f"/thematic/{thematic_id}/review"
    page = lead.get(review_url).get_data(as_text=True)
    assert "3 cases proposed" in page and all(f'data-case="{row[1]}"' in page for row in rows)
    assert "Review the sample before the audits start" in lead.get(f"/thematic/{thematic_id}").get_data(as_text=True)
    assert psw.get(review_url).status_code == 403  # the commissioner does not review their own draw

    (removed_id, removed_ref, *_), (swapped_id, swapped_ref, *_), (kept_id, kept_ref, *_) = rows
    no_reason = lead.post(f"/thematic/{thematic_id}/sample/{removed_id}", data={"action": "remove",
                                                                              "remove_reason": "  "})
    assert no_reason.status_code == 422 and "Say why this case is removed from the sample." in no_reason.text
    assert lead.post(f"/thematic/{thematic_id}/sample/{removed_id}", data={
        "action": "remove", "remove_reason": "The case closes this week."}).status_code == 302

    # Ineligible cases named for the swap are refused with a message, and nothing changes.
    def other_service_case(s):
        return s.scalar(select(Case.reference).join(Team).join(Service).where(
            Service.name != SERVICE, Case.status == "open").order_by(Case.id))
    elsewhere = read(session, other_service_case)
    refused = lead.post(f"/thematic/{thematic_id}/sample/{swapped_id}", data={
        "action": "swap", "swap_reason": "Worker on long leave.", "replacement": elsewhere})
    assert refused.status_code == 422
    assert f"Case {elsewhere} is not in {SERVICE}, the service the commission is about." in refused.text
    again = lead.post(f"/thematic/{thematic_id}/sample/{swapped_id}", data={
        "action": "swap", "swap_reason": "Worker on long leave.", "replacement": kept_ref})
    assert again.status_code == 422 and f"Case {kept_ref} is already in this sample" in again.text
    taken_out = lead.post(f"/thematic/{thematic_id}/sample/{swapped_id}", data={
        "action": "swap", "swap_reason": "Worker on long leave.", "replacement": removed_ref})
    assert taken_out.status_code == 422 and "(or was taken out of it)" in taken_out.text
    assert lead.post(f"/thematic/{thematic_id}/sample/{swapped_id}", data={
        "action": "swap", "swap_reason": " ", "replacement": ""}).status_code == 422
    assert [row[2] for row in sample_rows(session, thematic_id)] == ["removed", "proposed", "proposed"]

    # A blank case: the next case of the seeded order that is still eligible comes in.
    def expected_next(s):
        thematic = s.get(ThematicAudit, thematic_id)
        taken = {row.case_id for row in s.scalars(select(ThematicSampleCase)
                                                   .where(ThematicSampleCase.thematic_id == thematic_id))}
        recent = recently_audited_cases(s, clock.today())
        return next(s.get(Case, case_id).reference for case_id in thematic.sequence
                    if case_id not in taken and case_id not in recent)
    wanted = read(session, expected_next)
    swapped = lead.post(f"/thematic/{thematic_id}/sample/{swapped_id}", data={
        "action": "swap", "swap_reason": "Worker on long leave.", "replacement": ""})
    assert swapped.status_code == 302
    assert f"Case {swapped_ref} swapped for case {wanted}." in lead.get(review_url).get_data(as_text=True)

    lead_id = read(session, lambda s: s.scalar(select(User.id).where(User.username == "qa.lead")))
    rows = sample_rows(session, thematic_id)
    assert rows[0][1:5] == (removed_ref, "removed", "The case closes this week.", lead_id)
    assert rows[1][1:5] == (swapped_ref, "swapped_out", "Worker on long leave.", lead_id)
    assert rows[3][1:6] == (wanted, "proposed", "Worker on long leave.", lead_id, swapped_id)
    assert {"case": removed_ref, "reason": "The case closes this week."}.items() <= \
        payloads(session, "thematic.sample_case_removed")[0].items()
    swap_event = payloads(session, "thematic.sample_case_swapped")
    assert len(swap_event) == 1 and swap_event[0]["case"] == swapped_ref and swap_event[0]["replaced_by"] == wanted
    assert swap_event[0]["reason"] == "Worker on long leave." and swap_event[0]["from_sequence"] is True

    assert psw.post(f"/thematic/{thematic_id}/confirm").status_code == 403
    assert lead.post(f"/thematic/{thematic_id}/confirm").status_code == 302
    instance_id = read(session, lambda s: s.get(ThematicAudit, thematic_id).instance_id)

    def started(s):
        ids = s.scalars(select(InstanceStart.instance_id).where(InstanceStart.parent_instance_id == instance_id))
        return sorted(a.case.reference for a in s.scalars(select(Audit).where(Audit.instance_id.in_(list(ids)))))
    assert read(session, started) == sorted([kept_ref, wanted])
    assert sorted(read(session, lambda s: s.get(ThematicAudit, thematic_id).sample)) == sorted([kept_ref, wanted])
    assert {"audits": 2, "removed": 1, "swapped": 1}.items() <= payloads(session, "thematic.sample_confirmed")[0].items()
    assert [row[2] for row in sample_rows(session, thematic_id)] == ["removed", "swapped_out", "started", "started"]

    report = psw.get(f"/thematic/{thematic_id}").get_data(as_text=True)
    assert 'id="sample-changes"' in report and "The case closes this week." in report
    assert f"Swapped for {wanted}" in report and "Worker on long leave." in report
    # Once the audits have started the review is over: changes are refused.
    late = lead.post(f"/thematic/{thematic_id}/sample/{rows[2][0]}", data={"action": "remove",
                                                                         "remove_reason": "Too late"})
    assert late.status_code == 422 and "can no longer be changed" in late.text
    assert lead.get(review_url).status_code == 302


def test_a_swap_refuses_a_case_of_another_cohort_a_closed_case_and_an_unknown_reference(app, session):
    browsers, thematic_id = drawn_for_review(app, session, cohort="child_protection")
    lead = browsers["qa.lead"]
    row_id = sample_rows(session, thematic_id)[0][0]

    def cases(s):
        in_service = select(Case).join(Team).join(Service).where(Service.name == SERVICE).order_by(Case.id)
        other_cohort = s.scalar(in_service.where(Case.cohort != "child_protection", Case.status == "open"))
        return other_cohort.reference
    other_cohort = read(session, cases)
    refused = lead.post(f"/thematic/{thematic_id}/sample/{row_id}", data={
        "action": "swap", "swap_reason": "Moved away", "replacement": other_cohort})
    assert refused.status_code == 422
    assert f"Case {other_cohort} is not in the child protection cohort the commission asks for." in refused.text

    def close(s):
        case = s.scalar(select(Case).where(Case.reference == other_cohort))
        case.cohort, case.status = "child_protection", "closed"
        s.commit()
    read(session, close)
    closed = lead.post(f"/thematic/{thematic_id}/sample/{row_id}", data={
        "action": "swap", "swap_reason": "Moved away", "replacement": other_cohort})
    assert closed.status_code == 422 and f"Case {other_cohort} is not open with an allocated worker." in closed.text
    unknown = lead.post(f"/thematic/{thematic_id}/sample/{row_id}", data={
        "action": "swap", "swap_reason": "Moved away", "replacement": "ZZ-000000"})
    assert unknown.status_code == 422 and "There is no case with the reference" in unknown.text
    assert [row[2] for row in sample_rows(session, thematic_id)][0] == "proposed"
    assert payloads(session, "thematic.sample_case_swapped") == []

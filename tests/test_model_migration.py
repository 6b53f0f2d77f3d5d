"""Moving running audits to a new version: previewed, only where their steps still exist,
recorded per instance, and the moved audit runs to the end on the new version."""
import json

import pytest
from sqlalchemy import select

from engine.accounts import User
from engine.runtime.errors import NotAllowed
from engine.runtime.events import verify_chain
from engine.runtime.instance_migration import migrate, preview
from engine.runtime.instances import complete_task, start_instance
from engine.runtime.models import Event, HumanTask, ProcessInstance, ProcessVersion
from engine.runtime.registry import PROCESSES_DIR, publish, read_model_from_disk
from tests import answers
from tests.conftest import user_named
from tests.model_samples import observation_files, with_step_after
from tests.test_engine_lifecycle import _allocate, _do, _open_task


def _case_file_audit_v2(session, step_after="store_moderation"):
    files = read_model_from_disk(PROCESSES_DIR / "case_file_audit")
    changed = with_step_after(files, "case_file_audit.bpmn", step_after, "check_moderation_record",
                              "Check the moderation record", form="reflection-schema.json")
    return publish(session, changed, note="Check the record after moderation")


def test_preview_lists_who_can_move_and_changes_nothing(session):
    audit = _allocate(session)
    version_two = _case_file_audit_v2(session)
    session.commit()
    before = session.get(ProcessInstance, audit.instance_id).serialized
    found = preview(session, "case_file_audit", 1, version_two.version, user_named(session, "qa.lead"))
    check = next(c for c in found.checks if c.instance_id == audit.instance_id)
    assert check.movable and check.current_steps == ["Prepare the audit"]
    assert session.get(ProcessInstance, audit.instance_id).serialized == before
    assert session.get(ProcessInstance, audit.instance_id).process_version_id == found.from_version.id


def test_moved_audit_takes_the_new_step_and_runs_to_the_end(session):
    audit = _allocate(session)
    _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
    _do(session, audit, "complete_audit_tool", audit.auditor_id, answers.audit_tool())
    _do(session, audit, "record_feedback", audit.auditor_id, answers.FEEDBACK)
    _do(session, audit, "grade_audit", audit.auditor_id, answers.grading("good", actions=0))
    _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
    draft_task = _open_task(session, audit, "moderate_audit")
    version_two = _case_file_audit_v2(session)
    session.commit()

    qa_lead = user_named(session, "qa.lead")
    moved = migrate(session, "case_file_audit", 1, version_two.version, [audit.instance_id], qa_lead)
    session.commit()
    assert [c.movable for c in moved] == [True]
    instance = session.get(ProcessInstance, audit.instance_id)
    assert instance.process_version_id == version_two.id
    assert _open_task(session, audit, "moderate_audit").id == draft_task.id  # the same inbox task, kept
    event = session.scalar(select(Event).where(Event.kind == "instance.migrated", Event.instance_id == instance.id))
    assert json.loads(event.payload)["to_hash"] == version_two.content_hash

    _do(session, audit, "moderate_audit", audit.moderator_id, answers.MODERATION_AGREED)
    new_step = _open_task(session, audit, "check_moderation_record")
    assert new_step is not None and new_step.lane == "Moderator" and new_step.assignee_id == audit.moderator_id
    _do(session, audit, "check_moderation_record", audit.moderator_id, answers.REFLECTION)
    _do(session, audit, "confirm_closure", qa_lead.id, answers.CLOSURE)
    assert session.get(ProcessInstance, audit.instance_id).status == "completed"
    assert verify_chain(session).ok


def test_an_instance_whose_completed_step_was_removed_stays(session):
    files = observation_files()
    publish(session, files)
    two_steps = with_step_after(files, "observation.bpmn", "start", "plan", "Plan the observation")
    version_two = publish(session, two_steps)
    session.commit()
    instance = start_instance(session, "observation", {}, actor_id=None)
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    complete_task(session, task.id, user_named(session, "qa.lead"), {"note": "planned"})
    session.commit()
    assert task.spec_name == "plan"
    version_three = publish(session, {**files, "process.json": files["process.json"].replace("Practice", "Home")})
    session.commit()

    qa_lead = user_named(session, "qa.lead")
    found = preview(session, "observation", version_two.version, version_three.version, qa_lead)
    assert [c.reasons for c in found.checks] == [["its completed step 'Plan the observation' does not exist in the new version"]]
    results = migrate(session, "observation", version_two.version, version_three.version, [instance.id], qa_lead)
    session.commit()
    assert not results[0].movable
    assert session.get(ProcessInstance, instance.id).process_version_id == version_two.id


def test_only_the_qa_lead_moves_instances(session):
    _case_file_audit_v2(session)
    with pytest.raises(NotAllowed):
        preview(session, "case_file_audit", 1, 2, user_named(session, "process.owner"))

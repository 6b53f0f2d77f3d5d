"""Drafts: saving never affects live work, a second concurrent save is refused, only process
owners publish (with a second person where required), and versions stay pinned."""
import json

import pytest
from sqlalchemy import select

from engine.accounts import User, UserRole
from engine.runtime.errors import NotAllowed
from engine.runtime.events import verify_chain
from engine.runtime.instances import complete_task, start_instance
from engine.runtime.model_catalogue import process
from engine.runtime.model_draft_models import ModelDraft, VersionRecord
from engine.runtime.model_drafts import (APPROVAL_VARIABLE, DraftConflict, DraftError, approve_draft, discard_draft,
                                         edit_manifest, open_draft, publish_draft, retire_version, save_draft)
from engine.runtime.models import Event, HumanTask, ProcessInstance, ProcessVersion
from engine.runtime.registry import publish
from tests.conftest import user_named
from tests.model_samples import observation_files, with_step_after


@pytest.fixture
def owner(session):
    return user_named(session, "process.owner")


@pytest.fixture
def observation(session):
    version = publish(session, observation_files())
    session.commit()
    return version


def add_step(session, owner, draft):
    changed = with_step_after(draft.files, "observation.bpmn", "observe", "discuss", "Discuss with the worker")
    return save_draft(session, "observation", owner, draft.revision, {"observation.bpmn": changed["observation.bpmn"]})


def second_owner(session) -> User:
    user = User(username="process.owner2", display_name="Second Process Owner", password_hash="x")
    user.role_rows.append(UserRole(role="process_owner"))
    session.add(user)
    session.flush()
    return user


def open_tasks(session, instance_id):
    return session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                   HumanTask.state == "ready")).all()


def test_saving_a_draft_never_affects_live_work(session, owner, observation):
    draft = open_draft(session, "observation", owner)
    draft, report = add_step(session, owner, draft)
    session.commit()
    assert draft.revision == 2 and report.ok
    assert session.get(ProcessVersion, observation.id).files == observation_files()
    instance = start_instance(session, "observation", {}, actor_id=None)
    assert instance.process_version_id == observation.id
    assert [t.spec_name for t in open_tasks(session, instance.id)] == ["observe"]


def test_a_second_concurrent_save_is_refused_and_nothing_is_overwritten(session, owner, observation):
    other = second_owner(session)
    draft = open_draft(session, "observation", owner)
    seen = draft.revision
    first, _ = add_step(session, other, draft)
    session.commit()
    saved_files = dict(first.files)
    with pytest.raises(DraftConflict) as refused:
        save_draft(session, "observation", owner, seen, {"observation.bpmn": observation_files()["observation.bpmn"]})
    session.rollback()
    assert "Second Process Owner saved this draft on" in str(refused.value)
    assert "Nothing of yours was saved and nothing was overwritten" in str(refused.value)
    assert session.scalar(select(ModelDraft)).files == saved_files


def test_a_file_that_could_not_be_opened_again_is_not_saved(session, owner, observation):
    draft = open_draft(session, "observation", owner)
    with pytest.raises(DraftError, match="observation.bpmn is not well-formed XML"):
        save_draft(session, "observation", owner, draft.revision, {"observation.bpmn": "<bpmn:definitions"})
    with pytest.raises(DraftError, match="document type declarations are not allowed"):
        save_draft(session, "observation", owner, draft.revision,
                   {"observation.bpmn": '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'})
    with pytest.raises(DraftError, match="is not valid JSON"):
        save_draft(session, "observation", owner, draft.revision, {"forms/observation-schema.json": "{"})
    assert draft.revision == 1 and draft.files == observation_files()


def test_only_process_owners_change_or_publish(session, observation):
    qa_lead = user_named(session, "qa.lead")
    with pytest.raises(NotAllowed):
        open_draft(session, "observation", qa_lead)
    draft = open_draft(session, "observation", user_named(session, "process.owner"))
    with pytest.raises(NotAllowed):
        publish_draft(session, "observation", qa_lead, draft.revision, "Change")


def test_publishing_needs_a_note_a_valid_model_and_something_new(session, owner, observation):
    draft = open_draft(session, "observation", owner)
    with pytest.raises(DraftError, match="identical to version 1"):
        publish_draft(session, "observation", owner, draft.revision, "No change")
    with pytest.raises(DraftError, match="Enter a change note"):
        publish_draft(session, "observation", owner, draft.revision, "  ")
    broken = with_step_after(draft.files, "observation.bpmn", "observe", "discuss", "Discuss", form=None)
    draft, report = save_draft(session, "observation", owner, draft.revision, {"observation.bpmn": broken["observation.bpmn"]})
    assert [p.element_id for p in report.errors] == ["discuss"]
    with pytest.raises(DraftError) as refused:
        publish_draft(session, "observation", owner, draft.revision, "Discuss")
    assert refused.value.problems == ["user task 'Discuss' (discuss): names no form"]


def test_running_instances_stay_on_their_version_new_ones_use_the_newest(session, owner, observation):
    before = start_instance(session, "observation", {}, actor_id=None)
    draft, _ = add_step(session, owner, open_draft(session, "observation", owner))
    version = publish_draft(session, "observation", owner, draft.revision, "Discuss each observation with the worker")
    session.commit()
    after = start_instance(session, "observation", {}, actor_id=None)
    session.commit()
    qa_lead = user_named(session, "qa.lead")
    for instance, expected in ((before, ["observe"]), (after, ["observe", "discuss"])):
        done = []
        while tasks := open_tasks(session, instance.id):
            done.append(tasks[0].spec_name)
            complete_task(session, tasks[0].id, qa_lead, {"note": "Seen"})
            session.commit()
        assert done == expected
        assert session.get(ProcessInstance, instance.id).status == "completed"
    assert before.process_version_id == observation.id and after.process_version_id == version.id
    published = session.scalar(select(Event).where(Event.kind == "model.published").order_by(Event.seq.desc()))
    assert json.loads(published.payload)["content_hash"] == version.content_hash
    record = session.get(VersionRecord, version.id)
    assert record.changed_by_id == owner.id and session.scalar(select(ModelDraft)) is None
    summary = process(session, "observation")
    assert [(row.version.version, row.instances) for row in summary.versions] == [(2, {"completed": 1}),
                                                                                 (1, {"completed": 1})]
    assert verify_chain(session).ok


def test_a_second_person_must_approve_when_the_council_requires_it(session, owner, observation, monkeypatch):
    monkeypatch.setenv(APPROVAL_VARIABLE, "second_person")
    other = second_owner(session)
    draft, _ = add_step(session, owner, open_draft(session, "observation", owner))
    with pytest.raises(DraftError, match="must approve it"):
        publish_draft(session, "observation", owner, draft.revision, "Discuss")
    with pytest.raises(DraftError, match="You changed this draft"):
        approve_draft(session, "observation", owner, draft.revision)
    approve_draft(session, "observation", other, draft.revision)
    draft, _ = save_draft(session, "observation", owner, draft.revision, {}, note="tweak")
    with pytest.raises(DraftError, match="it changed after it was approved"):
        publish_draft(session, "observation", owner, draft.revision, "Discuss")
    approve_draft(session, "observation", other, draft.revision)
    version = publish_draft(session, "observation", owner, draft.revision, "Discuss")
    assert session.get(VersionRecord, version.id).approved_by_id == other.id


def test_retiring_needs_a_reason_and_a_replacement(session, owner, observation):
    with pytest.raises(DraftError, match="only published version"):
        retire_version(session, "observation", 1, owner, "Superseded")
    draft, _ = add_step(session, owner, open_draft(session, "observation", owner))
    publish_draft(session, "observation", owner, draft.revision, "Discuss")
    with pytest.raises(DraftError, match="Enter the reason"):
        retire_version(session, "observation", 2, owner, "")
    retire_version(session, "observation", 2, owner, "The discussion step confused people")
    session.commit()
    instance = start_instance(session, "observation", {}, actor_id=None)
    assert instance.process_version_id == observation.id
    assert session.get(VersionRecord, session.scalar(select(ProcessVersion.id).where(
        ProcessVersion.version == 2, ProcessVersion.process_key == "observation"))).retired_by_id == owner.id


def test_discarding_removes_only_the_draft(session, owner, observation):
    draft = open_draft(session, "observation", owner)
    discard_draft(session, "observation", owner, draft.revision)
    assert session.scalar(select(ModelDraft)) is None and session.get(ProcessVersion, observation.id) is not None


def test_the_manifest_edits_an_editor_may_make():
    files = observation_files()
    text = edit_manifest(files, {"lanes": {"QA lead": {"role": "qa_officer", "person": " reviewer "}}})
    assert json.loads(text)["lanes"] == {"QA lead": {"role": "qa_officer", "person": "reviewer"}}
    with pytest.raises(DraftError, match="'bpmn_process_id' in process.json cannot be changed"):
        edit_manifest(files, {"bpmn_process_id": "other"})


def test_saving_lanes_keeps_their_separation_of_duties():
    from engine.runtime.model_drafts import _checked_lanes
    lanes = _checked_lanes({"Moderator": {"role": "qa_lead", "person": "moderator", "must_not_be": ["auditor"]},
                            "QA lead": {"role": "qa_lead", "person": ""}})
    assert lanes == {"Moderator": {"role": "qa_lead", "person": "moderator", "must_not_be": ["auditor"]},
                     "QA lead": {"role": "qa_lead", "person": None}}

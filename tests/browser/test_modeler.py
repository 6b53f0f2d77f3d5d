"""A process owner changes a model in the browser and publishes it, while audits run.

They open a draft, add a step in a lane with bpmn-js, see the problem validation finds
shown at the new step, attach a form and connect it in the properties panel and on the
canvas, try the draft in the sandbox, save that run as a test, and publish. An instance
started before publishing finishes on the old version; one started after uses the new.
"""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.database import make_session_factory
from engine.runtime.instances import complete_task, start_instance
from engine.runtime.models import HumanTask, ProcessInstance, ProcessVersion
from engine.runtime.registry import publish
from tests.browser.conftest import sign_in
from tests.conftest import user_named
from tests.model_samples import observation_files

pytestmark = pytest.mark.browser


def with_session(database_url, work):
    """Run `work(session)` and commit, closing at once: SQLite must be free for the app."""
    session = make_session_factory(database_url)()
    try:
        result = work(session)
        session.commit()
        return result
    finally:
        session.close()
        session.bind.dispose()


def element(page, element_id):
    return page.locator(f'g.djs-element[data-element-id="{element_id}"]')


def new_task(page):
    """The step the owner added: bpmn-js names new activities Activity_<random>."""
    return page.locator('g.djs-element.djs-shape[data-element-id^="Activity_"]')


def pick(page, shape):
    """Select a shape on the canvas (clicking the one already selected would unselect it)."""
    page.locator("#modeler-canvas").click(position={"x": 8, "y": 8})
    shape.click(force=True)  # a straight flow's box has no height: Playwright calls it invisible
    expect(page.locator(".djs-context-pad.open")).to_be_visible()


def context_pad(page, action):
    return page.locator(f'.djs-context-pad [data-action="{action}"]')


def finish_work(database_url, instance_id) -> list[str]:
    """Complete every task of an instance as the QA lead; the steps taken, in order."""
    def work(session):
        qa_lead, done = user_named(session, "qa.lead"), []
        while task := session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                             HumanTask.state == "ready")):
            done.append(task.spec_name)
            complete_task(session, task.id, qa_lead, {"note": "Seen"})
            session.commit()
        return done, session.get(ProcessInstance, instance_id).status
    return with_session(database_url, work)


def test_edit_validate_try_and_publish_a_model(page, database_url):
    before = with_session(database_url, lambda s: (publish(s, observation_files()), s.flush(),
                                                   start_instance(s, "observation", {}, actor_id=None).id)[-1])
    page.set_viewport_size({"width": 1400, "height": 1600})  # the editor whole on screen: no scrolling mid-drag
    sign_in(page, "process.owner")
    page.get_by_role("link", name="Process models", exact=True).click()
    page.get_by_role("link", name="Practice observation").click()
    page.get_by_role("button", name="Start a draft from version 1").click()
    expect(page.get_by_role("heading", name="Edit Practice observation")).to_be_visible()
    expect(element(page, "observe")).to_be_visible()

    # Add a step after the observation (in its lane), make it a user task, take out the old flow to the end.
    pick(page, element(page, "observe"))
    context_pad(page, "append.append-task").click()
    page.keyboard.type("Discuss with the worker")
    page.locator("#modeler-canvas").click(position={"x": 8, "y": 8})
    expect(new_task(page)).to_contain_text("Discuss with the worker")
    pick(page, new_task(page))
    context_pad(page, "replace").click()
    page.locator('.djs-popup [data-id="replace-with-user-task"]').click()
    page.locator("#modeler-canvas").click(position={"x": 8, "y": 8})
    old_flow = element(page, "flow_observe").bounding_box()  # its end: its start runs beside the new flow
    page.mouse.click(old_flow["x"] + old_flow["width"] - 10, old_flow["y"] + old_flow["height"] / 2)
    context_pad(page, "delete").click()
    expect(element(page, "flow_observe")).to_have_count(0)
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#modeler-status")).to_contain_text("Saved as revision 2")

    # Validation shows the problems at the elements they are about.
    step_id = new_task(page).get_attribute("data-element-id")
    step_badge = page.locator(f'.djs-overlays[data-container-id="{step_id}"] .app-problem-badge')
    end_badge = page.locator('.djs-overlays[data-container-id="end"] .app-problem-badge')
    expect(step_badge).to_be_visible()
    expect(end_badge).to_be_visible()
    expect(page.locator("#problems")).to_contain_text(f"({step_id}) has no way out")
    expect(page.locator("#problems")).to_contain_text("end event 'Observed' (end) can never be reached")

    # Lead the new step to the end, and save: now it needs a form.
    pick(page, new_task(page))
    context_pad(page, "connect").click()
    element(page, "end").click()
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#modeler-status")).to_contain_text("Saved as revision 3")
    expect(page.locator("#problems")).to_contain_text(f"user task 'Discuss with the worker' ({step_id}): names no form")
    expect(step_badge).to_be_visible()
    expect(end_badge).to_have_count(0)

    # Attach a form in the properties panel.
    pick(page, new_task(page))
    page.locator("#modeler-properties").get_by_text("How it runs here").click()
    page.locator("#bio-properties-panel-engine-form").select_option("observation-schema.json")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#modeler-status")).to_contain_text("No problems")
    expect(page.locator(".app-problem-badge")).to_have_count(0)

    # Try it in the sandbox, and keep the run as a test.
    page.get_by_role("link", name="Try it in the sandbox").click()
    expect(page.get_by_role("heading", name="Waiting: Record the observation")).to_be_visible()
    page.get_by_label("What did you observe?").fill("Warm and child-focused")
    page.get_by_role("button", name="Give these answers to 'Record the observation'").click()
    expect(page.get_by_role("heading", name="Waiting: Discuss with the worker")).to_be_visible()
    expect(element(page, "observe")).to_have_class(re.compile("app-path"))
    page.get_by_label("What did you observe?").fill("Agreed what to keep doing")
    page.get_by_role("button", name="Give these answers to 'Discuss with the worker'").click()
    expect(page.get_by_role("heading", name="The process ended")).to_be_visible()
    page.get_by_label("Scenario name").fill("A good visit")
    page.get_by_role("button", name="Save the scenario as a test").click()
    expect(page.get_by_text("Scenario 'A good visit' saved")).to_be_visible()

    # Publish.
    page.get_by_label("Change note").fill("Discuss every observation with the worker")
    page.get_by_role("button", name="Publish the draft").click()
    expect(page.get_by_text("Version 2 published")).to_be_visible()

    after = with_session(database_url, lambda s: start_instance(s, "observation", {}, actor_id=None).id)
    versions = with_session(database_url, lambda s: {
        i: s.scalar(select(ProcessVersion.version).join(ProcessInstance, ProcessInstance.process_version_id == ProcessVersion.id)
                    .where(ProcessInstance.id == i)) for i in (before, after)})
    assert versions == {before: 1, after: 2}
    assert finish_work(database_url, before) == (["observe"], "completed")
    assert finish_work(database_url, after) == (["observe", step_id], "completed")

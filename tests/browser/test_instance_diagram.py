"""The QA lead opens a running audit and finds the right steps marked on its diagram.

The audit is taken through its first steps by the engine before the browser starts.
What "right" means comes from outside the viewer's own data: the human-task
projection says which user tasks were completed and which one is open, and the
BPMN says which subprocess (if any) holds each of them. The QA lead goes from the
dashboard to the list to the instance, drills into subprocesses as a person would,
and must find the completed tasks marked completed, the open task marked active,
no marker on steps not reached, and every flow marked as taken joining two steps
that were reached. The version page then shows the open step with its count.
"""
import re

import pytest
from lxml import etree
from playwright.sync_api import expect
from sqlalchemy import select

from engine.database import make_session_factory
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Case, Team
from engine.runtime.instances import complete_task
from engine.runtime.models import HumanTask, ProcessInstance, ProcessVersion
from tests import answers
from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import user_named

pytestmark = pytest.mark.browser

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
STEPS_DONE = (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool()))


def audit_two_steps_in(database_url) -> dict:
    """Allocate an audit, complete its first two tasks, and say what the diagram should show."""
    session = make_session_factory(database_url)()
    try:
        auditor = user_named(session, "tm.mash1")
        case = session.scalar(select(Case).join(Team).where(Team.manager_id != auditor.id).order_by(Case.id))
        audit = allocate_audit(session, AllocationRequest(case.reference, auditor.id, user_named(session, "hos.cincp").id),
                               user_named(session, "qa.lead"))
        session.commit()
        for step, data in STEPS_DONE:
            task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                          HumanTask.spec_name == step, HumanTask.state == "ready"))
            complete_task(session, task.id, auditor, data)
            session.commit()
        tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == audit.instance_id)).all()
        version = session.get(ProcessVersion, session.get(ProcessInstance, audit.instance_id).process_version_id)
        xml = etree.fromstring(version.files[version.manifest["bpmn_files"][0]].encode())
        return {"reference": audit.reference,
                "completed": sorted(t.spec_name for t in tasks if t.state == "completed"),
                "open": [t.spec_name for t in tasks if t.state == "ready"],
                "plane": _planes(xml), "flows": _flows(xml), "user_tasks": _user_tasks(xml)}
    finally:
        session.close()
        session.bind.dispose()


def _planes(xml) -> dict[str, str | None]:
    """Element id -> the collapsed subprocess whose plane shows it (None: the top plane)."""
    planes = {}
    for element in xml.iter():
        if isinstance(element.tag, str) and element.get("id"):
            parent = element.getparent()
            in_subprocess = parent is not None and parent.tag == f"{BPMN}subProcess"
            planes[element.get("id")] = parent.get("id") if in_subprocess else None
    return planes


def _flows(xml) -> dict[str, tuple[str, str]]:
    return {flow.get("id"): (flow.get("sourceRef"), flow.get("targetRef")) for flow in xml.iter(f"{BPMN}sequenceFlow")}


def _user_tasks(xml) -> list[str]:
    return [task.get("id") for task in xml.iter(f"{BPMN}userTask")]


def marker_of(page, element_id: str) -> str:
    return page.locator(f'#diagram .djs-element[data-element-id="{element_id}"]').first.get_attribute("class") or ""


def show_plane(page, plane: str | None, showing: str) -> None:
    """Go to the top plane by the breadcrumbs, then drill into `plane` with its arrow button,
    until the element `showing` is drawn."""
    crumbs = page.locator("#diagram .bjs-breadcrumbs li")
    if crumbs.count() > 1:
        crumbs.first.locator("a, span").first.click()
    if plane is not None:
        page.locator(f'#diagram [data-container-id="{plane}"] .bjs-drilldown').click()
    expect(page.locator(f'#diagram .djs-element[data-element-id="{showing}"]').first).to_be_attached()


def test_the_qa_lead_finds_the_steps_marked_on_the_diagram(page, database_url):
    known = audit_two_steps_in(database_url)
    assert known["completed"] == sorted(step for step, _ in STEPS_DONE) and len(known["open"]) == 1
    sign_in(page, "qa.lead")
    page.get_by_role("link", name="Monitoring", exact=True).click()
    expect(page.get_by_role("heading", name="Monitoring")).to_be_visible()
    page.locator("#by-step").get_by_role("row").filter(has_text="Record feedback").get_by_role("link").click()
    expect(page.locator("#result-count")).to_contain_text("1 process found")
    page.get_by_role("link", name=known["reference"]).click()
    expect(page.get_by_role("heading", name=known["reference"])).to_be_visible()
    expect(page.locator("#diagram")).to_have_attribute("data-ready", "true")
    assert_accessible(page)  # the interactive diagram is a labelled group, not an image (nested-interactive)

    expected = {step: "completed" for step in known["completed"]} | {step: "active" for step in known["open"]}
    not_reached = [step for step in known["user_tasks"] if step not in expected]
    for plane in sorted({known["plane"][step] for step in expected}, key=str):
        on_plane = [step for step, where in known["plane"].items() if where == plane]
        show_plane(page, plane, next(step for step in expected if known["plane"][step] == plane))
        for step in on_plane:
            if step in expected:
                assert f"app-step--{expected[step]}" in marker_of(page, step), step
            elif step in not_reached:
                assert "app-step--" not in marker_of(page, step), step
        taken = page.locator("#diagram .djs-connection.app-path")
        flows = [taken.nth(index).get_attribute("data-element-id") for index in range(taken.count())]
        flows = [flow for flow in flows if known["plane"].get(flow) == plane]
        assert flows, f"no flow marked as taken on the plane of {plane or 'the process'}"
        for flow in flows:
            source, target = known["flows"][flow]
            assert "app-step--" in marker_of(page, source) and "app-step--" in marker_of(page, target), flow
    open_plane = known["plane"][known["open"][0]]
    show_plane(page, None, "audit_allocated")
    if open_plane is not None:  # a subprocess with an open task inside is itself open
        assert "app-step--active" in marker_of(page, open_plane)
    for step in not_reached:
        if known["plane"][step] is None:
            assert "app-step--" not in marker_of(page, step), step
    expect(page.locator("#diagram-status")).to_contain_text(re.compile("Open now: .*Record feedback"))

    page.get_by_role("link", name=re.compile(r"version \d+")).click()
    expect(page.locator("#diagram")).to_have_attribute("data-ready", "true")
    show_plane(page, open_plane, known["open"][0])
    expect(page.locator(f'#diagram .app-count--waiting[data-element="{known["open"][0]}"]')).to_have_text("1")

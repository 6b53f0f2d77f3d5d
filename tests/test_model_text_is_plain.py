"""Text from a model — a step's instructions, its form's title, labels and hints, the names the
sandbox shows — is never rendered as a template (issue 9): it is shown as escaped plain text,
so template markup shows as typed, reaches no Python internals, and HTML cannot run."""
import json

from sqlalchemy import select

from engine.runtime.instances import start_instance
from engine.runtime.model_drafts import create_draft
from engine.runtime.models import HumanTask
from engine.runtime.registry import publish
from tests.conftest import sign_in, user_named
from tests.model_samples import NOTE_FORM, OBSERVATION_BPMN, observation_files

WALK = "{{ ''.__class__.__mro__ }}"
LOOP = "{% for i in range(3) %}again{% endfor %}"
SCRIPT = "<script>alert(1)</script>"
MARKUP = f"{WALK} {LOOP} {SCRIPT}"


def hostile_model() -> dict[str, str]:
    escaped = MARKUP.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    bpmn = OBSERVATION_BPMN.replace("Observe a home visit and record what you saw.", escaped).replace(
        'name="Record the observation"', f'name="Record {escaped}"')
    form = {**NOTE_FORM, "title": MARKUP,
            "properties": {**NOTE_FORM["properties"],
                           "note": {"type": "string", "title": f"Note {MARKUP}", "description": f"Hint {MARKUP}"}}}
    return {**observation_files(bpmn), "forms/observation-schema.json": json.dumps(form)}


def assert_plain(page: str) -> None:
    assert "{{ &#39;&#39;.__class__.__mro__ }}" in page  # shown as typed, escaped
    assert "{% for i in range(3) %}again{% endfor %}" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and SCRIPT not in page
    assert "&lt;class" not in page and "<class" not in page and "againagain" not in page


def test_instructions_and_form_text_on_a_task_page_are_plain_text(app):
    from webapp.extensions import db
    with app.app_context():
        publish(db.session, hostile_model())
        instance = start_instance(db.session, "observation", {}, actor_id=None)
        db.session.commit()
        task_id = db.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
    client = app.test_client()
    sign_in(client, "qa.lead")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert page.count("{{ &#39;&#39;.__class__.__mro__ }}") >= 3  # instructions, label and hint at least
    assert_plain(page)


def test_names_in_the_sandbox_are_plain_text(app):
    from webapp.extensions import db
    with app.app_context():
        create_draft(db.session, hostile_model(), user_named(db.session, "process.owner"))
        db.session.commit()
    client = app.test_client()
    sign_in(client, "process.owner")
    page = client.get("/models/observation/draft/sandbox").get_data(as_text=True)
    assert "Record {{" in page
    assert_plain(page)

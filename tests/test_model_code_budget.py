"""Model code runs on a budget of time, loop steps and size (issue 9): past it the code stops with
a message naming the limit — in the sandbox as in a live instance, which goes to `error` — and the
server carries on serving."""
import pytest
from sqlalchemy import select

from engine.runtime import script_budget
from engine.runtime.instances import start_instance
from engine.runtime.model_drafts import create_draft
from engine.runtime.models import ProcessInstance
from engine.runtime.registry import publish
from engine.runtime.sandbox import Scenario, run
from engine.runtime.script_budget import Limits, ModelCodeRefused, ScriptLimitExceeded
from engine.runtime.services import ServiceContext, ServiceScriptEngine
from tests.conftest import sign_in, user_named
from tests.model_samples import flow, process_files

LONG_LOOP = "for i in range(40000000):\n    pass"
HUGE_TEXT = "text = 'x' * 10**10"


def environment():
    return ServiceScriptEngine(ServiceContext(None, None, None)).environment


def stopped(script: str, data: dict | None = None) -> str:
    with pytest.raises(ScriptLimitExceeded) as stop:
        environment().execute(script, dict(data or {}))
    return str(stop.value)


def looping_model(script: str) -> dict[str, str]:
    body = ('<bpmn:startEvent id="start"/><bpmn:scriptTask id="busy" name="Count a lot">'
            f'<bpmn:script>{script}</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="end"/>'
            + flow("start", "busy") + flow("busy", "end"))
    return process_files(body)


def test_each_budget_stops_code_with_a_message_naming_its_limit(monkeypatch):
    assert "range of 40,000,000 numbers" in stopped(LONG_LOOP) and "QA_SCRIPT_MAX_SIZE" in stopped(LONG_LOOP)
    assert "QA_SCRIPT_MAX_SIZE" in stopped(HUGE_TEXT)
    doubling = ["s = 'x'\nfor i in range(64):\n    s = s + s", "s = [1]\nfor i in range(64):\n    s.extend(s)",
                "s = [1]\nfor i in range(64):\n    s += s", "s = 'ab'\nfor i in range(64):\n    s = s.replace('a', s)",
                "s = '-'.join(['x' * 100000] * 100)", "s = str([text] * 1000000)", "s = f'{[text] * 1000000}'",
                "s = '%s' % ([text] * 1000000,)", "s = text.ljust(10**9)",
                "s = [list(range(1000000)) for i in range(10)]"]
    for script in doubling:
        assert "QA_SCRIPT_MAX_SIZE" in stopped(script, {"text": "x" * 100}), script
    assert "whole number" in stopped("n = 10**64\nfor i in range(10):\n    n = n ** 64")
    with pytest.raises(ModelCodeRefused, match="allowed up to 1000"):
        environment().execute("s = f'{text:>1000000000}'", {"text": "x"})
    monkeypatch.setattr(script_budget, "LIMITS", Limits(seconds=60, steps=10_000, size=10**6))
    assert "its loops ran more than 10,000 times" in stopped("n = 0\nfor i in range(200):\n    for j in range(200):\n"
                                                             "        n += 1")
    monkeypatch.setattr(script_budget, "LIMITS", Limits(seconds=0.05, steps=10**9, size=10**9))
    assert "QA_SCRIPT_TIME_LIMIT" in stopped("n = 0\nfor i in range(100000000):\n    n += i")


def test_ordinary_scripts_are_well_within_the_budget():
    data = {"cases": [{"ref": f"C{i}", "grade": "good" if i % 3 else "inadequate"} for i in range(2000)]}
    environment().execute(
        "weak = [c['ref'] for c in cases if c['grade'] == 'inadequate']\n"
        "summary = ', '.join(sorted(weak)[:5]) + f' and {len(weak) - 5} more'\n"
        "by_grade = {}\nfor c in cases:\n    by_grade[c['grade']] = by_grade.get(c['grade'], 0) + 1\n"
        "due = (date(2027, 1, 11) + timedelta(days=14)).isoformat()\n"
        "teams = sorted(['b', 'A', 'c'], key=str.lower)\ncounts = dict.fromkeys(teams, 0)\n"
        "label = str.join('/', teams) + '-' + str(len(teams)).zfill(3)", data)
    assert data["teams"] == ["A", "b", "c"] and data["counts"] == {"A": 0, "b": 0, "c": 0}
    assert data["label"] == "A/b/c-003"
    assert data["by_grade"] == {"good": 1333, "inadequate": 667} and data["due"] == "2027-01-25"
    weak = sorted(c["ref"] for c in data["cases"] if c["grade"] == "inadequate")
    assert data["summary"] == ", ".join(weak[:5]) + " and 662 more"


@pytest.mark.parametrize("script", [LONG_LOOP, HUGE_TEXT])
def test_the_sandbox_stops_a_script_past_its_budget_at_its_element(script):
    result = run(looping_model(script), Scenario())
    assert result.error_element == "busy" and "QA_SCRIPT_MAX_SIZE" in result.error
    assert not result.ended


@pytest.mark.parametrize("script", [LONG_LOOP, HUGE_TEXT])
def test_a_live_instance_goes_to_error_and_the_next_one_runs(session, script):
    publish(session, looping_model(script))
    instance = start_instance(session, "sample", {}, actor_id=None)
    session.commit()
    row = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance.id))
    assert row.status == "error"
    assert "'Count a lot' (busy) failed: ScriptLimitExceeded:" in row.last_error and "QA_SCRIPT_MAX_SIZE" in row.last_error
    publish(session, process_files('<bpmn:startEvent id="start"/><bpmn:scriptTask id="busy"><bpmn:script>n = 1'
                                   '</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="end"/>'
                                   + flow("start", "busy") + flow("busy", "end")))
    assert start_instance(session, "sample", {}, actor_id=None).status == "completed"


def test_the_sandbox_page_shows_the_stop_and_the_app_answers_the_next_request(app):
    from webapp.extensions import db
    with app.app_context():
        create_draft(db.session, looping_model(LONG_LOOP), user_named(db.session, "process.owner"))
        db.session.commit()
    client = app.test_client()
    sign_in(client, "process.owner")
    page = client.get("/models/sample/draft/sandbox")
    assert page.status_code == 200
    assert "range of 40,000,000 numbers" in page.get_data(as_text=True)
    assert client.get("/models").status_code == 200
    assert "Sample" in client.get("/models").get_data(as_text=True)

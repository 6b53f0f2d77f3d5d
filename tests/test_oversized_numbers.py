"""Numbers past what the database holds: a 404 for an id in the address, a message for a filter.

Every route with a numeric id is found in the app's own URL map, so a route added later
is covered too; each id is given values past the INTEGER columns (2^31, 2^63 and a
23-digit number) and must answer 404 (JSON under the API), never a 500. Every integer
filter and numeric form field of the pages and the API is given the same values and must
answer with a message by the field (or the page's "showing all" note), changing nothing.
The same checks run on PostgreSQL in tests/postgres/test_oversized_numbers_postgres.py.
"""
import re

from sqlalchemy import func, select
from werkzeug.routing import AnyConverter

from engine.runtime.models import Event
from tests.conftest import sign_in
from tests.test_access_matrix import audit_setup  # noqa: F401  (fixture)
from engine.whole_numbers import MAX_INTEGER
from webapp.url_converters import DatabaseIntegerConverter, digits_up_to

TOO_BIG = ("2147483648", "9223372036854775808", "99999999999999999999999")
HUGE = TOO_BIG[-1]


def numeric_routes(app) -> list[tuple[str, str, str]]:
    """(method, rule, id argument) for every numeric id in every route of the app."""
    found = []
    for rule in app.url_map.iter_rules():
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS", "HEAD"})[0]
        found += [(method, rule.rule, name) for name, converter in rule._converters.items()
                  if isinstance(converter, DatabaseIntegerConverter)]
    return found


def path_with(app, rule_text: str, argument: str, value: str) -> str:
    """The rule's path with `value` for `argument`, 1 for other ids and a valid word elsewhere."""
    rule = next(rule for rule in app.url_map.iter_rules() if rule.rule == rule_text)
    parts = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            parts[name] = sorted(converter.items)[0]
        elif isinstance(converter, DatabaseIntegerConverter):
            parts[name] = value if name == argument else 1
        else:
            parts[name] = "observation"
    return rule.build(parts, append_unknown=False)[1]


def check_url_ids(app, client) -> dict[str, str]:
    """What each numeric id answers with each too-big value, when that is not a 404."""
    wrong = {}
    for method, rule, argument in numeric_routes(app):
        for value in TOO_BIG:
            path = path_with(app, rule, argument, value)
            response = client.open(path, method=method)
            if response.status_code != 404:
                wrong[f"{method} {path}"] = str(response.status_code)
            elif path.startswith("/api/") and response.get_json()["code"] != 404:
                wrong[f"{method} {path}"] = "not JSON"
    return wrong


def check_filters(app, client, ids: dict) -> dict[str, str]:
    """Each integer filter and numeric field with a too-big value: what went wrong, if anything."""
    wrong = {}

    def expect(label: str, response, status: int, message: str) -> None:
        text = response.get_data(as_text=True)
        if response.status_code != status or message not in text:
            wrong[label] = f"{response.status_code}: {message!r} not in the answer"

    for name in ("version", "team", "service", "cycle", "auditor", "moderator", "page"):
        expect(f"/instances?{name}", client.get(f"/instances?{name}={HUGE}"), 200,
               f"{name.capitalize()} must be chosen from the list")
    expect("/instances?q", client.get(f"/instances?q={HUGE}"), 200, "<strong>0</strong> processes found")
    for name in ("service", "team", "owner", "cycle", "page"):
        expect(f"/tracker?{name}", client.get(f"/tracker?{name}={HUGE}"), 200, "must be chosen from the list")
    expect("/reports?service", client.get(f"/reports?service={HUGE}"), 200, "There is no such service")
    expect("/reports?team", client.get(f"/reports?team={HUGE}"), 200, "There is no such team")
    expect("POST /trail/exports", client.post("/trail/exports", data={"period": "6", "service_id": HUGE}), 422,
           "Choose from the list.")
    expect("POST /tracker/distribute", client.post("/tracker/distribute", data={"cycle": HUGE}), 422,
           "Choose a cycle from the list")
    expect("POST /audits/allocate", client.post("/audits/allocate", data={
        "case_reference": "X", "auditor_id": HUGE, "moderator_id": HUGE}), 422, "Choose the auditor")
    expect("POST /cycles/start", client.post("/cycles/start", data={
        "sample_basis": "per_team", "sample_size": HUGE, "cadence_weeks": "6"}), 422,
        "Enter the sample size as a whole number")
    expect("POST /retention/rules", client.post("/retention/rules", data={"audit_record": HUGE}), 422,
           "Enter a whole number of days")
    expect("POST reassign", client.post(f"/instances/{ids['instance']}/tasks/{ids['task']}/reassign",
                                        data={"assignee_id": HUGE, "reason": "Test"}), 422, "Choose")
    expect("/models/observation/migrate", client.get(f"/models/observation/migrate?from={HUGE}&to=1"), 302, "")
    expect("/models/observation/download", client.get(f"/models/observation/download?ref={HUGE}"), 404, "")
    api = client.post("/api/v1/audits", json={"case_reference": "X", "auditor_id": int(HUGE), "moderator_id": 1},
                      headers={"Authorization": f"Bearer {ids['token']}"})
    if api.status_code != 422 or "auditor_id" not in (api.get_json().get("errors") or {}):
        wrong["POST /api/v1/audits"] = f"{api.status_code}: {api.get_data(as_text=True)[:200]}"
    return wrong


def event_count(app) -> int:
    from webapp.extensions import db
    with app.app_context():
        count = db.session.scalar(select(func.count(Event.seq)))
        db.session.remove()
        return count


def qa_lead_client(app):
    client = app.test_client()
    sign_in(client, "qa.lead")
    return client


def api_token(client) -> str:
    return client.post("/api/v1/tokens", json={"username": "qa.lead", "password": "demo-password"}).get_json()["token"]


def test_every_numeric_id_in_an_address_is_a_404_past_the_columns_range(app):
    routes = numeric_routes(app)
    assert len(routes) >= 30, "the URL map should hold every numeric id of the pages and the API"
    assert {"/audits/<int:audit_id>", "/api/v1/tasks/<int:task_id>"} <= {rule for _, rule, _ in routes}
    assert check_url_ids(app, qa_lead_client(app)) == {}


def test_the_id_pattern_matches_exactly_the_numbers_up_to_its_maximum():
    for maximum in (0, 7, 10, 305, 2999):
        pattern = re.compile(digits_up_to(maximum))
        assert [n for n in range(4000) if pattern.fullmatch(str(n))] == list(range(maximum + 1)), maximum
    pattern = re.compile(digits_up_to(MAX_INTEGER))
    for number in (0, 999_999_999, 1_999_999_999, 2_147_483_639, MAX_INTEGER):
        assert pattern.fullmatch(str(number)), number
    for number in (MAX_INTEGER + 1, 2_147_483_650, 2_200_000_000, 9_999_999_999, 2**63):
        assert not pattern.fullmatch(str(number)), number


def test_negative_and_signed_ids_are_404s(client):
    for path in ("/audits/-1", "/audits/+1", "/api/v1/audits/-5", "/instances/-1/diagram"):
        assert client.get(path).status_code == 404, path


def test_ids_within_the_range_still_route(app, audit_setup):  # noqa: F811
    client = qa_lead_client(app)
    assert client.get(f"/audits/{audit_setup['audit']}").status_code == 200
    assert client.get("/audits/2147483647").status_code == 404  # the largest id routes, and is not there


def test_every_integer_filter_and_field_answers_a_message(app, audit_setup):  # noqa: F811
    client = qa_lead_client(app)
    ids = {**audit_setup, "token": api_token(client)}
    before = event_count(app)
    assert check_filters(app, client, ids) == {}
    # Only the reads of the lists and the report were recorded: nothing was allocated, started,
    # exported, distributed, reassigned or changed.
    assert {kind for (kind,) in _events_since(app, before)} == {"instances.listed", "report.viewed", "tracker.viewed"}


def _events_since(app, seq: int):
    from webapp.extensions import db
    with app.app_context():
        rows = db.session.execute(select(Event.kind).where(Event.seq > seq)).all()
        db.session.remove()
        return rows

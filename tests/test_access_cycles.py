"""Every cycle and case register route, for every kind of user, against an explicit allow/deny table.

Set-up: cycle 1 is confirmed (its audits started, so it has a tracker) and cycle 2
is drawn and awaiting review; one register import has run. Each person below asks
for every route in a fresh copy of that state. The expected outcome is written out
by hand, not derived from the code under test. Which tracker rows each person sees
is tested in tests/test_cycles_web.py.
"""
import io

import pytest
from sqlalchemy import select

from engine.qa import cycles, register_jobs
from engine.qa.cycle_models import CycleAllocation
from tests.conftest import sign_in, user_named

PEOPLE = {
    "anonymous": None,
    "practitioner": "sw.mash1.1",
    "team manager": "tm.mash1",
    "head of service": "hos.cincp",
    "principal social worker": "psw",
    "QA lead": "qa.lead",
    "QA officer": "qa.officer1",
    "assistant director": "ad.safeguarding",
    "director": "director",
    "reviewing officer": "iro1",
    "conference and review manager": "cr.manager",
    "process owner": "process.owner",
}
SEES_CYCLES = {"team manager", "head of service", "principal social worker", "QA lead", "QA officer",
               "assistant director", "director"}
KEEPS_THE_REGISTER = {"QA lead", "QA officer"}

ROUTES = (
    "/cycles", "/cycles/start", "POST /cycles/start", "/cycles/{review}", "/cycles/{review}/review",
    "/cycles/{review}/allocations/{allocation}", "POST /cycles/{review}/allocations/{allocation}",
    "/cycles/{started}/tracker", "/cycles/{started}/tracker.xlsx", "/cycles/{started}/tracker.csv",
    "/register", "POST /register", "/register/imports/{job}", "/register/imports/{job}/progress",
    "POST /cycles/{review}/confirm",  # last: it starts cycle 2's audits
)


def expected(who: str) -> dict[str, int]:
    if who == "anonymous":
        return {route: 302 for route in ROUTES}
    sees, qa_lead, register = who in SEES_CYCLES, who == "QA lead", who in KEEPS_THE_REGISTER
    return {
        "/cycles": 200 if sees else 403,
        "/cycles/start": 200 if qa_lead else 403,
        # Cycle 2 is awaiting review: the QA lead is told so; nobody else may ask.
        "POST /cycles/start": 422 if qa_lead else 403,
        "/cycles/{review}": 200 if sees else 403,
        "/cycles/{review}/review": 200 if qa_lead else 403,
        "/cycles/{review}/allocations/{allocation}": 200 if qa_lead else 403,
        # Removing a case without a reason: refused as incomplete for the QA lead only.
        "POST /cycles/{review}/allocations/{allocation}": 422 if qa_lead else 403,
        "/cycles/{started}/tracker": 200 if sees else 403,
        "/cycles/{started}/tracker.xlsx": 200 if sees else 403,
        "/cycles/{started}/tracker.csv": 200 if sees else 403,
        "/register": 200 if register else 403,
        # No file: refused as incomplete for the QA team.
        "POST /register": 422 if register else 403,
        "/register/imports/{job}": 200 if register else 403,
        "/register/imports/{job}/progress": 200 if register else 403,
        "POST /cycles/{review}/confirm": 302 if qa_lead else 403,
    }


@pytest.fixture
def cycle_setup(app):
    from webapp.extensions import db
    with app.app_context():
        session = db.session
        qa_lead = user_named(session, "qa.lead")
        started = cycles.start_cycle(session, qa_lead, sample_basis="per_team", sample_size=1, cadence_weeks=6)
        session.commit()
        cycles.confirm_cycle(session, started, qa_lead)
        session.commit()
        review = cycles.start_cycle(session, qa_lead, sample_basis="per_team", sample_size=1, cadence_weeks=6)
        job = register_jobs.begin(session, "register.csv", actor_id=qa_lead.id, background=False)
        session.commit()
        register_jobs.run_import(session, job, "register.csv",
                                 b"case_reference,cohort,team,worker,opened_on\nACC0001,Child in need,MASH 1,sw.mash1.1,2026-01-01\n",
                                 actor_id=qa_lead.id, apply_good_rows=False)
        session.commit()
        allocation = session.scalar(select(CycleAllocation.id).where(CycleAllocation.cycle_id == review.id).limit(1))
        return {"started": started.id, "review": review.id, "allocation": allocation, "job": job}


def call(client, route: str, ids: dict):
    method, _, path = route.partition(" ") if route.startswith("POST ") else ("GET", "", route)
    path = path.format(**ids)
    if method == "GET":
        return client.get(path)
    if path == "/register":
        return client.post(path, data={"register": (io.BytesIO(b""), "")}, content_type="multipart/form-data")
    if path == "/cycles/start":
        return client.post(path, data={"sample_basis": "per_team", "sample_size": "1", "cadence_weeks": "6"})
    return client.post(path, data={"action": "remove", "reason": ""})


@pytest.mark.parametrize("who", list(PEOPLE))
def test_role_by_route(app, cycle_setup, who):
    client = app.test_client()
    if PEOPLE[who]:
        sign_in(client, PEOPLE[who])
    outcomes = {route: (call(client, route, cycle_setup).status_code, status)
                for route, status in expected(who).items()}
    wrong = {route: f"got {got}, expected {want}" for route, (got, want) in outcomes.items() if got != want}
    assert not wrong, f"{who}: {wrong}"


def test_the_header_offers_cycles_and_the_register_only_to_those_who_may_use_them(app, cycle_setup):
    for who, username in PEOPLE.items():
        if username is None:
            continue
        client = app.test_client()
        sign_in(client, username)
        header = client.get("/inbox").text.split("</nav>")[0]  # the service navigation under the header
        assert ('href="/cycles"' in header) == (who in SEES_CYCLES), who
        assert ('href="/register"' in header) == (who in KEEPS_THE_REGISTER), who

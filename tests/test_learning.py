"""Learning that cascades (issue 11, point 6): the QA lead publishes a report's narrative
and counts, or a 7-minute briefing, to chosen teams or services; readers there see it and
nobody else does; each reading is kept and the QA lead sees who has read it."""
import json

from sqlalchemy import select

from engine.qa.learning_models import LearningAudience, LearningPublication, LearningReading
from engine.qa.models import Team
from tests.test_report_narrative import SECTIONS, display_name, narrative_url, sign_off_narrative
from tests.test_reports_web import CYCLE_ONE, events_of, history, signed_in  # noqa: F401  (fixture)

BRIEFING = {"title": "Chronologies: why they matter",
            "what_happened": "Half the chronologies we audited were out of date.",
            "why_it_matters": "A chronology shows patterns of harm over time.",
            "do_differently": "Update the chronology after every significant event.",
            "team_questions": "When did you last update yours?"}


def team_id(app, name):
    from webapp.extensions import db
    with app.app_context():
        return db.session.scalar(select(Team.id).where(Team.name == name))


def table(app, model):
    from webapp.extensions import db
    with app.app_context():
        return db.session.scalars(select(model)).all()


def publish_briefing(app, teams=(), services=(), client=None):
    return (client or signed_in(app, "qa.lead")).post("/learning/briefings/new",
                                          data={**BRIEFING, "teams": list(teams), "services": list(services)})


def test_a_briefing_published_to_one_team_is_seen_there_and_not_elsewhere(app, history):
    published = publish_briefing(app, teams=[team_id(app, "MASH 1")])
    assert published.status_code == 302
    [publication] = table(app, LearningPublication)
    assert published.location.endswith(f"/learning/{publication.id}")
    assert [(a.team_id, a.service_id) for a in table(app, LearningAudience)] == [(team_id(app, "MASH 1"), None)]
    assert events_of(app, "learning.published")[0][1]["teams"] == [team_id(app, "MASH 1")]

    for inside in ("tm.mash1", "sw.mash1.1"):
        client = signed_in(app, inside)
        listing = client.get("/learning").text
        assert "Chronologies: why they matter" in listing and "Not yet" in listing
        opened = client.get(f"/learning/{publication.id}").text
        assert "Half the chronologies we audited were out of date." in opened
        assert "What to do differently" in opened and "When did you last update yours?" in opened
        assert "Who has read it" not in opened
        assert "Yes</td>" in client.get("/learning").text
    for outside in ("tm.cic1", "sw.cic1.1", "sw.mash2.1"):
        client = signed_in(app, outside)
        assert "Chronologies: why they matter" not in client.get("/learning").text
        assert client.get(f"/learning/{publication.id}").status_code == 404
    readings = table(app, LearningReading)
    assert len(readings) == 2 and {r.publication_id for r in readings} == {publication.id}


def test_reading_is_recorded_once_and_the_qa_lead_sees_who_has_read_it(app, history):
    publish_briefing(app, teams=[team_id(app, "MASH 1")])
    [publication] = table(app, LearningPublication)
    reader = signed_in(app, "sw.mash1.1")
    reader.get(f"/learning/{publication.id}")
    reader.get(f"/learning/{publication.id}")
    assert len(table(app, LearningReading)) == 1
    read = events_of(app, "learning.read")
    assert [payload["first_reading"] for _, payload in read] == [True, False]
    lead = signed_in(app, "qa.lead")
    assert "1 person</td>" in lead.get("/learning").text
    page = lead.get(f"/learning/{publication.id}").text
    assert "Who has read it" in page and "1 person has read it" in page and "MASH 1</td>" in page
    assert len(table(app, LearningReading)) == 1  # the QA lead opening it is not a team's reading


def test_publishing_to_a_service_reaches_its_teams_only(app, history):
    services = history
    publish_briefing(app, services=[services["Front Door and Assessment"]])
    [publication] = table(app, LearningPublication)
    assert signed_in(app, "sw.mash2.1").get(f"/learning/{publication.id}").status_code == 200
    assert signed_in(app, "tm.cic1").get(f"/learning/{publication.id}").status_code == 404


def test_a_briefing_with_gaps_or_no_audience_is_refused_and_a_second_click_publishes_nothing_more(app, history):
    client = signed_in(app, "qa.lead")
    refused = client.post("/learning/briefings/new", data={**BRIEFING, "why_it_matters": ""})
    assert refused.status_code == 422
    assert "Enter why it matters" in refused.text and "Choose at least one service or team to publish to" in refused.text
    unknown = client.post("/learning/briefings/new", data={**BRIEFING, "teams": ["99999"]})
    assert unknown.status_code == 422 and "Choose services and teams from the list" in unknown.text
    assert table(app, LearningPublication) == []
    publish_briefing(app, teams=[team_id(app, "MASH 1")], client=client)
    again = publish_briefing(app, teams=[team_id(app, "MASH 1")], client=client)
    assert again.status_code == 302 and len(table(app, LearningPublication)) == 1
    assert "This briefing was already published to them." in client.get(again.location).text
    assert len(events_of(app, "learning.published")) == 1


def test_a_published_report_carries_the_narrative_and_counts_with_small_numbers_hidden(app, history):
    lead = signed_in(app, "qa.lead")
    assert lead.post(f"/reports/publish?period={CYCLE_ONE}&service=", data={"teams": [team_id(app, "MASH 1")]}
                     ).status_code == 422  # no narrative yet
    lead.post(narrative_url(), data=SECTIONS)
    unsigned = lead.post(f"/reports/publish?period={CYCLE_ONE}&service=", data={"teams": [team_id(app, "MASH 1")]})
    assert unsigned.status_code == 422 and "The narrative must be signed off before the report is published" \
        in unsigned.text and table(app, LearningPublication) == []
    sign_off_narrative(app, lead)
    missing = lead.post(f"/reports/publish?period={CYCLE_ONE}&service=", data={})
    assert missing.status_code == 422 and "Choose at least one service or team to publish to" in missing.text
    published = lead.post(f"/reports/publish?period={CYCLE_ONE}&service=", data={"teams": [team_id(app, "MASH 1")]})
    assert published.status_code == 302
    [publication] = table(app, LearningPublication)
    body = json.loads(publication.body)
    figures = dict(body["figures"])
    # Cycle one: 6 allocated, 5 graded (1 Outstanding, 2 Good, 1 RI, 1 Inadequate).
    assert figures["Audits allocated"] == "6"
    assert figures["Graded Good"] == "fewer than 5" and figures["Graded Inadequate"] == "fewer than 5"
    assert not any("%" in value for value in figures.values())
    page = signed_in(app, "tm.mash1").get(f"/learning/{publication.id}").text
    assert "2025/26 cycle 1: All services" in page and "Refresh the chronology guidance." in page
    assert body["signed_off"].startswith(f"Signed off by {display_name(app, 'psw')} on ") and body["signed_off"] in page
    assert "fewer than 5" in page and "Audits allocated" in page
    assert signed_in(app, "tm.cic1").get(f"/learning/{publication.id}").status_code == 404


def test_heads_of_service_read_what_was_published_to_their_service_or_its_teams_and_their_reading_is_kept(app, history):
    publish_briefing(app, services=[history["Front Door and Assessment"]])
    signed_in(app, "qa.lead").post("/learning/briefings/new", data={
        **BRIEFING, "title": "Placement stability", "teams": [team_id(app, "Children in Care 1")]})
    to_front_door, to_care_team = sorted(table(app, LearningPublication), key=lambda p: p.id)
    front_door = signed_in(app, "hos.frontdoor")
    listing = front_door.get("/learning").text
    assert "Chronologies: why they matter" in listing and "Placement stability" not in listing and "Not yet" in listing
    opened = front_door.get(f"/learning/{to_front_door.id}").text
    assert "Half the chronologies we audited were out of date." in opened and "Who has read it" not in opened
    assert front_door.get(f"/learning/{to_care_team.id}").status_code == 404
    care = signed_in(app, "hos.cic")
    assert "Placement stability" in care.get("/learning").text and "Chronologies" not in care.get("/learning").text
    assert care.get(f"/learning/{to_front_door.id}").status_code == 404
    assert care.get(f"/learning/{to_care_team.id}").status_code == 200

    from engine.accounts import User
    readers = {(reading.publication_id, reading.user_id) for reading in table(app, LearningReading)}
    heads = {user.username: user.id for user in table(app, User) if user.username in ("hos.frontdoor", "hos.cic")}
    assert readers == {(to_front_door.id, heads["hos.frontdoor"]), (to_care_team.id, heads["hos.cic"])}
    first_readings = [actor for actor, payload in events_of(app, "learning.read") if payload["first_reading"]]
    assert first_readings == [heads["hos.frontdoor"], heads["hos.cic"]]
    seen_by_lead = signed_in(app, "qa.lead").get(f"/learning/{to_front_door.id}").text
    assert "1 person has read it" in seen_by_lead and display_name(app, "hos.frontdoor") in seen_by_lead

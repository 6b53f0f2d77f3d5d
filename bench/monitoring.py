"""Monitoring at scale: the dashboard and the instance list with tens of thousands of instances.

The issue asks that the QA lead's pages stay fast with 20,000 instances and 200,000
events, because they read the projections (process_instances, human_tasks, audits),
never a workflow. Running 20,000 audits through the engine would take hours, so the
rows are written in bulk, shaped like the real ones: every instance row carries a real
serialized workflow (taken from an audit run through the engine in the same database),
open instances have their open human tasks and closed ones their completed tasks, the
audits spread over teams, auditors, moderators, statuses, grades and nine cycles, the
actions tracker has its actions, and the events are a real hash chain that
`verify-chain` accepts.

Each page is requested through Flask's test client as the QA lead (and the dashboard
and list as a head of service, whose view is scoped), on a small council (200
instances) and a large one (20,000), on SQLite and, when a server is reachable, on
PostgreSQL. The ratio large/small shows how a page grows with the number of
instances: the budget is that it grows far slower than the data.

The open work is bounded, as in a council: the shares of OPEN_STEPS (57% of audits open,
spread over the steps) apply to the OPEN_WINDOW most recent instances only, and every
older instance is closed history, completed more than a cycle and a half ago. A council
of 100 teams auditing 5 cases each per six-week cycle allocates about 500 audits a cycle;
with moderation and action reviews running into the next cycles, about three cycles'
audits (1,500) can still be open, while closed audits accumulate year on year. So the
200 → 20,000 → 100,000 ratios measure growth in history, not in open work (a council of
200 has all 200 in the window, so its open share is the same as before). The window's cases,
audits and instances are numbered above the history's (WINDOW_IDS), as the newest are, though
a growing council writes them first. The earlier
shape, with the open shares applied to every instance whatever the size (57% open at
100,000), is kept behind --open-share-everywhere to reproduce the earlier figures.

    .venv/bin/python -m bench.monitoring                       # 200 and 20,000 instances; PostgreSQL also 100,000
    .venv/bin/python -m bench.monitoring --instances 5000      # quicker
    python bench/monitoring.py --postgres-url ""               # SQLite only
    .venv/bin/python -m bench.monitoring --postgres-largest 0  # PostgreSQL without the 100,000 point
    .venv/bin/python -m bench.monitoring --skip-sqlite         # PostgreSQL only
    .venv/bin/python -m bench.monitoring --open-share-everywhere  # the earlier shape: 57% open at any size
"""
import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import median

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, update

import engine.qa  # noqa: F401  (registers the service operations the real audit calls)
import engine.schema  # noqa: F401  (every table, for the bulk inserts)
from bench.audit_throughput import fresh_postgres_database, p95, postgres_problem, seed_database
from engine.accounts import User
from engine.clock import clock
from engine.database import make_session_factory
from engine.qa.cycle_models import AuditCycle
from engine.qa.grading_scale import scale_of_version
from engine.qa.models import Audit, AuditAction, Case, Service, Team
from engine.runtime.events import canonical_json, event_hash
from engine.runtime.monitoring import OPEN_STATUSES as OPEN_INSTANCE_STATUSES
from engine.runtime.models import ChainHead, Event, HumanTask, ProcessInstance, ProcessVersion
from tests import answers
from tests.test_monitoring import allocate, do, grade

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_INSTANCES = 20_000
SMALL_INSTANCES = 200
# The production database is also measured with a council five times the default:
# the pages must stay flat from 200 to 100,000 instances.
POSTGRES_LARGEST = 100_000
EVENTS_PER_INSTANCE = 10
DEFAULT_REPEAT = 15
CYCLES = 9
BATCH = 2_000
SEED = 11
# How many of the most recent instances can be open (see the docstring): three cycles' audits.
OPEN_WINDOW = 1_500
# How recent the open window's audits are, and how far back the closed history starts, in days.
OPEN_WINDOW_DAYS = (1, 84)
HISTORY_DAYS = (84, 365 * 10)
EVERYWHERE_DAYS = (1, 365)
# The open window's cases, audits and instances are numbered from here, the history below it:
# a council's open work is its newest, so its ids are the highest, whatever order it is written in.
WINDOW_IDS = 10_000_000
# How open audits are spread over the steps of the case file audit: (audit status, open steps, share).
OPEN_STEPS = (
    ("allocated", ("prepare_audit",), 0.12),
    ("in_progress", ("complete_audit_tool",), 0.08),
    ("in_progress", ("record_feedback",), 0.06),
    ("in_progress", ("grade_audit",), 0.06),
    ("awaiting_moderation", ("add_reflections",), 0.05),
    ("awaiting_moderation", ("add_reflections", "acknowledge_escalation"), 0.01),
    ("awaiting_moderation", ("moderate_audit",), 0.07),
    ("actions_in_review", ("review_action", "review_action"), 0.08),
    ("awaiting_closure", ("confirm_closure",), 0.04),
)
CLOSED_SHARE = 1 - sum(share for *_, share in OPEN_STEPS)
ROLES = {"prepare_audit": "team_manager", "complete_audit_tool": "team_manager", "record_feedback": "team_manager",
         "grade_audit": "team_manager", "add_reflections": "practitioner", "acknowledge_escalation": "head_of_service",
         "moderate_audit": "qa_lead", "review_action": "team_manager", "confirm_closure": "qa_lead"}
HOLDER = {"prepare_audit": "auditor", "complete_audit_tool": "auditor", "record_feedback": "auditor",
          "grade_audit": "auditor", "add_reflections": "worker", "acknowledge_escalation": "head_of_service",
          "moderate_audit": "moderator", "review_action": "team_manager", "confirm_closure": None}
GRADE_MIX = (("outstanding", 0.05), ("good", 0.45), ("requires_improvement", 0.40), ("inadequate", 0.10))
ANSWERS = {"prepare_audit": answers.PREPARE, "complete_audit_tool": answers.audit_tool(),
           "record_feedback": answers.FEEDBACK, "grade_audit": answers.grading(), "add_reflections": answers.REFLECTION,
           "moderate_audit": answers.MODERATION_AGREED, "review_action": answers.action_review(),
           "confirm_closure": answers.CLOSURE}


class BenchError(Exception):
    pass


@dataclass
class Column:
    """One database's figures: request name -> milliseconds per run, for each council size."""
    label: str
    timings: dict[int, dict[str, list[float]]] = field(default_factory=dict)
    sizes: dict[int, dict[str, int]] = field(default_factory=dict)
    skipped: str = ""


# ------------------------------------------------------------------ the data

def real_workflows(url: str) -> dict:
    """Run one audit through the engine to closure, keeping its serialized workflow early and at the end."""
    factory = make_session_factory(url)
    with factory() as session:
        audit = allocate(session, "Children in Care 1", "tm.mash1", "hos.cincp")
        early = session.get(ProcessInstance, audit.instance_id).serialized
        grade(session, audit, "good", actions=1)
        for step in ("add_reflections", "moderate_audit", "review_action", "confirm_closure"):
            holder = {"add_reflections": audit.worker_id, "moderate_audit": audit.moderator_id,
                      "review_action": audit.team_manager_id, "confirm_closure": "qa.lead"}[step]
            do(session, audit, step, holder, ANSWERS[step])
        session.refresh(audit)
        late = session.get(ProcessInstance, audit.instance_id).serialized
        version_id = session.get(ProcessInstance, audit.instance_id).process_version_id
        instance_id = audit.instance_id
        scale = scale_of_version(session.get(ProcessVersion, version_id))
    factory.kw["bind"].dispose()
    return {"early": early, "late": late, "version_id": version_id, "real_instance": instance_id,
            "grading_scale": scale.signature, "judgement_area": scale.judgement_area_for("child_in_need")}


def generate(url: str, instances: int, events_per_instance: int, workflows: dict, *, already: int = 0,
             open_window: int | None = OPEN_WINDOW) -> dict[str, int]:
    """Write `instances` audits with their instances, tasks, actions and events, in bulk.

    `already` is how many the council has from earlier calls: the first `open_window` of the
    council's instances are its recent, partly open work, the rest closed history (None: the
    open shares everywhere, the earlier shape)."""
    rng = random.Random(SEED)
    factory = make_session_factory(url)
    with factory() as session:
        org = _organisation(session)
        history_ids, window_ids = _next_ids(session, below=WINDOW_IDS), _next_ids(session, below=None)
        window_ids = {table: max(WINDOW_IDS, next_id) for table, next_id in window_ids.items()}
        first_cycle_id = (session.scalar(select(func.max(AuditCycle.id))) or 0) + 1
        version = session.get(ProcessVersion, workflows["version_id"]).version
        head = session.get(ChainHead, 1)
        chain = {"seq": head.seq, "hash": head.hash}
        now = clock.now()
        cycles = _cycles(session, first_cycle_id, now)
        rows = {"case": [], "audit": [], "instance": [], "task": [], "action": [], "event": []}
        counts = {name: 0 for name in rows}
        for number in range(instances):
            if open_window is None:
                days, may_be_open = EVERYWHERE_DAYS, True
            else:
                may_be_open = already + number < open_window
                days = OPEN_WINDOW_DAYS if may_be_open else HISTORY_DAYS
            ids = window_ids if open_window is not None and may_be_open else history_ids
            _one_audit(rng, dict(ids), org, cycles, workflows, version, now, rows, events_per_instance, days, may_be_open)
            for table in ids:
                ids[table] += 1
            if len(rows["event"]) >= BATCH * 5 or number == instances - 1:
                _flush(session, rows, counts, chain)
        session.execute(update(ChainHead).where(ChainHead.id == 1).values(seq=chain["seq"], hash=chain["hash"]))
        session.commit()
    _analyze(factory)
    return counts


def _next_ids(session, below: int | None) -> dict[str, int]:
    """The next free case, audit and instance ids (below `below`, if given)."""
    def next_id(column):
        query = select(func.max(column))
        return (session.scalar(query.where(column < below) if below else query) or 0) + 1
    return {"case": next_id(Case.id), "audit": next_id(Audit.id), "instance": next_id(ProcessInstance.id)}


def _analyze(factory) -> None:
    """PostgreSQL: vacuum and gather planner statistics, as autovacuum does soon after a real
    load of this size (rows written in seconds here would otherwise be planned for as an empty
    table; and since PostgreSQL 13 autovacuum also vacuums tables that are only inserted into,
    which marks their pages all-visible, so the planner can count through index-only scans).
    SQLite is left as the demo leaves it, without statistics."""
    engine = factory.kw["bind"]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def _cycles(session, first_id: int, now: datetime) -> list[dict]:
    """The nine six-weekly cycles of the last year, made on the first call."""
    made = session.execute(select(AuditCycle.id).where(AuditCycle.number >= 100).order_by(AuditCycle.number)).all()
    if made:
        return [{"id": row.id} for row in made]
    cycles = [{"id": first_id + n, "number": 100 + n, "status": "closed" if n < CYCLES - 1 else "audits_started",
               "starts_on": (now - timedelta(weeks=6 * (CYCLES - n))).date(), "cadence_weeks": 6,
               "sample_basis": "per_team", "sample_size": 2, "created_at": now} for n in range(CYCLES)]
    session.execute(insert(AuditCycle), cycles)
    return cycles


def _organisation(session) -> dict:
    teams = session.execute(select(Team.id, Team.service_id, Team.manager_id)).all()
    workers = {}
    for user_id, team_id in session.execute(select(User.id, User.team_id).where(User.username.like("sw.%"))):
        workers.setdefault(team_id, []).append(user_id)
    heads = dict(session.execute(select(Service.id, Service.head_of_service_id)).all())
    moderators = session.scalars(select(User.id).where(User.username.in_(
        ("hos.frontdoor", "hos.cincp", "hos.cic", "hos.careleavers", "hos.disabled", "psw", "qa.lead")))).all()
    return {"teams": teams, "workers": workers, "heads": heads, "moderators": moderators,
            "qa_lead": session.scalar(select(User.id).where(User.username == "qa.lead"))}


def _one_audit(rng, ids, org, cycles, workflows, version, now, rows, events_per_instance, days, may_be_open) -> None:
    """One audit started between `days` days ago and what goes with it: open at one of
    OPEN_STEPS' steps or closed, as their shares fall, if it `may_be_open`; else closed."""
    team_id, service_id, manager_id = rng.choice(org["teams"])
    auditor_team = rng.choice([team for team in org["teams"] if team[0] != team_id])
    worker_id = rng.choice(org["workers"][team_id])
    people = {"auditor": auditor_team[2], "worker": worker_id, "team_manager": manager_id,
              "head_of_service": org["heads"][service_id], "moderator": rng.choice(org["moderators"])}
    started = now - timedelta(days=rng.uniform(*days))
    open_steps = _pick(rng) if may_be_open else None
    status, steps = open_steps if open_steps else ("closed", ())
    grade = _grade(rng) if status in ("awaiting_moderation", "actions_in_review", "awaiting_closure", "closed") else None
    if "acknowledge_escalation" in steps:
        grade = "inadequate"
    case_id, audit_id, instance_id = ids["case"], ids["audit"], ids["instance"]
    reference = f"AUD-B{audit_id:06d}"
    case_reference = f"CB{case_id:07d}"
    # The cycle running when it started (the last of the nine is the current one); none before them.
    in_a_cycle, cycle_index = rng.random() < 0.9, CYCLES - 1 - int((now - started).days // 42)
    cycle = cycles[cycle_index] if in_a_cycle and cycle_index >= 0 else None
    instance_status = "completed" if status == "closed" else "running"
    roll = rng.random()
    if instance_status == "running" and roll < 0.005:
        instance_status = "error"
    elif instance_status == "running" and roll < 0.008:
        instance_status = "suspended"
    due_on = (started + timedelta(days=21)).date()
    rows["case"].append({"id": case_id, "reference": case_reference, "cohort": "child_in_need", "team_id": team_id,
                         "worker_id": worker_id, "opened_on": (started - timedelta(days=200)).date(),
                         "age_band": "5-9", "status": "open"})
    rows["audit"].append({
        "id": audit_id, "reference": reference, "audit_type": "random", "case_id": case_id, "instance_id": instance_id,
        "team_id": team_id, "service_id": service_id, "cohort": "child_in_need",
        "grading_scale": workflows["grading_scale"], "judgement_area": workflows["judgement_area"],
        **{f"{part}_id": person for part, person in people.items()}, "allocated_by_id": org["qa_lead"],
        "status": status, "allocated_at": started, "due_on": due_on, "moderation_due_on": due_on + timedelta(days=14),
        "overall_grade": grade, "moderated_grade": grade if status in ("actions_in_review", "awaiting_closure", "closed") else None,
        "safeguarding_concern": False, "cycle_id": cycle["id"] if cycle else None,
        "closed_at": started + timedelta(days=60) if status == "closed" else None})
    updated = min(now, started + timedelta(days=rng.uniform(0, 60)))
    rows["instance"].append({
        "id": instance_id, "process_version_id": workflows["version_id"], "process_key": "case_file_audit",
        "business_key": reference, "status": instance_status, "revision": 8,
        "serialized": workflows["late"] if status == "closed" else workflows["early"],
        "last_error": "'Is it Inadequate?' (check_escalation) failed: NameError: name 'overall_grade' is not defined"
        if instance_status == "error" else None,
        "started_at": started, "started_by_id": org["qa_lead"], "updated_at": updated,
        "ended_at": updated if status == "closed" else None})
    done_steps = list(ANSWERS) if status == "closed" else list(ANSWERS)[:list(ANSWERS).index(steps[0])]
    for step in done_steps:
        rows["task"].append(_task(step, instance_id, reference, case_reference, people, "completed", due_on, started))
    for step in steps:
        rows["task"].append(_task(step, instance_id, reference, case_reference, people, "ready", due_on, started))
    if grade and grade != "outstanding":
        for ref in range(1, rng.choice((1, 2)) + 1):
            rows["action"].append(_action(rng, audit_id, ref, people, status, started, now, org["qa_lead"]))
    _events(rows["event"], events_per_instance, instance_id, audit_id, reference, version, people, started,
            done_steps, steps, instance_status)


def _pick(rng):
    roll, total = rng.random(), 0.0
    for status, steps, share in OPEN_STEPS:
        total += share
        if roll < total:
            return status, steps
    return None


def _grade(rng) -> str:
    roll, total = rng.random(), 0.0
    for name, share in GRADE_MIX:
        total += share
        if roll < total:
            return name
    return GRADE_MIX[-1][0]


def _task(step, instance_id, reference, case_reference, people, state, due_on, started) -> dict:
    holder = HOLDER[step]
    return {"instance_id": instance_id, "task_uuid": os.urandom(16).hex(), "spec_name": step,
            "title": step.replace("_", " ").capitalize(), "lane": holder or "QA lead", "role": ROLES[step],
            "assignee_id": people[holder] if holder else None, "form_key": f"{step}-schema.json",
            "business_key": reference, "subject": case_reference, "due_on": due_on, "state": state,
            "created_at": started, "completed_at": started + timedelta(days=3) if state == "completed" else None,
            "completed_by_id": people[holder] if state == "completed" and holder else None}


def _action(rng, audit_id, ref, people, status, started, now, qa_lead) -> dict:
    due_on = (started + timedelta(days=rng.randint(30, 90))).date()
    done = status in ("closed", "awaiting_closure") or rng.random() < 0.3
    return {"audit_id": audit_id, "ref": f"A{ref}", "description": "Update the chronology with partner events",
            "area": "chronology", "owner_id": people["worker"], "owner_role": "worker", "due_on": due_on,
            "priority": "high", "status": "completed" if done else rng.choice(("not_started", "in_progress")),
            "completed_on": due_on if done else None, "evidence": "Chronology updated" if done else None,
            "verified_by_id": qa_lead if status == "closed" else None,
            "verified_at": now if status == "closed" else None}


def _events(out, count, instance_id, audit_id, reference, version, people, started, done_steps, steps, status) -> None:
    """`count` events for one instance: allocation, start, each task ready and completed (with its
    answers), views, and a failure for instances in error."""
    kinds = [("audit.allocated", "audit", audit_id, {"audit": reference, **{f"{k}_id": v for k, v in people.items()}}),
             ("instance.started", "process_instance", instance_id, {"process": "case_file_audit", "version": version,
                                                                   "business_key": reference})]
    for step in done_steps:
        kinds.append(("task.ready", "human_task", instance_id, {"task": step}))
        kinds.append(("task.completed", "human_task", instance_id, {"task": step, "answers": ANSWERS[step]}))
    kinds += [("task.ready", "human_task", instance_id, {"task": step}) for step in steps]
    if status == "error":
        kinds.append(("instance.failed", "process_instance", instance_id, {"error": "NameError", "failed_steps": ["check_escalation"]}))
    while len(kinds) < count:
        kinds.append(("audit.viewed", "audit", audit_id, {"audit": reference}))
    for offset, (kind, subject_type, subject_id, payload) in enumerate(kinds[:count]):
        out.append({"occurred_at": started + timedelta(hours=offset), "actor_id": people["auditor"], "kind": kind,
                    "instance_id": instance_id, "subject_type": subject_type, "subject_id": str(subject_id),
                    "payload": canonical_json(payload)})


def _flush(session, rows, counts, chain) -> None:
    """Insert what has been generated so far; events are chained here, in order, like the trail does."""
    for fields in rows["event"]:
        chain["seq"] += 1
        fields["seq"], fields["prev_hash"] = chain["seq"], chain["hash"]
        fields["hash"] = chain["hash"] = event_hash(fields)
    for name, model in (("case", Case), ("instance", ProcessInstance), ("audit", Audit), ("task", HumanTask),
                        ("action", AuditAction), ("event", Event)):
        for start in range(0, len(rows[name]), BATCH):
            session.execute(insert(model), rows[name][start:start + BATCH])
        counts[name] += len(rows[name])
        rows[name].clear()
    session.flush()


# ------------------------------------------------------------------ the requests

def requests_to_time(url: str, workflows: dict) -> list[tuple[str, str, str]]:
    """(name, who, path): the pages the QA lead and a head of service open."""
    factory = make_session_factory(url)
    with factory() as session:
        team, auditor = session.execute(select(Audit.team_id, Audit.auditor_id).order_by(Audit.id.desc()).limit(1)).one()
        case = session.scalar(select(Case.reference).order_by(Case.id.desc()).limit(1))
        total = session.scalar(select(func.count(ProcessInstance.id)))
        # A team the same auditor never audited: a filter that matches nothing, which PostgreSQL
        # once answered by walking the whole history in the list's order (bench/README, sixth round).
        unaudited_team = session.scalar(select(Team.id).where(Team.id.not_in(
            select(Audit.team_id).where(Audit.auditor_id == auditor))).order_by(Team.id).limit(1))
    factory.kw["bind"].dispose()
    if unaudited_team is None:
        raise BenchError(f"auditor {auditor} has audited every team: no filter of theirs matches nothing")
    deep_page = max(1, total // 25 // 2)
    return [
        ("dashboard", "qa.lead", "/monitoring"),
        ("instance list", "qa.lead", "/instances"),
        ("list: in error", "qa.lead", "/instances?status=error"),
        ("list: at a step", "qa.lead", "/instances?process=case_file_audit&status=running&step=moderate_audit"),
        ("list: overdue", "qa.lead", "/instances?overdue=yes"),
        ("list: team and auditor", "qa.lead", f"/instances?team={team}&auditor={auditor}"),
        ("list: a filter matching nothing", "qa.lead", f"/instances?team={unaudited_team}&auditor={auditor}"),
        ("list: case reference", "qa.lead", f"/instances?q={case[:-2]}"),
        ("list: by case, a middle page", "qa.lead", f"/instances?sort=case&direction=asc&page={deep_page}"),
        ("tracker: overdue", "qa.lead", "/tracker?overdue=yes"),
        ("one instance", "qa.lead", f"/instances/{workflows['real_instance']}"),
        ("dashboard (head of service)", "hos.cincp", "/monitoring"),
        ("list (head of service)", "hos.cincp", "/instances"),
    ]


def time_requests(url: str, requests, repeat: int) -> dict[str, list[float]]:
    from tests.conftest import sign_in
    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "SESSION_COOKIE_SECURE": False, "SECRET_KEY": "bench"})
    clients = {}
    timings = {}
    try:
        for name, who, path in requests:
            if who not in clients:
                clients[who] = app.test_client()
                sign_in(clients[who], who)
            client = clients[who]
            if client.get(path).status_code != 200:  # warm-up, and a check that the page works
                raise BenchError(f"{path} as {who} did not answer 200")
            runs = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(path)
                runs.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            timings[name] = runs
    finally:
        with app.app_context():
            from webapp.extensions import db
            db.session.remove()
            db.engine.dispose()
    return timings


def measure(label: str, url: str, sizes: list[int], events_per_instance: int, repeat: int, column: Column,
            open_window: int | None) -> None:
    seed_database(url)
    workflows = real_workflows(url)
    generated = 0
    for size in sorted(sizes):
        started = time.perf_counter()
        counts = generate(url, size - generated, events_per_instance, workflows, already=generated,
                          open_window=open_window)
        print(f"  {label}: {size:,} instances ready ({counts['event']:,} more events) in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
        generated = size
        factory = make_session_factory(url)
        with factory() as session:
            column.sizes[size] = {"instances": session.scalar(select(func.count(ProcessInstance.id))),
                                  "open": session.scalar(select(func.count(ProcessInstance.id))
                                                         .where(ProcessInstance.status.in_(OPEN_INSTANCE_STATUSES))),
                                  "events": session.scalar(select(func.count(Event.seq))),
                                  "open tasks": session.scalar(select(func.count(HumanTask.id)).where(HumanTask.state == "ready")),
                                  "actions": session.scalar(select(func.count(AuditAction.id)))}
        factory.kw["bind"].dispose()
        column.timings[size] = time_requests(url, requests_to_time(url, workflows), repeat)


# ------------------------------------------------------------------ report

def report(columns: list[Column]) -> str:
    """Per request: the median at each council size, and each larger size's median over the smallest's."""
    lines = []
    for column in columns:
        if column.skipped:
            lines.append(f"{column.label}: not measured ({column.skipped})")
            continue
        lines.append(f"\n{column.label}")
        sizes = sorted(column.sizes)
        for size in sizes:
            shown = ", ".join(f"{value:,} {name}" for name, value in column.sizes[size].items())
            lines.append(f"  council of {size:,}: {shown}")
        small, larger = sizes[0], sizes[1:]
        header = f"  {'request':<34}" + "".join(f"{f'med @{size:,}':>14}" for size in sizes) \
            + f"{f'p95 @{sizes[-1]:,}':>15}" + "".join(f"{f'{size:,}/{small:,}':>15}" for size in larger)
        lines.append(header)
        for name in column.timings[small]:
            medians = [median(column.timings[size][name]) for size in sizes]
            lines.append(f"  {name:<34}" + "".join(f"{value:>12.1f}ms" for value in medians)
                         + f"{p95(column.timings[sizes[-1]][name]):>13.1f}ms"
                         + "".join(f"{value / medians[0]:>14.2f}x" for value in medians[1:]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=DEFAULT_INSTANCES)
    parser.add_argument("--small", type=int, default=SMALL_INSTANCES)
    parser.add_argument("--events-per-instance", type=int, default=EVENTS_PER_INSTANCE)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--postgres-url", default=os.environ.get("QA_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--postgres-largest", type=int, default=POSTGRES_LARGEST,
                        help="a further, larger council measured on PostgreSQL only (0 to leave it out)")
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--open-share-everywhere", action="store_true",
                        help="the earlier shape: the open shares applied to every instance, not the recent window")
    args = parser.parse_args(argv)
    open_window = None if args.open_share_everywhere else OPEN_WINDOW
    sizes = sorted({args.small, args.instances})
    postgres_sizes = sorted(set(sizes) | ({args.postgres_largest} if args.postgres_largest else set()))
    clock.set(datetime.now(timezone.utc))
    columns = []
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory(prefix="qa-bench-") as folder:
            column = Column("SQLite")
            measure("SQLite", f"sqlite:///{Path(folder) / 'monitoring.sqlite'}", sizes, args.events_per_instance,
                    args.repeat, column, open_window)
            columns.append(column)
    problem = postgres_problem(args.postgres_url)
    if problem:
        columns.append(Column("PostgreSQL", skipped=problem))
    else:
        column = Column("PostgreSQL")
        with fresh_postgres_database(args.postgres_url) as url:
            measure("PostgreSQL", url, postgres_sizes, args.events_per_instance, args.repeat, column, open_window)
        columns.append(column)
    print(report(columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())

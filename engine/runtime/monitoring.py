"""What the QA lead watches: dashboard counts, the instance list, one instance's progress.

The dashboard and the list read the projections only (process_instances,
human_tasks, and the domain rows each instance is about), never a workflow, so they
stay fast with tens of thousands of instances: an instance's "current step" is its
open human tasks. Only the page of one instance loads that instance's workflow, to
mark its diagram. The runtime knows processes, not audits: what instances are about
(the filters, search, scope and labels that read the domain's rows) comes from the
domain's registration (engine/runtime/instance_subjects.py).
"""
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from math import ceil
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import and_, func, or_, select, true, union_all
from sqlalchemy.orm import Session, defer

from engine.accounts import User
from engine.clock import clock
from engine.runtime import events
from engine.runtime.admin_models import FILTER_PAGES, SavedFilter
from engine.runtime.diagram_layout import add_layout
from engine.runtime.errors import InvalidFormData, WorkflowError
from engine.runtime.instance_subjects import ABOUT_KINDS, instance_subject
from engine.runtime.instances import workflow_of
from engine.runtime.models import Event, HumanTask, InstanceStart, ProcessInstance, ProcessVersion
from engine.runtime.process_labels import process_names, step_labels
from engine.runtime.query_filters import QueryFilters
from engine.runtime.submissions import submissions_by_id
from engine.whole_numbers import whole_number

VERSION_VIEWER_ROLES = ("qa_lead", "qa_officer", "process_owner")
INSTANCE_STATUSES = {"running": "Running", "error": "In error", "suspended": "Suspended",
                     "completed": "Completed", "terminated": "Terminated"}
OPEN_STATUSES = ("running", "error", "suspended")
SORTS = {"updated": ProcessInstance.updated_at, "started": ProcessInstance.started_at,
         "reference": ProcessInstance.business_key, "status": ProcessInstance.status,
         "process": ProcessInstance.process_key}
PAGE_SIZE = 25
# The instance list counts its matches up to this many; past it, it says "more than" this.
LIST_COUNTED_UP_TO = 1000
READ_KINDS = ("audit.viewed", "task.viewed", "task.draft_saved", "instance.viewed", "instance.events_viewed")
# Task states shown on the diagram, strongest first: a step seen in several states shows the first.
DIAGRAM_STATES = ((TaskState.ERROR, "failed"), (TaskState.READY, "active"), (TaskState.STARTED, "active"),
                  (TaskState.WAITING, "waiting"), (TaskState.COMPLETED, "completed"))


class FilterNotFound(WorkflowError):
    pass



def _raw(args, name: str) -> str:
    return (args.get(name) or "").strip()[:80]

@dataclass
class InstanceFilters(QueryFilters):
    """The instance list's search, filters, sort and page.

    The filters the domain registers (team, grade, ...) live in `subject`, keyed by name."""
    NUMBERS: ClassVar = ("version", "page")
    FLAGS: ClassVar = ("overdue",)
    CHOICES: ClassVar = {"status": INSTANCE_STATUSES, "direction": ("asc", "desc")}

    q: str = ""
    process: str = ""
    version: int | None = None
    status: str = ""
    step: str = ""
    overdue: bool = False
    sort: str = "updated"
    direction: str = "desc"
    page: int = 1
    subject: dict = field(default_factory=dict)

    @classmethod
    def choices(cls) -> dict[str, object]:
        return cls.CHOICES | {"sort": sort_columns()}

    @classmethod
    def from_query(cls, args, session: Session):
        """The core filters, then each filter the domain registered (choices read with `session`)."""
        filters, errors = super().from_query(args)
        for registered in instance_subject().filters:
            raw = _raw(args, registered.name)
            if not raw:
                continue
            if registered.is_number:
                if (number := whole_number(raw, minimum=1)) is not None:
                    filters.subject[registered.name] = number
                else:
                    errors[registered.name] = f"{registered.label.capitalize()} must be chosen from the list"
            elif raw in registered.values(session):
                filters.subject[registered.name] = raw
            else:
                errors[registered.name] = f"There is no {registered.label.lower()} '{raw}'"
        return filters, errors

    @classmethod
    def of(cls, **values) -> "InstanceFilters":
        """Filters from keyword values, core or registered (the dashboard's numbers)."""
        names = {field_.name for field_ in fields(cls)} - {"subject"}
        core = {name: value for name, value in values.items() if name in names}
        return cls(**core, subject={name: value for name, value in values.items() if name not in core})

    def to_query(self, **changes) -> dict:
        subject = {**self.subject, **{key: changes.pop(key) for key in list(changes) if key not in asdict(self)}}
        values = {key: value for key, value in super().to_query(**changes).items() if key != "subject"}
        return values | {key: value for key, value in subject.items() if value not in (None, "")}


def sort_columns() -> dict:
    """Every column the list may be sorted by: the runtime's and the domain's."""
    return SORTS | {key: column for key, (_, column) in instance_subject().sorts.items()}


def may_monitor(user: User) -> bool:
    return user.has_role(*instance_subject().monitor_roles, *instance_subject().see_every_roles)


def may_view_versions(user: User) -> bool:
    return user.has_role(*VERSION_VIEWER_ROLES)


def instance_scope(user: User):
    """A WHERE clause on the instance list's join: every instance, or those the domain lets `user` see."""
    if sees_every_instance(user):
        return true()
    return instance_subject().scope(user)


def sees_every_instance(user: User) -> bool:
    return user.has_role(*instance_subject().see_every_roles)


def can_view_instance(session: Session, user: User, instance_id: int) -> bool:
    """Monitors see the instances in their scope; nobody else sees instance pages."""
    if not may_monitor(user):
        return False
    return session.scalar(_joined(select(ProcessInstance.id), with_subject=not sees_every_instance(user))
                          .where(ProcessInstance.id == instance_id, instance_scope(user))) is not None


def list_instances(session: Session, user: User, filters: InstanceFilters, today: date) -> dict:
    """One page of the instances `user` may see that match `filters`, with how many there are;
    the read is recorded (the list shows case references), by its filters rather than row by row.

    The total is exact up to LIST_COUNTED_UP_TO; beyond it the list says "more than" and pages on
    with Next (`pages` is None, `has_next` tells), so that a list over years of history costs
    what a page costs rather than a count of the whole history each time it is opened."""
    matching = _matching_ids(session, user, filters, today)
    counted = session.scalar(select(func.count()).select_from(matching.limit(LIST_COUNTED_UP_TO + 1).subquery()))
    exact = counted <= LIST_COUNTED_UP_TO  # counted no further than one past it: bounded by it, not by the history
    pages = max(1, ceil(counted / PAGE_SIZE)) if exact else None
    page = min(filters.page, pages) if pages is not None else filters.page
    events.record(session, "instances.listed", actor_id=user.id, subject=("process_instances", "list"),
                  payload={"filters": filters.to_query(page=page),
                           "total": counted if exact else f"more than {LIST_COUNTED_UP_TO}"})
    ids = session.scalars(_page_ids(matching, filters, page, few=exact)).all()
    has_next, ids = len(ids) > PAGE_SIZE, ids[:PAGE_SIZE]
    found = {row[0].id: row for row in session.execute(
        select(ProcessInstance, ProcessVersion.version)
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
        .where(ProcessInstance.id.in_(ids)).options(defer(ProcessInstance.serialized)))}
    rows = [found[instance_id] for instance_id in ids]
    return {"rows": _describe_rows(session, rows, today), "total": counted if exact else LIST_COUNTED_UP_TO,
            "total_is_exact": exact, "page": page, "pages": pages, "has_next": has_next,
            "columns": instance_subject().columns}


def _page_ids(matching, filters: InstanceFilters, page: int, *, few: bool):
    """The ids of the list's page and of the first row after it (so the caller knows whether
    another page follows), from the query of the `matching` ids, sorted and cut in the database
    without touching the stored workflows.

    With `few` matches (no more than LIST_COUNTED_UP_TO, as just counted) they are all read first,
    through the filters' own indexes, and sorted (a materialised CTE). With more, the page is read
    in order: the default order (last changed first) off `ix_process_instances_updated`, stopping
    after a page. Left to choose, PostgreSQL walked that index for a filter that matched nothing,
    probing every instance of the history (100 ms at 100,000) where the filter's own indexes
    find its matches at once (1 ms)."""
    column = sort_columns()[filters.sort]
    if few:
        matches = matching.add_columns(column.label("sort_key")).cte("matches").prefix_with("MATERIALIZED")
        query, key, tiebreak = select(matches.c.id), matches.c.sort_key, matches.c.id
    else:
        query, key, tiebreak = matching, column, ProcessInstance.id
    ascending = filters.direction == "asc"
    order = key.asc() if ascending else key.desc()
    if filters.sort not in SORTS or column.expression.nullable:
        # Instances without a value in a joined column (no audit, so no case) come last. The
        # instance's own columns are never NULL and are ordered plainly: NULLS LAST is an order
        # no index here can give, and PostgreSQL would sort every instance in scope again.
        order = order.nulls_last()
    order_by = (order, tiebreak.asc() if ascending else tiebreak.desc())
    return query.order_by(*order_by).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)


# The runtime's own dashboard numbers: each is the size of the instance list behind it, with its
# filters; the domain adds its own (engine/runtime/instance_subjects.py) after the first two.
DASHBOARD_COUNTS = (
    ("in_error", "Stopped by an error", {"status": "error"}),
    ("overdue", "With an overdue task", {"overdue": True}),
    ("suspended", "Suspended", {"status": "suspended"}),
)


def _matching_ids(session: Session, user: User, filters: InstanceFilters, today: date):
    """The ids of the instances `user` may see that match `filters`, as a query (unordered)."""
    return _filtered(session, _joined(select(ProcessInstance.id), **_joins(user, filters)), user, filters, today)


def _count_query(session: Session, user: User, filters: InstanceFilters, today: date):
    """The exact count of the list behind `filters`, as a query: each of the dashboard's numbers
    (the open work, which stays small) is this over the filters of the list its link opens, which
    counts the same rows (up to LIST_COUNTED_UP_TO)."""
    return _filtered(session, _joined(select(func.count(ProcessInstance.id)), **_joins(user, filters)), user,
                     filters, today)


def dashboard(session: Session, user: User, today: date) -> dict:
    """The numbers that matter, each with the instance-list filters that show what it counts;
    the instances waiting at each step, grouped by process."""
    scope, scoped = instance_scope(user), not sees_every_instance(user)
    by_step = session.execute(
        _joined(select(ProcessInstance.process_key, HumanTask.spec_name,
                       func.count(func.distinct(HumanTask.instance_id))), with_subject=scoped)
        .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
        .where(scope, HumanTask.state == "ready", ProcessInstance.status == "running")
        .group_by(ProcessInstance.process_key, HumanTask.spec_name)
        .order_by(ProcessInstance.process_key, HumanTask.spec_name)).all()
    labels, names = step_labels(session), process_names(session)
    overdue = select(func.count(HumanTask.id)).where(HumanTask.state == "ready", HumanTask.due_on < today)
    if scoped:
        # The tasks of the instances on the overdue list, as `user` sees it: each task counted
        # puts its instance on that list, so this counts the overdue tasks in scope, while the
        # scope is read for the instances with an overdue task alone, not for every instance.
        overdue = overdue.where(HumanTask.instance_id.in_(_filtered(
            session, _joined(select(ProcessInstance.id), with_subject=True), user, InstanceFilters(overdue=True), today)))
    overdue_tasks = session.scalar(overdue)
    # Every number in one statement, each the very query of the list its link opens (so it is that
    # list's total by construction), as a subquery planned on its own: each reads only the rows
    # its conditions select through their indexes (an error or suspended status, an overdue open
    # task, an audit's status), so its cost follows the open work, not the history. One pass with
    # a FILTER per number read every instance and audit ever started.
    counts = DASHBOARD_COUNTS[:2] + instance_subject().counts(session) + DASHBOARD_COUNTS[2:]
    shown = [(key, label, InstanceFilters.of(**values)) for key, label, values in counts]
    numbers = session.execute(select(*(_count_query(session, user, filters, today).scalar_subquery()
                                       for _, _, filters in shown))).one()
    groups: dict[str, dict] = {}
    for key, step, count in by_step:
        group = groups.setdefault(key, {"process": key, "process_name": names.get(key, key), "steps": [],
                                        "filters": InstanceFilters(process=key, status="running").to_query()})
        group["steps"].append({"step": step, "label": labels.get((key, step), step), "count": count,
                               "filters": InstanceFilters(process=key, status="running", step=step).to_query()})
    return {
        "counts": [{"key": key, "label": label, "count": number, "filters": filters.to_query()}
                   for (key, label, filters), number in zip(shown, numbers)],
        "overdue_tasks": overdue_tasks,
        "by_process": sorted(groups.values(), key=lambda group: group["process_name"]),
    }


def filter_choices(session: Session, user: User) -> dict:
    """The options of the list's filter selects, within what `user` may see: the runtime's, and
    under "subject" each registered filter's."""
    return {
        "processes": sorted(process_names(session).items(), key=lambda item: item[1]),
        "versions": sorted(set(session.scalars(select(ProcessVersion.version)))),
        "steps": sorted({(step, label) for (_, step), label in step_labels(session).items()}, key=lambda s: s[1]),
        "subject": [(registered, registered.offered(session, user)) for registered in instance_subject().filters],
    }


def instance_page(session: Session, instance: ProcessInstance, reader: User, *, include_reads: bool = False) -> dict:
    """Everything the instance page shows; the read is recorded, as the page may show a child's data."""
    events.record(session, "instance.viewed", actor_id=reader.id, instance_id=instance.id,
                  subject=("process_instance", instance.id))
    version = session.get(ProcessVersion, instance.process_version_id)
    about = instance_subject().describe_instance(session, instance)
    workflow = workflow_of(session, instance)
    front = [task for task in workflow.get_tasks(state=TaskState.ERROR | TaskState.READY)]
    if not front and workflow.last_task is not None:
        front = [workflow.last_task]
    open_tasks = list(session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.state == "ready").order_by(HumanTask.id)))
    return {
        "instance": instance, "version": version, "process_name": version.manifest.get("name", version.process_key),
        "about": about["rows"] + _start_rows(session, instance),
        "children": child_instances(session, instance),
        "open_tasks": open_tasks, "people": _names(session, {task.assignee_id for task in open_tasks}),
        "data": [{"step": task.task_spec.bpmn_name or task.task_spec.bpmn_id or "Last step",
                  "state": TaskState.get_name(task.state).lower(),
                  "json": json.dumps(task.data, indent=2, sort_keys=True, default=str)} for task in front],
        "timeline": timeline(session, instance, about["events"], include_reads=include_reads),
    }


def _start_rows(session: Session, instance: ProcessInstance) -> list[dict]:
    """For an instance started by hand or by another instance: what it is about, who started it,
    and the instance that started it (a link)."""
    start = session.get(InstanceStart, instance.id)
    if start is None:
        return []
    rows = []
    if start.about_kind:
        kind = ABOUT_KINDS.get(start.about_kind)
        rows.append({"label": kind.label if kind else start.about_kind.capitalize(), "text": start.about_label})
    if start.started_by_id:
        rows.append({"label": "Started by", "text": _names(session, {start.started_by_id})[start.started_by_id]})
    if start.parent_instance_id:
        parent = session.get(ProcessInstance, start.parent_instance_id)
        rows.append({"label": "Part of", "text": parent.business_key or f"Process {parent.id}",
                     "endpoint": "monitoring.instance", "args": {"instance_id": parent.id}})
    return rows


def child_instances(session: Session, instance: ProcessInstance) -> list[dict]:
    """The instances this instance started (a thematic audit's case file audits), oldest first."""
    rows = session.execute(select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.status,
                                  ProcessInstance.process_key, InstanceStart.about_label)
                           .join(InstanceStart, InstanceStart.instance_id == ProcessInstance.id)
                           .where(InstanceStart.parent_instance_id == instance.id).order_by(ProcessInstance.id)).all()
    names = process_names(session)
    return [{"id": row.id, "reference": row.business_key or f"Process {row.id}", "status": row.status,
             "process_name": names.get(row.process_key, row.process_key), "about": row.about_label} for row in rows]


def timeline(session: Session, instance: ProcessInstance, related: list[tuple[str, str]], *,
             include_reads: bool) -> list[dict]:
    """The instance's events (and those of the records it is about, such as an audit's
    allocation: `related` (subject type, subject id) pairs), oldest first, with the data each holds."""
    about = or_(Event.instance_id == instance.id,
                *(and_(Event.subject_type == kind, Event.subject_id == str(key)) for kind, key in related))
    query = select(Event).where(about)
    if not include_reads:
        query = query.where(Event.kind.not_in(READ_KINDS))
    rows = session.scalars(query.order_by(Event.seq)).all()
    names = _names(session, {row.actor_id for row in rows})
    entries = [{"seq": row.seq, "at": row.occurred_at, "kind": row.kind, "actor": names.get(row.actor_id, "System"),
                "payload": json.loads(row.payload)} for row in rows]
    submissions = submissions_by_id(session, {e["payload"]["submission_id"] for e in entries
                                              if "submission_id" in e["payload"]})
    for entry in entries:
        submission = submissions.get(entry["payload"].get("submission_id"))
        if submission is not None:  # the data submitted, shown beside the digest the chain holds
            entry["payload"] = {**entry["payload"], "answers": submission.answers,
                                **({"answers_anonymised_at": submission.anonymised_at} if submission.anonymised_at else {})}
    return entries


def instance_diagram(session: Session, instance: ProcessInstance) -> dict:
    """The version's diagram with each step's state in this instance and the flows taken.

    `states` maps a BPMN element id to failed, active, waiting or completed; `path`
    lists [source, target] element pairs the instance went along."""
    version = session.get(ProcessVersion, instance.process_version_id)
    workflow = workflow_of(session, instance)
    states, reached = {}, set()
    for task in workflow.get_tasks():
        element = task.task_spec.bpmn_id
        label = next((name for state, name in DIAGRAM_STATES if task.state == state), None)
        if element is None or label is None:
            continue
        reached.add(task)
        known = states.get(element)
        if known is None or _strength(label) < _strength(known):
            states[element] = label
    path = set()
    for task in reached:
        source = task.parent
        while source is not None and source.task_spec.bpmn_id is None:
            source = source.parent
        if source is not None and source.state == TaskState.COMPLETED:
            path.add((source.task_spec.bpmn_id, task.task_spec.bpmn_id))
    return {"xml": diagram_xml(version), "states": states, "path": sorted(path)}


def version_diagram(session: Session, version: ProcessVersion) -> dict:
    """A version's diagram with, per step, how many of its open instances wait there or failed there."""
    waiting = session.execute(
        select(HumanTask.spec_name, func.count(func.distinct(HumanTask.instance_id)))
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(ProcessInstance.process_version_id == version.id, HumanTask.state == "ready",
               ProcessInstance.status.in_(OPEN_STATUSES))
        .group_by(HumanTask.spec_name)).all()
    counts = {step: {"waiting": count} for step, count in waiting}
    for step, count in _failed_by_step(session, version).items():
        counts.setdefault(step, {})["failed"] = count
    return {"xml": diagram_xml(version), "counts": counts}


def version_summary(session: Session, version: ProcessVersion) -> dict:
    """How many instances of a version there are in each status, and per step, for the version page."""
    statuses = dict(session.execute(select(ProcessInstance.status, func.count(ProcessInstance.id))
                                    .where(ProcessInstance.process_version_id == version.id)
                                    .group_by(ProcessInstance.status)).all())
    labels = step_labels(session)
    counts = version_diagram(session, version)["counts"]
    return {"statuses": {status: statuses.get(status, 0) for status in INSTANCE_STATUSES},
            "steps": sorted(({"step": step, "label": labels.get((version.process_key, step), step), **count}
                             for step, count in counts.items()), key=lambda row: row["label"])}


def versions_in_use(session: Session) -> list[dict]:
    """Every published version with how many of its instances are still open."""
    # The open instances alone are read, through the status index: not every instance ever run.
    open_counts = dict(session.execute(
        select(ProcessInstance.process_version_id, func.count(ProcessInstance.id))
        .where(ProcessInstance.status.in_(OPEN_STATUSES)).group_by(ProcessInstance.process_version_id)).all())
    versions = session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_key,
                                                               ProcessVersion.version.desc())).all()
    return [{"version": version, "name": version.manifest.get("name", version.process_key),
             "open": open_counts.get(version.id, 0)} for version in versions]


def diagram_xml(version: ProcessVersion) -> str:
    """The BPMN of a version's main file, laid out if it was published without a diagram."""
    main = version.manifest["bpmn_files"][0]
    return add_layout(version.files[main].encode()).decode()


def saved_filters(session: Session, user: User, page: str) -> list[SavedFilter]:
    """A person's own saved filters for one list page, by name."""
    return list(session.scalars(select(SavedFilter).where(SavedFilter.owner_id == user.id, SavedFilter.page == page)
                                .order_by(SavedFilter.name)))


def save_filter(session: Session, user: User, page: str, name: str, query: str) -> SavedFilter:
    """Keep the list's current query under a name, to come back to; the same name replaces it.

    The query is parsed and written out again, so what is stored (and later put in a link)
    is a plain query string whatever was posted."""
    name = (name or "").strip()
    query = urlencode([(key, value) for key, value in parse_qsl(query or "") if key != "page"])
    if page not in FILTER_PAGES:
        raise InvalidFormData({"page": "There is no such list"})
    if not name or len(name) > 80:
        raise InvalidFormData({"name": "Enter a name for the filter, up to 80 characters"})
    saved = session.scalar(select(SavedFilter).where(SavedFilter.owner_id == user.id, SavedFilter.page == page,
                                                     SavedFilter.name == name))
    if saved is None:
        saved = SavedFilter(owner_id=user.id, page=page, name=name, query=query, created_at=clock.now())
        session.add(saved)
    else:
        saved.query = query
    session.flush()
    events.record(session, "filter.saved", actor_id=user.id, subject=("saved_filter", saved.id),
                  payload={"page": page, "name": name, "query": query})
    return saved


def delete_filter(session: Session, user: User, filter_id: int) -> SavedFilter:
    """Remove one of your own saved filters (nobody else's)."""
    saved = session.get(SavedFilter, filter_id)
    if saved is None or saved.owner_id != user.id:
        raise FilterNotFound("There is no such saved filter.")
    session.delete(saved)
    events.record(session, "filter.deleted", actor_id=user.id, subject=("saved_filter", saved.id),
                  payload={"page": saved.page, "name": saved.name})
    return saved


def _joined(query, with_subject: bool = True, with_sort: bool = False):
    """An instance query, joined to what the instance is about when the scope, a filter or the
    sort needs it (counting every instance needs nothing joined)."""
    query = query.select_from(ProcessInstance)
    return instance_subject().join(query, with_sort) if with_subject else query


def _joins(user: User, filters: InstanceFilters) -> dict:
    """Which joins `filters` need: the subject for the scope and its filters, and what the
    domain's sorts read (the search reads its own lookups, `_searched`)."""
    with_sort = filters.sort in instance_subject().sorts
    with_subject = with_sort or not sees_every_instance(user) or bool(filters.subject)
    return {"with_subject": with_subject, "with_sort": with_sort}


def _filtered(session: Session, query, user: User, filters: InstanceFilters, today: date):
    return query.where(*_conditions(session, user, filters, today))


def _conditions(session: Session, user: User, filters: InstanceFilters, today: date) -> list:
    """The WHERE clauses of `filters` (and of what `user` may see), over the joined instance query."""
    conditions = [instance_scope(user)]
    subject = instance_subject()
    if filters.q:
        conditions.append(ProcessInstance.id.in_(_searched(filters.q.upper())))
    if filters.process:
        conditions.append(ProcessInstance.process_key == filters.process)
    if filters.version is not None:
        conditions.append(ProcessInstance.process_version_id.in_(
            select(ProcessVersion.id).where(ProcessVersion.version == filters.version)))
    if filters.status:
        conditions.append(ProcessInstance.status == filters.status)
    if filters.step:
        conditions.append(_open_task(HumanTask.spec_name == filters.step))
    if filters.overdue:
        conditions.append(_open_task(HumanTask.due_on < today))
    for name, value in filters.subject.items():
        registered = subject.filter_named(name)
        if registered is not None and value not in (None, ""):
            conditions.append(registered.condition(session, value))
    return conditions


def _searched(text: str):
    """The ids of the instances a search text matches: its reference begins with the text, or its
    id is the number, or the domain's lookups match (a case reference, an audit number). A union
    of lookups, each through its own index, so a search reads the instances it finds: one OR
    over the joined rows made PostgreSQL join every instance, audit and case ever written."""
    lookups = [select(ProcessInstance.id).where(ProcessInstance.business_key.startswith(text, autoescape=True)),
               *instance_subject().search(text)]
    if (number := whole_number(text, minimum=1)) is not None:
        lookups.append(select(ProcessInstance.id).where(ProcessInstance.id == number))
    return union_all(*lookups)


def _open_task(condition):
    """Instances with an open task meeting `condition`: a plain IN over the open tasks, which both
    databases evaluate once (a correlated EXISTS made SQLite scan the tasks once per instance)."""
    return ProcessInstance.id.in_(select(HumanTask.instance_id).where(HumanTask.state == "ready", condition))


def _describe_rows(session: Session, rows, today: date) -> list[dict]:
    ids = [instance.id for instance, _ in rows]
    tasks: dict[int, list[HumanTask]] = {}
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids), HumanTask.state == "ready")
                                .order_by(HumanTask.id)):
        tasks.setdefault(task.instance_id, []).append(task)
    starts = {start.instance_id: start for start in session.scalars(
        select(InstanceStart).where(InstanceStart.instance_id.in_(ids)))}
    names = _names(session, {t.assignee_id for ts in tasks.values() for t in ts}
                   | {start.started_by_id for start in starts.values()})
    # What the domain says each instance is about; else what it was started about, and by whom.
    about = {instance_id: {"about": start.about_label,
                           "detail": [f"Started by {names[start.started_by_id]}"] if start.started_by_id else []}
             for instance_id, start in starts.items()} | instance_subject().describe_rows(session, ids)
    process = process_names(session)
    return [{"instance": instance, "process_name": process.get(instance.process_key, instance.process_key),
             "version": version, "about": about.get(instance.id, {}).get("about"),
             "detail": about.get(instance.id, {}).get("detail", []),
             "steps": [{"title": task.title, "due_on": task.due_on, "assignee": names.get(task.assignee_id),
                        "overdue": task.due_on is not None and task.due_on < today}
                       for task in tasks.get(instance.id, [])]}
            for instance, version in rows]


def _failed_by_step(session: Session, version: ProcessVersion) -> dict[str, int]:
    """For instances of `version` now in error: how many failed at each step (from their last failure event)."""
    failing = select(ProcessInstance.id).where(ProcessInstance.process_version_id == version.id,
                                               ProcessInstance.status == "error")
    last = (select(func.max(Event.seq)).where(Event.kind == "instance.failed", Event.instance_id.in_(failing))
            .group_by(Event.instance_id))
    counts: dict[str, int] = {}
    for payload in session.scalars(select(Event.payload).where(Event.seq.in_(last))):
        for step in json.loads(payload).get("failed_steps", []):
            counts[step] = counts.get(step, 0) + 1
    return counts


def _strength(label: str) -> int:
    return [name for _, name in DIAGRAM_STATES].index(label)


def _names(session: Session, user_ids: set) -> dict[int, str]:
    user_ids = {user_id for user_id in user_ids if user_id}
    if not user_ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())

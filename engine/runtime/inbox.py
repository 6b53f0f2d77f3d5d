"""What a person's inbox lists, read from the human-task projection (never from workflows).

The inbox has three tabs: open tasks that are the person's, open tasks a role they hold
may claim, and what they completed. One set of filters (process, step, team, due date, a
search by subject or business reference) and one sort apply to all three. Listing costs a
fixed number of statements whatever the number of tasks: one for the count of every tab,
one per tab for its page, one for the values the filters can take. Team ids are plain
numbers here; whoever shows them names them (the runtime knows no teams table).
"""
from dataclasses import dataclass
from datetime import date, timedelta
from math import ceil
from typing import ClassVar

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.runtime.models import HumanTask, ProcessInstance
from engine.runtime.query_filters import QueryFilters

TABS = ("assigned", "claimable", "completed")
DUE_FILTERS = {"overdue": "Overdue", "week": "Due in the next 7 days", "none": "No due date"}
SORTS = {"due": HumanTask.due_on, "task": HumanTask.title, "subject": HumanTask.subject,
         "reference": HumanTask.business_key, "received": HumanTask.created_at,
         "completed": HumanTask.completed_at}
DIRECTIONS = ("asc", "desc")
PAGE_SIZE = 25
SOON_DAYS = 7


@dataclass
class InboxFilters(QueryFilters):
    """The inbox's search, filters and sort; `tab` and `page` say which tab's page to show."""
    NUMBERS: ClassVar = ("team", "page")
    CHOICES: ClassVar = {"due": DUE_FILTERS, "sort": SORTS, "direction": DIRECTIONS, "tab": TABS}

    q: str = ""
    process: str = ""
    task: str = ""
    team: int | None = None
    due: str = ""
    sort: str = ""
    direction: str = ""
    tab: str = "assigned"
    page: int = 1


@dataclass
class InboxRow:
    task: HumanTask
    process_key: str


@dataclass
class InboxTab:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int


def list_inbox(session: Session, user: User, filters: InboxFilters, today: date,
               page_size: int = PAGE_SIZE) -> dict[str, InboxTab]:
    """Every tab's page of `user`'s tasks matching `filters`: `filters.page` of `filters.tab`,
    the first page of the others, each with its total."""
    scopes = _scopes(user)
    conditions = _conditions(filters, today)
    counts = session.execute(
        _joined(select(*(func.count(HumanTask.id).filter(scopes[tab]) for tab in TABS)))
        .where(or_(*scopes.values()), *conditions)).one()
    tabs = {}
    for tab, total in zip(TABS, counts):
        pages = max(1, ceil(total / page_size))
        page = min(filters.page, pages) if tab == filters.tab else 1
        rows = session.execute(
            _joined(select(HumanTask, ProcessInstance.process_key)).where(scopes[tab], *conditions)
            .order_by(*_order(tab, filters)).limit(page_size).offset((page - 1) * page_size)).all()
        tabs[tab] = InboxTab([InboxRow(task, key) for task, key in rows], total, page, pages)
    return tabs


def filter_values(session: Session, user: User) -> dict[str, list]:
    """The processes, steps (as process key and BPMN id) and team ids among all of `user`'s
    tasks, so each filter offers only what can match something."""
    rows = session.execute(_joined(select(ProcessInstance.process_key, HumanTask.spec_name, HumanTask.team_id))
                           .where(or_(*_scopes(user).values())).distinct()).all()
    return {"processes": sorted({key for key, _, _ in rows}),
            "steps": sorted({(key, step) for key, step, _ in rows}),
            "teams": sorted({team for _, _, team in rows if team is not None})}


def is_overdue(task: HumanTask, today: date) -> bool:
    """An open task whose due date has passed (the inbox's Overdue tag and filter)."""
    return task.state == "ready" and task.due_on is not None and task.due_on < today


def _scopes(user: User) -> dict[str, ColumnElement]:
    """Which tasks each tab holds for `user`."""
    open_task = HumanTask.state == "ready"
    return {
        "assigned": and_(open_task, HumanTask.assignee_id == user.id),
        "claimable": and_(open_task, HumanTask.assignee_id.is_(None), HumanTask.role.in_(user.roles))
        if user.roles else false(),
        "completed": and_(HumanTask.state == "completed", HumanTask.completed_by_id == user.id),
    }


def _conditions(filters: InboxFilters, today: date) -> list[ColumnElement]:
    conditions = []
    if filters.q:
        pattern = "%" + filters.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(HumanTask.subject.ilike(pattern, escape="\\"),
                              HumanTask.business_key.ilike(pattern, escape="\\")))
    if filters.process:
        conditions.append(ProcessInstance.process_key == filters.process)
    if filters.task:
        conditions.append(HumanTask.spec_name == filters.task)
    if filters.team:
        conditions.append(HumanTask.team_id == filters.team)
    if filters.due == "overdue":
        conditions.append(and_(HumanTask.state == "ready", HumanTask.due_on < today))
    elif filters.due == "week":
        conditions.append(HumanTask.due_on.between(today, today + timedelta(days=SOON_DAYS)))
    elif filters.due == "none":
        conditions.append(HumanTask.due_on.is_(None))
    return conditions


def _order(tab: str, filters: InboxFilters) -> list:
    """The chosen sort, else soonest due first (open tabs) or latest completed first."""
    if filters.sort:
        column = SORTS[filters.sort]
        ordered = column.desc() if filters.direction == "desc" else column.asc()
        tiebreak = HumanTask.id.desc() if filters.direction == "desc" else HumanTask.id.asc()
        return [ordered.nulls_last(), tiebreak]
    if tab == "completed":
        return [HumanTask.completed_at.desc(), HumanTask.id.desc()]
    return [HumanTask.due_on.asc().nulls_last(), HumanTask.id.asc()]


def _joined(query):
    return query.select_from(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)

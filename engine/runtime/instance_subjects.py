"""What instances are about, as the domain tells the generic runtime.

The runtime knows processes, tasks and events; it does not know what an instance
is about (an audit of a case, a thematic audit of a service). Monitoring still has
to filter, search, scope and label instances by those things, so the domain that
knows them registers one `InstanceSubject` here (engine/qa/instance_monitoring.py
for the QA domain) and monitoring asks it. Without a registration every instance
is about nothing: no extra filters, and only people who see every instance see any.
"""
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import false
from sqlalchemy.orm import Session

from engine.accounts import User


@dataclass(frozen=True)
class SubjectFilter:
    """One filter of the instance list that reads what instances are about.

    `condition(session, value)` is a WHERE clause over the query the subject joins (the
    session for conditions that depend on model data, such as each grading scale's grades); `options`
    fixes the values a choice filter accepts, or reads them from the data when they are model
    data (a callable taking the session); other filters take ids, offered by `choices`."""
    name: str
    label: str
    condition: Callable[[Session, Any], Any]
    choices: Callable[[Session, User], list[tuple]] | None = None
    options: dict[str, str] | Callable[[Session], dict[str, str]] | None = None

    @property
    def is_number(self) -> bool:
        return self.options is None

    def values(self, session: Session) -> dict[str, str]:
        """The values a choice filter accepts, with their labels."""
        return self.options(session) if callable(self.options) else self.options

    def offered(self, session: Session, user: User) -> list[tuple]:
        """The (value, label) pairs the list's select shows to `user`."""
        return list(self.values(session).items()) if self.options is not None else self.choices(session, user)


@dataclass(frozen=True)
class InstanceSubject:
    """Everything monitoring needs to know about what instances are about.

    - `join(query, with_sort)` outer-joins the domain's tables onto a query over
      process instances (`with_sort` adds what the extra sorts need);
    - `scope(user)` is the WHERE clause, over that join, of the instances a person who
      does not see every instance may see;
    - `search(text)` the queries of instance ids a search text matches (each one column,
      read through its own index: the list takes their union); `sorts` extra sort columns;
    - `counts(session)` extra dashboard numbers as (key, label, filter values), read with the
      session because their labels and filters may follow model data;
    - `describe_rows(session, ids)` maps instance ids to {"about", "detail"} for the list;
    - `describe_instance(session, instance)` gives the instance page's summary rows
      ({"label", "text", "endpoint", "args"}) and the (subject type, id) pairs whose
      events belong on its timeline."""
    monitor_roles: tuple[str, ...] = ()
    see_every_roles: tuple[str, ...] = ()
    join: Callable = lambda query, with_sort: query
    scope: Callable = lambda user: false()
    search: Callable[[str], list] = lambda text: []
    search_label: str = "Reference"
    search_hint: str = ""
    filters: tuple[SubjectFilter, ...] = ()
    sorts: dict[str, tuple[str, Any]] = field(default_factory=dict)
    counts: Callable[[Session], tuple[tuple[str, str, dict], ...]] = lambda session: ()
    columns: tuple[str, str] = ("About", "Details")
    describe_rows: Callable[[Session, list[int]], dict[int, dict]] = lambda session, ids: {}
    describe_instance: Callable = lambda session, instance: {"rows": [], "events": []}

    def filter_named(self, name: str) -> SubjectFilter | None:
        return next((found for found in self.filters if found.name == name), None)


_registered: list[InstanceSubject] = []


def register_subject(subject: InstanceSubject) -> None:
    """Tell monitoring what instances are about; a later registration replaces an earlier one."""
    _registered[:] = [subject]


def instance_subject() -> InstanceSubject:
    """The registered subject, or one that knows nothing (every instance is about nothing)."""
    return _registered[0] if _registered else InstanceSubject()


@dataclass(frozen=True)
class AboutKind:
    """A kind of thing a process may be about when a person starts it (process.json `start.about`).

    `options(session, user, own_only)` lists (id, label) of the things `user` may start it
    about: all of them, or with `own_only` those in their own scope (process.json
    `start.scope: "own"`); `start_data(session, id)` is what the workflow starts with about
    that thing (ids of the people it names, for lanes). The domain registers one per kind."""
    name: str
    label: str
    options: Callable[[Session, User, bool], list[tuple[int, str]]]
    start_data: Callable[[Session, int], dict]


ABOUT_KINDS: dict[str, AboutKind] = {}


def register_about_kind(kind: AboutKind) -> None:
    """Offer `kind` to process.json start declarations."""
    ABOUT_KINDS[kind.name] = kind

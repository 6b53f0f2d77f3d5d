"""Tables and indexes for monitoring and administration: people's saved filters, and the
indexes the dashboard and the instance list read through.

The indexes are declared here, beside the queries that need them
(engine/runtime/monitoring.py), rather than on the tables' own models: they belong to
these pages, and migration 0004 creates them.
"""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base, utcnow
from engine.runtime.models import HumanTask, ProcessInstance

FILTER_PAGES = ("instances", "tracker")


class SavedFilter(Base):
    """A person's named filter on a list page, kept as the page's query string."""
    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("owner_id", "page", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    page: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# Sorting the instance list by when instances started or last changed.
Index("ix_process_instances_started_at", ProcessInstance.started_at)
Index("ix_process_instances_updated_at", ProcessInstance.updated_at)
# Open tasks by step (dashboard counts, the current-step filter) and by due date (overdue).
Index("ix_human_tasks_step", HumanTask.state, HumanTask.spec_name, HumanTask.instance_id)
Index("ix_human_tasks_due", HumanTask.state, HumanTask.due_on, HumanTask.instance_id)

"""The one clock the product reads, so tests can move time instead of waiting for it."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Europe/London")


class Clock:
    """Wall-clock time unless a test has pinned it with `set` or moved it with `advance`."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None

    def now(self) -> datetime:
        return self._fixed or datetime.now(timezone.utc)

    def today(self) -> date:
        """Today's date where the council works (not in UTC)."""
        return self.now().astimezone(LOCAL_ZONE).date()

    def set(self, moment: datetime | None) -> None:
        self._fixed = moment

    def advance(self, delta: timedelta) -> None:
        self._fixed = self.now() + delta


clock = Clock()

"""Query-string filters for list pages.

Shared by every filtered list (instances, the actions tracker, the inbox), so each
parses the same way and drops what makes no sense with a message, never an error page.
"""
from dataclasses import asdict, fields
from typing import ClassVar

from engine.whole_numbers import whole_number


class QueryFilters:
    """A list page's search and filters, read from and written back to its query string.

    Subclasses are dataclasses naming which fields are numbers (ids, page), which are
    yes/no flags, and which must be one of a set of values."""
    NUMBERS: ClassVar[tuple[str, ...]] = ()
    FLAGS: ClassVar[tuple[str, ...]] = ()
    CHOICES: ClassVar[dict[str, object]] = {}

    @classmethod
    def choices(cls) -> dict[str, object]:
        """The values each choice field accepts (a subclass may work them out when asked)."""
        return cls.CHOICES

    @classmethod
    def from_query(cls, args):
        """Read a query string; each value that makes no sense is dropped with a message.
        A `subject` field holds filters a domain registered, read by the subject itself."""
        filters, errors, choices = cls(), {}, cls.choices()
        for field in fields(cls):
            raw = (args.get(field.name) or "").strip()[:80]
            label = field.name.replace("_", " ")
            if not raw or field.name == "subject":
                continue
            if field.name in cls.FLAGS:
                setattr(filters, field.name, raw in ("yes", "1", "true"))
            elif field.name in cls.NUMBERS:
                if (number := whole_number(raw, minimum=1)) is not None:
                    setattr(filters, field.name, number)
                else:
                    errors[field.name] = f"{label.capitalize()} must be chosen from the list"
            elif field.name in choices and raw not in choices[field.name]:
                errors[field.name] = f"There is no {label} '{raw}'"
            else:
                setattr(filters, field.name, raw)
        return filters, errors

    def to_query(self, **changes) -> dict:
        """The values that differ from the defaults, for links and saved filters (page 1 unless changed)."""
        values = asdict(self) | {"page": 1} | changes
        defaults = asdict(type(self)())
        return {key: ("yes" if value is True else value) for key, value in values.items()
                if value != defaults[key] and value not in (None, "", False)}

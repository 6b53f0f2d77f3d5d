"""`<int:...>` in every route is bounded by the database's INTEGER columns.

Werkzeug's own converter accepts any number of digits, so /audits/99999999999999999999999
reached the query and failed there (a 500 on SQLite and PostgreSQL). Replacing the `int`
converter for the whole app, before any blueprint is registered, makes every numeric id
in an address past the columns' range a plain 404, in the routes of today and any added
later; the OpenAPI description shows the bound too.
"""
from flask import Flask
from werkzeug.routing import IntegerConverter

from engine.whole_numbers import MAX_INTEGER


class DatabaseIntegerConverter(IntegerConverter):
    """A non-negative whole number no larger than an INTEGER column holds; otherwise no match."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 (werkzeug's names)
                 max: int | None = MAX_INTEGER, signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register(app: Flask) -> None:
    """Use the bounded converter for `<int:...>`; call before registering blueprints."""
    app.url_map.converters["int"] = DatabaseIntegerConverter

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


def digits_up_to(maximum: int) -> str:
    """A regular expression for the decimal numbers from 0 to `maximum` (leading zeros allowed).

    Bounding the pattern, not only the converted value, makes a too-large id miss every
    rule: Werkzeug checks a matching path's method before converting its values, so a
    POST-only route would otherwise answer 405 for a too-large id where GET answers 404."""
    text = str(maximum)
    alternatives = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for position, digit in enumerate(text):
        lowest = 1 if position == 0 and len(text) > 1 else 0
        if int(digit) > lowest:
            alternatives.append(rf"{text[:position]}[{lowest}-{int(digit) - 1}]\d{{{len(text) - position - 1}}}")
    alternatives.append(text)
    return "(?:" + "|".join(alternatives) + ")"


class DatabaseIntegerConverter(IntegerConverter):
    """A non-negative whole number no larger than an INTEGER column holds; otherwise no match."""
    regex = digits_up_to(MAX_INTEGER)

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 (werkzeug's names)
                 max: int | None = MAX_INTEGER, signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register(app: Flask) -> None:
    """Use the bounded converter for `<int:...>`; call before registering blueprints."""
    app.url_map.converters["int"] = DatabaseIntegerConverter

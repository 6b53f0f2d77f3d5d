"""Reading the rows of an uploaded CSV or XLSX file, for every import the product has
(the case register, the staff list): one reader, one set of file errors, one date parser.

The header is line 1; each later non-blank row comes back with its line number, so an
import can name every bad row by line. Header names are matched without case, spaces or
underscores, and an import may give aliases (an HR export says `mail` where we say `email`).
"""
import csv
import io
from datetime import date, datetime
from typing import Callable, Iterator

from openpyxl import load_workbook


class SpreadsheetFormatError(ValueError):
    """The file itself cannot be read (wrong type, not UTF-8, damaged, empty, missing columns)."""


def read_rows(filename: str, content: bytes, required: tuple[str, ...],
              aliases: dict[str, str] | None = None,
              refused: Callable[[str], str | None] | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, row) pairs from a CSV or XLSX file, keyed by our column names.

    `refused` may name a header the import never takes (returning why), so the whole file
    is refused before any row is read."""
    lowered = filename.lower()
    if lowered.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SpreadsheetFormatError("The CSV file is not UTF-8 text.")
        rows = list(csv.reader(io.StringIO(text)))
    elif lowered.endswith(".xlsx"):
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
        except Exception as error:  # openpyxl raises many types for a damaged file
            raise SpreadsheetFormatError(f"The XLSX file could not be read ({error.__class__.__name__}).")
        rows = [["" if cell is None else cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    else:
        raise SpreadsheetFormatError("Upload a .csv or .xlsx file.")
    if not rows:
        raise SpreadsheetFormatError("The file is empty.")
    known = {_plain(name): name for name in required} | {_plain(alias): name for alias, name in (aliases or {}).items()}
    header = [known.get(_plain(str(name)), str(name).strip().lower().replace(" ", "_")) for name in rows[0]]
    for name in rows[0] if refused else ():
        if reason := refused(str(name)):
            raise SpreadsheetFormatError(reason)
    missing = [column for column in required if column not in header]
    if missing:
        raise SpreadsheetFormatError(f"The file has no column for: {', '.join(missing)}.")
    for number, values in enumerate(rows[1:], start=2):
        if any(str(value).strip() for value in values):
            yield number, {name: values[i] if i < len(values) else "" for i, name in enumerate(header)}


def parse_date(value) -> date | None:
    """A date from a cell: a spreadsheet date, YYYY-MM-DD or DD/MM/YYYY; None otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _plain(name: str) -> str:
    return "".join(character for character in name.lower() if character.isalnum())

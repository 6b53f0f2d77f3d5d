"""Writing exports people open in a spreadsheet program (CSV and XLSX), safely: a cell
that starts like a formula is never run as one, and CSV carries a BOM so Excel reads
UTF-8 right. `columns` are (key, heading) pairs naming what each row dict holds."""
import csv
import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(rows: list[dict], columns) -> bytes:
    """Rows as CSV (UTF-8 with BOM), a header row first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in columns])
    for row in rows:
        writer.writerow([csv_cell(row[key]) for key, _ in columns])
    return ("\ufeff" + out.getvalue()).encode()


def xlsx_bytes(rows: list[dict], columns, title: str, wide: tuple[str, ...] = ()) -> bytes:
    """Rows as an XLSX file: a header row, filters on it, dates as dates, nothing run as a formula;
    the columns named in `wide` are made wide enough for text."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([label for _, label in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row[key] for key, _ in columns])
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":
                cell.data_type = "s"
            if isinstance(cell.value, date):
                cell.number_format = "dd/mm/yyyy"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for column, (key, _) in zip(sheet.columns, columns):
        sheet.column_dimensions[column[0].column_letter].width = 40 if key in wide else 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text

"""The staff import page: upload an HR or Active Directory export, see the changes, apply them.

Uploading shows a preview (who joins, moves, leaves, whose roles or details change, and
every bad row by line) and changes nothing. The preview page carries the file back
(base64, in the form) so "Apply" imports exactly what was previewed; applying checks
every row again. The rules are engine.organisation.staff_import's.
"""
import base64
import binascii
from pathlib import PurePath

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from engine.organisation import directory
from engine.organisation.staff_import import (CHANGE_KINDS, COLUMNS, OPTIONAL_COLUMNS, SpreadsheetFormatError,
                                              import_staff)
from webapp.extensions import db
from webapp.form_rendering import ErrorLink

blueprint = Blueprint("staff_import", __name__)
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
ACCEPTED = (".csv", ".xlsx")


@blueprint.route("/organisation/import", methods=["GET", "POST"])
@login_required
def upload():
    if not directory.may_manage(current_user):
        abort(403)
    if request.method == "GET":
        return _upload_page(None)
    name, content, error = _file()
    if error:
        return _upload_page(error)
    apply = request.form.get("action") == "apply"
    try:
        report = import_staff(db.session, name, content, by=current_user._get_current_object(), apply=apply,
                              good_rows_only=request.form.get("good_rows_only") == "yes")
    except SpreadsheetFormatError as unreadable:
        db.session.rollback()
        return _upload_page(f"{unreadable} Nothing was changed.")
    db.session.commit()
    return render_template("staff_import_preview.html", report=report, kinds=CHANGE_KINDS, filename=name,
                           content=base64.b64encode(content).decode(), applied=report.applied)


def _file() -> tuple[str, bytes, str | None]:
    """The uploaded file, or the previewed one posted back with "Apply"."""
    if request.form.get("content"):
        try:
            content = base64.b64decode(request.form["content"], validate=True)
        except (binascii.Error, ValueError):
            return "", b"", "Upload the file again: the previewed copy could not be read"
        name = PurePath(request.form.get("filename", "")).name
    else:
        upload = request.files.get("staff")
        content = upload.read(MAX_UPLOAD_BYTES + 1) if upload else b""
        name = PurePath(upload.filename or "").name if upload else ""
    if not name or not content:
        return name, content, "Choose the staff file to import"
    if not name.lower().endswith(ACCEPTED):
        return name, content, "The staff file must be a CSV or XLSX file"
    if len(content) > MAX_UPLOAD_BYTES:
        return name, content, "The file is larger than 2 MB: import it with `python -m engine.cli import-staff`"
    return name, content, None


def _upload_page(error: str | None):
    return render_template("staff_import_upload.html", columns=COLUMNS, optional=OPTIONAL_COLUMNS, error=error,
                           errors=[ErrorLink("#staff", error)] if error else [], manage=True), (422 if error else 200)

"""The thematic report and the annual QA report as PDF, drawn with the same tables as the
other reports (engine/qa/report_pdf.py)."""
import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate

from engine.qa.report_pdf import STYLES, _cell, _pairs, _rows, _when


def thematic_pdf(report: dict, council_name: str) -> bytes:
    """`report` as engine.qa.thematic.thematic_report builds it; marked Draft until published."""
    thematic = report["thematic"]
    story = _opening(thematic.status, f"Thematic audit {thematic.reference}: {thematic.theme}", council_name)
    story += _pairs([("The commission", [
        ("Question", thematic.question), ("Why now", f"{report['why_now']}. {thematic.why_now_detail}".strip()),
        ("Service", report["service"]), ("Cohort", report["cohort"]), ("Cases sampled", len(report["audits"])),
        ("Audit tool", report["tool"]), ("Seed of the draw", thematic.seed), ("Commissioned by", report["commissioned_by"]),
        ("Commissioned", _when(thematic.commissioned_at)), ("Deadline", _when(thematic.deadline))])])
    story += _rows("Changes at the review of the sample", ["Case drawn", "Change", "Reason", "By"],
                   [(row["case"], row["change"], row["reason"], row["by"]) for row in report["sample_changes"]],
                   (30, 40, 75, 35))
    if report["focused"]:
        title = ("The focused tool's answers (shares of the audits where the question applied; where the "
                 "moderator disagreed with the auditor, the moderator's answer is counted)")
        if report["small_numbers_hidden"]:
            title += "; figures resting on fewer than 5 answers are shown as 'fewer than 5'"
        story += _rows(title, ["Question", "Yes", "Partly", "No", "N/A"],
                       [(row["question"], *(_cell(row["answers"][choice]) for choice in ("yes", "partly", "no")),
                         row["not_applicable"]) for row in report["focused"]], (80, 25, 25, 25, 15))
        story += _rows("Where the moderator disagreed (both views kept)",
                       ["Audit", "Question", "Auditor", "Moderator", "Why"],
                       [(row["audit"], row["question"], row["auditor"], row["moderator"], row["reason"])
                        for row in report["moderator_views"]], (30, 55, 20, 20, 55))
    else:
        story += _rows(f"Grades of the audits (moderated where moderated) on the {report['grading_scale']}; a grade "
                       "given on another scale is named with its scale and counted apart", ["Grade", "Audits", "Share"],
                       [(row["grade"], row["count"], f"{row['share']}%") for row in report["grades"]], (60, 30, 30))
    story += _rows("The audits", ["Audit", "Case", "Moderator" if report["focused"] else "Grade"],
                   [(row["reference"], row["case"], row["grade"]) for row in report["audits"]], (40, 40, 60))
    story += _pairs([("Findings", [("Findings", thematic.findings), ("Learning", thematic.learning),
                                   ("Good or better", f"{report['good_or_better']}%"
                                    if report["good_or_better"] is not None else None),
                                   ("Immediate safeguarding concerns", report["safeguarding_concerns"])])])
    story += _rows("Recommendations", ["Recommendation", "Owner", "Due"],
                   [(row["recommendation"], row["owner"].replace("_", " "), row["due_on"])
                    for row in thematic.recommendations], (110, 40, 30))
    story += _pairs([("Sign-off", [("Signed off by", report["signed_off_by"]),
                                   ("Signed off", _when(thematic.signed_off_at)),
                                   ("Comments", thematic.sign_off_comments)])])
    return _built(story)


def annual_report_pdf(report, sections: dict[str, str], signed_off_by: str | None, council_name: str) -> bytes:
    """The annual QA report: the year's figures from every activity and the written sections;
    marked Draft until the director signs it off."""
    figures = report.figures
    story = _opening(report.status, f"Annual quality assurance report: {figures['period']}", council_name)
    audits = figures["audits"]
    story += _pairs([("Case file audits", [
        ("Allocated", audits["allocated"]), ("Completed", audits["completed"]),
        ("Completion rate", f"{audits['completion_rate']}%" if audits["completion_rate"] is not None else None),
        ("Graded", audits["graded"]), ("Moderated", audits["moderated"])]),
        ("Other activities", [
            ("Thematic audits published", len(figures["thematic"])),
            ("Dip samples completed", figures["dip_samples"]["completed"]),
            ("Immediate concerns from dip samples", figures["dip_samples"]["concerns"]),
            ("Practice weeks held", figures["practice_weeks"]["held"]),
            ("Observations of practice", figures["practice_weeks"]["observations"])])])
    story += _rows("Thematic audits", ["Reference", "Theme", "Audits"],
                   [(row["reference"], row["theme"], row["audits"]) for row in figures["thematic"]], (40, 110, 20))
    story += _rows("Feedback", ["From", "Obtained", "Asked"],
                   [(row["source"], row["obtained"], row["asked"]) for row in figures["feedback"]], (60, 30, 30))
    story += _rows("Practitioner survey", ["Round from", "Answers", "Wellbeing (1-5)", "Caseload unmanageable",
                                           "Supervision not regular"],
                   [survey_row(row) for row in figures.get("survey", [])], (35, 25, 35, 45, 45))
    story += _rows("Compliments and complaints by theme", ["Theme", "Compliments", "Complaints", "Upheld"],
                   [(row["label"], row["compliments"], row["complaints"], row["upheld"])
                    for row in figures.get("complaints", [])], (70, 35, 35, 35))
    participation = figures.get("participation") or {}
    story += _pairs([("Participation of children and young people", [
        ("Sessions held", participation.get("sessions")), ("Children and young people taking part",
                                                          participation.get("participants"))])])
    story += _pairs([("The report", [(label, report.sections.get(key)) for key, label in sections.items()]),
                     ("Sign-off", [("Signed off by", signed_off_by), ("Signed off", _when(report.signed_off_at)),
                                   ("Comments", report.sign_off_comments)])])
    return _built(story)


def survey_row(row: dict) -> tuple:
    """A survey round as the annual report shows it: a round under 5 answers shows its count only."""
    if row["withheld"]:
        return (row["period_start"], row["responses"], "fewer than 5", "fewer than 5", "fewer than 5")
    return (row["period_start"], row["responses"], row["wellbeing_average"], f"{row['caseload_unmanageable']}%",
            f"{row['supervision_irregular']}%")


def _opening(status: str, title: str, council_name: str) -> list:
    """The title (marked Draft until published) and the council's name."""
    draft = "" if status == "published" else "Draft: "
    return [Paragraph(f"{draft}{title}", STYLES["Title"]), Paragraph(council_name, STYLES["Normal"])]


def _built(story: list) -> bytes:
    buffer = io.BytesIO()
    title = story[0].text if story else ""
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, title=title).build(story)
    return buffer.getvalue()

"""The thematic report as PDF: the commission, the measures of its audits, the write-up and
the sign-off, drawn with the same tables as the other reports (engine/qa/report_pdf.py)."""
import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate

from engine.qa.report_pdf import STYLES, _pairs, _rows, _when


def thematic_pdf(report: dict, council_name: str) -> bytes:
    """`report` as engine.qa.thematic.thematic_report builds it; marked Draft until published."""
    thematic = report["thematic"]
    draft = "" if thematic.status == "published" else "Draft: "
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                                 title=f"{draft}Thematic audit {thematic.reference}")
    story = [Paragraph(f"{draft}Thematic audit {thematic.reference}: {thematic.theme}", STYLES["Title"]),
             Paragraph(council_name, STYLES["Normal"])]
    story += _pairs([("The commission", [
        ("Question", thematic.question), ("Why now", f"{report['why_now']}. {thematic.why_now_detail}".strip()),
        ("Service", report["service"]), ("Cohort", report["cohort"]), ("Cases sampled", len(report["audits"])),
        ("Seed of the draw", thematic.seed), ("Commissioned by", report["commissioned_by"]),
        ("Commissioned", _when(thematic.commissioned_at)), ("Deadline", _when(thematic.deadline))])])
    story += _rows("Grades of the audits (moderated where moderated)", ["Grade", "Audits", "Share"],
                   [(row["grade"], row["count"], f"{row['share']}%") for row in report["grades"]], (60, 30, 30))
    story += _rows("The audits", ["Audit", "Case", "Grade"],
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
    document.build(story)
    return buffer.getvalue()

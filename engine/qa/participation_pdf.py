"""The Corporate Parenting Board report as a PDF, drawn with reportlab alone.

Every piece of text people typed is escaped before it becomes a Paragraph, since
reportlab reads Paragraph text as markup."""
import io
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from engine.qa.report_pdf import STYLES, TABLE_STYLE


def board_report_pdf(report: dict, council_name: str) -> bytes:
    """`report` as engine.qa.participation.board_report returns it."""
    buffer = io.BytesIO()
    period = report["period"]
    span = f"{period.start:%-d %B %Y} to {period.end:%-d %B %Y}"
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                                 title=f"Voice of the child: report to the Corporate Parenting Board, {span}",
                                 author=council_name)
    story = [Paragraph(escape(f"{council_name}: the voice of children and young people"), STYLES["Title"]),
             Paragraph(escape(f"Report to the Corporate Parenting Board, {span}. {report['sessions']} sessions heard "
                              f"from {report['participants']} children and young people."), STYLES["Normal"]),
             Spacer(1, 4 * mm)]
    story += _wrapped_table("Where we listened", [["Forum", "Sessions", "Children and young people"]]
                      + [[row["label"], row["sessions"], row["participants"]] for row in report["forums"]])
    for theme in report["themes"]:
        story.append(Paragraph(escape(f"{theme['label']} ({theme['participants']} children and young people)"),
                               STYLES["Heading2"]))
        for voice in theme["voices"]:
            story.append(Paragraph(escape(f"{voice['forum']}, {voice['on']:%-d %B %Y}. You said: {voice['said']}"),
                                   STYLES["Normal"]))
            if voice["did"]:
                story.append(Paragraph(escape(f"We did: {voice['did']}"), STYLES["Normal"]))
            story.append(Spacer(1, 2 * mm))
    links = report["child_links"]
    story += _wrapped_table("Feedback children and young people gave on their own during audits",
                      [["Who", "Asked", "Answered", "Response rate"]]
                      + [[row["audience"], row["sent"], row["answered"], "-" if row["rate"] is None else f"{row['rate']}%"]
                         for row in links["audiences"]])
    story += _wrapped_table("What they said, by question", [["Question", "Answers"]]
                      + [[row["question"], "; ".join(f"{answer}: {count}" for answer, count in row["answers"])]
                         for row in links["questions"]])
    audits = report["child_feedback_in_audits"]
    story.append(Paragraph(escape(f"Auditors obtained the child's own feedback in {audits['obtained']} of the "
                                  f"{audits['sought']} audits where they sought it."), STYLES["Normal"]))
    document.build(story)
    return buffer.getvalue()


def _wrapped_table(title: str, rows: list[list]) -> list:
    """A heading and a table whose cells wrap (answers and questions can be long)."""
    parts = [Paragraph(escape(title), STYLES["Heading2"])]
    if len(rows) > 1:
        cells = [[Paragraph(escape(str(cell)), STYLES["BodyText"]) for cell in row] for row in rows]
        parts.append(Table(cells, style=TABLE_STYLE, repeatRows=1, hAlign="LEFT"))
    else:
        parts.append(Paragraph("Nothing recorded in this period.", STYLES["Normal"]))
    return parts + [Spacer(1, 3 * mm)]

"""PDFs: the six-weekly or annual report a head of service can send on, and one
audit's full record for the inspector export (`audit_pdf`).

Drawn with reportlab alone (charts with reportlab.graphics, the built-in Helvetica),
so nothing is fetched at run time. The charts are the ones the web page draws:
grade mix per cycle, the trend against the targets, the area-by-team heat map and the
moderation matrix; each is followed by its figures as a table, for readers who need
the numbers (and for screen readers).
"""
import io
import textwrap
from xml.sax.saxutils import escape
from datetime import date, datetime

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Preformatted, SimpleDocTemplate, Spacer, Table, TableStyle

from engine.clock import LOCAL_ZONE
from engine.database import as_utc
from engine.qa.grading_scale import grade_label
AREA_SHORT = {"child_voice": "Child's voice", "assessment": "Assessment", "planning": "Planning",
              "chronology": "Chronology", "management_oversight": "Management", "parent_carer_engagement": "Parents, carers"}
SOURCE_LABELS = {"child": "Child or young person", "family": "Parents or carers", "professionals": "Professionals"}
WIDTH = 170 * mm
STYLES = getSampleStyleSheet()
TABLE_STYLE = TableStyle([("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8), ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
                          ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                          ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f2f1"))])


def report_pdf(report: dict, council_name: str) -> bytes:
    """The report (as engine.qa.reports.build_report returns it) as PDF bytes."""
    buffer = io.BytesIO()
    period = report["period"]
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                                 title=f"{period.label}: case file audit report", author=council_name)
    story = [_paragraph(f"{council_name}: case file audit report", STYLES["Title"]),
             _paragraph(f"{period.label} ({_day(period.start)} to {_day(period.end)}). {report['scope_label']}. "
                       f"Figures as at {_day(report['as_of'])}.", STYLES["Normal"]),
             Spacer(1, 4 * mm)]
    story += written_sections("The QA lead's narrative", report.get("narrative_sections", []),
                              report.get("narrative_sign_off", ""))
    scale = report["scale"]
    grades, escalating = list(scale.labels.values()), scale.escalating_label
    story += _headline(report)
    story += _scales(report)
    story += _section("Grade mix per cycle", _grade_bars(report["trend"], scale),
                      [["Cycle", *grades]] + [[t["period"].label, *t["counts"].values()] for t in report["trend"]])
    story += _section(f"Good or better and {escalating} against target", _trend_lines(report),
                      [["Cycle", "Graded", "Good or better", escalating]]
                      + [[t["period"].label, t["graded"], _pc(t["good_or_better"]), _pc(t["inadequate"])]
                         for t in report["trend"]])
    story += _section("Completion by team", None,
                      [["Team", "Allocated", "Completed", "On time", "Overdue", "Completion"]]
                      + [[t["team"], t["allocated"], t["completed"], t["on_time"], t["overdue"], _pc(t["rate"])]
                         for t in report["completion"]["teams"]])
    for dimension, title, heading in (("service", "Grades by service", "Service"), ("team", "Grades by team", "Team"),
                                      ("cohort", "Grades by cohort", "Cohort"),
                                      ("judgement_area", "Grades by inspection judgement area", "Judgement area")):
        story += _section(title, None, [[heading, *grades, "Good or better"]]
                          + [[row["label"], *row["counts"].values(), _pc(row["good_or_better"])]
                             for row in report["by_dimension"][dimension]])
    story += _section("Grades by area", None, [["Area", *grades, "Good or better", "Actions"]]
                      + [[a["label"], *a["counts"].values(), _pc(a["good_or_better"]), a["actions"]] for a in report["areas"]])
    story += _impact_and_compliance(report)
    story += _section("Area by team: share Good or better", _heat_map(report["heat_map"]), None)
    story += _moderation(report["moderation"], scale)
    story += _actions_and_escalations(report)
    story += _section("Feedback", None, [["From", "Obtained", "Declined", "Unable", "Not appropriate", "Response rate"]]
                      + [[SOURCE_LABELS[f["source"]], f["obtained"], f["declined"], f["unable"], f["not_appropriate"],
                          _pc(f["response_rate"])] for f in report["feedback"]])
    story += _section("Feedback links sent to children, families and professionals", None,
                      [["To", "Sent", "Answered", "Response rate"]]
                      + [[row["audience"], row["sent"], row["answered"], _pc(row["rate"])]
                         for row in report["feedback_links"]["audiences"]])
    story += _themes(report["themes"])
    story += _section("Compliments and complaints by theme", None,
                      [["Theme", "Complaints", "Upheld in whole or part", "Compliments"]]
                      + [[row["label"], row["complaints"], row["upheld"], row["compliments"]]
                         for row in report["complaints_themes"]])
    document.build(story)
    return buffer.getvalue()


def written_sections(title: str, sections: list[tuple[str, str]], footnote: str = "") -> list:
    """Headed sections of free text (the QA lead's narrative, a briefing), a paragraph per
    line, each escaped by `_paragraph` so whatever was typed prints as typed; `footnote`
    (who signed the narrative off, and when) closes them."""
    if not sections:
        return []
    parts = [_paragraph(title, STYLES["Heading2"])]
    for heading, text in sections:
        parts.append(_paragraph(heading, STYLES["Heading3"]))
        parts += [_paragraph(line, STYLES["Normal"]) for line in text.split("\n") if line.strip()]
    if footnote:
        parts.append(_paragraph(footnote, STYLES["Italic"]))
    return parts + [Spacer(1, 4 * mm)]


def _scales(report: dict) -> list:
    """Which scale the grade figures use, and the audits on other scales, counted apart."""
    others = report["other_scales"]
    parts = [_paragraph(f"Grades are on the {report['scale'].name}.", STYLES["Normal"])]
    if report["small_numbers_hidden"]:
        parts.append(_paragraph('Grade counts from 1 to 4, and shares resting on fewer than 5 audits, are shown '
                                'as "fewer than 5".', STYLES["Normal"]))
    if not others["total"]:
        return parts + [Spacer(1, 3 * mm)]
    parts.append(_paragraph(f"Audits graded on a different scale ({others['total']}) are reported separately:",
                            STYLES["Normal"]))
    for entry in others["scales"]:
        parts += _section(entry["name"], None, [["Grade", "Audits"]]
                          + [[entry["grades"].get(key, key), count] for key, count in entry["counts"].items()])
    return parts


def _headline(report: dict) -> list:
    shares, targets, completion = report["shares"], report["targets"], report["completion"]["totals"]
    rows = [["Measure", "Figure", "Target"],
            ["Audits allocated / completed", f"{completion['allocated']} / {completion['completed']}", ""],
            ["Completion", _pc(completion["rate"]), ""],
            ["Good or better", _pc(shares["good_or_better"]), f"at least {targets.good_or_better:g}%"],
            [report["scale"].escalating_label, _pc(shares["inadequate"]), f"at most {targets.inadequate:g}%"],
            ["Moderation agreement", _pc(report["moderation"]["agreement_rate"]), ""],
            ["Actions completed on time", _pc(report["actions"]["on_time_rate"]), ""]]
    return _section("Headlines", None, rows)


def _section(title: str, drawing, rows) -> list:
    parts = [_paragraph(title, STYLES["Heading2"])]
    if drawing is not None:
        parts = [KeepTogether(parts + [drawing])]
    if rows and len(rows) > 1:
        parts.append(_table(rows))
    elif rows is not None:
        parts.append(_paragraph("No audits in this period.", STYLES["Normal"]))
    return parts + [Spacer(1, 3 * mm)]


def _table(rows) -> Table:
    return Table([[str(cell) if cell is not None else "" for cell in row] for row in rows],
                 style=TABLE_STYLE, repeatRows=1, hAlign="LEFT")


def _grade_bars(trend: list[dict], scale) -> Drawing:
    drawing = Drawing(WIDTH, 70 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 14 * mm, WIDTH - 60 * mm, 52 * mm
    chart.data = [[_number(t["counts"][grade]) for t in trend] for grade in scale.keys]
    chart.categoryAxis.categoryNames = [t["period"].label.split(" ")[-1] for t in trend]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    for index, grade in enumerate(scale.grades):
        chart.bars[index].fillColor = colors.HexColor(grade.colour)
    drawing.add(chart)
    drawing.add(String(12 * mm, 6 * mm, "Cycle number", fontSize=7))
    drawing.add(_legend([(g.colour, g.label) for g in scale.grades], WIDTH - 44 * mm))
    return drawing


def _trend_lines(report: dict) -> Drawing:
    trend, targets = report["trend"], report["targets"]
    drawing = Drawing(WIDTH, 70 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 14 * mm, WIDTH - 60 * mm, 52 * mm
    series = [([_number(t["good_or_better"]) for t in trend], "#00703c", False),
              ([_number(t["inadequate"]) for t in trend], "#d4351c", False),
              ([targets.good_or_better] * len(trend), "#00703c", True), ([targets.inadequate] * len(trend), "#d4351c", True)]
    # A line needs two points: a series with fewer (a new council's first cycle) is left out.
    series = [s for s in series if sum(value is not None for value in s[0]) >= 2]
    chart.data = [values for values, _, _ in series]
    chart.categoryAxis.categoryNames = [t["period"].label.split(" ")[-1] for t in trend]
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    for index, (_, colour, dashed) in enumerate(series):
        chart.lines[index].strokeColor = colors.HexColor(colour)
        chart.lines[index].strokeWidth = 1 if dashed else 2
        if dashed:
            chart.lines[index].strokeDashArray = (3, 3)
    drawing.add(chart)
    drawing.add(_legend([("#00703c", "Good or better %"), ("#d4351c", f"{report['scale'].escalating_label} %"),
                         ("#505a5f", "Targets (dashed)")], WIDTH - 44 * mm))
    return drawing


def _legend(items: list[tuple[str, str]], x: float) -> Legend:
    legend = Legend()
    legend.x, legend.y, legend.fontSize, legend.alignment = x, 60 * mm, 7, "right"
    legend.columnMaximum = len(items)
    legend.colorNamePairs = [(colors.HexColor(colour), label) for colour, label in items]
    return legend


def _heat_map(heat: dict) -> Drawing:
    """Teams down the side, areas across; darker green is a higher share Good or better."""
    teams, cell_w, cell_h, left = heat["teams"], 18 * mm, 6 * mm, 60 * mm
    drawing = Drawing(WIDTH, (len(teams) + 2) * cell_h + 4 * mm)
    top = drawing.height - 2 * cell_h
    for column, area in enumerate(heat["areas"]):
        drawing.add(String(left + column * cell_w + 1, top + 2, AREA_SHORT[area], fontSize=7))
    for row, team in enumerate(teams):
        y = top - (row + 1) * cell_h
        drawing.add(String(0, y + 2, team["team"], fontSize=7))
        for column, cell in enumerate(team["cells"]):
            share = _number(cell["good_or_better"]) if cell else None
            fill = colors.HexColor("#f3f2f1") if share is None else _green(share)
            drawing.add(Rect(left + column * cell_w, y, cell_w - 1, cell_h - 1, fillColor=fill, strokeColor=None))
            text = "-" if share is None else f"{share:g}%"
            drawing.add(String(left + column * cell_w + 2, y + 2, text, fontSize=7,
                               fillColor=colors.white if share is not None and share >= 60 else colors.black))
    return drawing


def _green(share: float):
    """White at 0%, the GOV.UK green at 100%."""
    start, end = (255, 255, 255), (0, 112, 60)
    mix = [round(a + (b - a) * share / 100) for a, b in zip(start, end)]
    return colors.Color(*(value / 255 for value in mix))


def _moderation(moderation: dict, scale) -> list:
    rows = [["Auditor's grade / moderator's grade", *scale.labels.values()]]
    rows += [[label, *moderation["matrix"][auditor].values()] for auditor, label in scale.labels.items()]
    summary = (f"{moderation['moderated']} audits moderated; the moderator agreed with {moderation['agreed']} "
               f"({_pc(moderation['agreement_rate'])}). Grades raised: {moderation['upgrades']}; "
               f"lowered: {moderation['downgrades']}.")
    return [KeepTogether([_paragraph("Moderation", STYLES["Heading2"]), _paragraph(summary, STYLES["Normal"]),
                          Spacer(1, 2 * mm), _table(rows)]), Spacer(1, 3 * mm)]


def _actions_and_escalations(report: dict) -> list:
    actions, inadequate = report["actions"], report["inadequate"]
    rows = [["Measure", "Figure"], ["Actions agreed", actions["total"]], ["Completed", actions["completed"]],
            ["Completed on time", f"{actions['completed_on_time']} ({_pc(actions['on_time_rate'])})"],
            ["Open", actions["open"]], ["Overdue", actions["overdue"]],
            ["Median days to close", "-" if actions["median_days_to_close"] is None else actions["median_days_to_close"]],
            [f"{report['scale'].escalating_label} audits", inadequate["count"]],
            ["Head of service notified", inadequate["escalated"]],
            ["Median hours to notify", "-" if inadequate["median_hours_to_notify"] is None
             else inadequate["median_hours_to_notify"]],
            ["Acknowledged on time", inadequate["acknowledged_on_time"]]]
    escalating = report["scale"].escalating_label
    parts = _section(f"Actions and {escalating} audits", None, rows)
    if inadequate["audits"]:
        parts += _section(f"{escalating} audits", None, [["Audit", "Team", "Auditor's grade", "Moderated grade", "Hours to notify"]]
                          + [[a["reference"], a["team"], grade_label(a["grade"]), grade_label(a["moderated_grade"], "-"),
                              "-" if a["hours_to_notify"] is None else a["hours_to_notify"]] for a in inadequate["audits"]])
    return parts


def _impact_and_compliance(report: dict) -> list:
    """What has changed for the child and the compliance measures, with the small-number rule
    applied as on the page."""
    impact, found = report["impact"], report["compliance"]
    parts = []
    if report["small_numbers_hidden"]:
        parts.append(Paragraph('Figures resting on fewer than 5 audits are shown as "fewer than 5".', STYLES["Normal"]))
    labels = list(impact["labels"].values())
    parts += _section("What has changed for the child", None,
                      [["", *labels], ["All audits", *(_cell(c) for c in impact["overall"].values())]]
                      + [[row["label"], *(_cell(c) for c in row["cells"].values())]
                         for name in ("service", "team", "cohort") for row in impact["by"][name]])
    headlines = found["headlines"]
    parts += _section("Headline measures: share answering Yes", None,
                      [["", *(_wrap(m, 16) for m in headlines["measures"])], ["All audits", *(_cell(c, False) for c in headlines["overall"])]]
                      + [[row["label"], *(_cell(c, False) for c in row["cells"])]
                         for name in ("service", "team", "cohort") for row in headlines["by"][name]]
                      if headlines["measures"] else None)
    parts += _section("Compliance with practice standards: every question", None,
                      [["Question", "Yes", "Partly", "No", "N/A"]]
                      + [[_wrap(q["label"], 70), *(_cell(q["answers"][a]) for a in ("yes", "partly", "no")),
                          q["not_applicable"]] for q in found["questions"]])
    return parts


def _number(value):
    """A chart's value: a hidden small number ("fewer than 5") is drawn as a gap."""
    return value if isinstance(value, (int, float)) else None


def _cell(cell: dict, with_count: bool = True) -> str:
    if cell["hidden"]:
        return "fewer than 5"
    if not cell["base"]:
        return "-"
    return f"{cell['count']} ({_pc(cell['share'])})" if with_count else _pc(cell["share"])


def _themes(themes: dict) -> list:
    strengths = [f"{a['label']}: Good or better in {_pc(a['good_or_better'])} of audits" for a in themes["strengths"]]
    development = [f"{a['label']}: below Good in {_pc(a['below_good'])} of audits, {a['actions']} actions"
                   for a in themes["development"]]
    parts = [_paragraph("Recurring strengths", STYLES["Heading2"])]
    parts += [_paragraph(f"• {line}", STYLES["Normal"]) for line in strengths or ["None in this period."]]
    parts.append(_paragraph("Areas for development", STYLES["Heading2"]))
    parts += [_paragraph(f"• {line}", STYLES["Normal"]) for line in development or ["None in this period."]]
    return parts


def _paragraph(text: str, style) -> Paragraph:
    """A paragraph of plain text. ReportLab reads a Paragraph's text as markup (<b>, <font>,
    <para>, entities), and these texts carry names, references and words people typed: every
    one is escaped, so "<" or "&" is printed as typed and can neither break the PDF nor style it."""
    return Paragraph(escape(text), style)


def _pc(value) -> str:
    """A share as printed: "-" for none, a hidden small number ("fewer than 5") as it is."""
    return "-" if value is None else value if isinstance(value, str) else f"{value:g}%"


def _day(value) -> str:
    return value.strftime("%-d %B %Y")


HISTORY_KEYS = ("task", "case", "overall_grade", "grade_before", "grade_after", "outcome", "reason", "action",
                "status", "due_on", "supervision_date", "immediate_actions", "outstanding_reason", "auditor_id",
                "moderator_id", "assignee_id", "head_of_service_id")
GRADE_KEYS = ("overall_grade", "grade_before", "grade_after")
HISTORY_STYLE = ParagraphStyle("history", fontName="Courier", fontSize=6.5, leading=8)
ANONYMISED_NOTE = ("This audit's free text was anonymised under the council's retention schedule: grades, dates and "
                   "the history of who did what remain; what people wrote does not.")


def audit_pdf(record: dict) -> bytes:
    """One audit's record (as engine.qa.trail_export builds it) as PDF bytes.

    Table cells hold plain, pre-wrapped text rather than flowing paragraphs: a year's
    export draws thousands of these, and this is several times quicker."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                                 title=f"Audit {record['reference']}", pageCompression=0)
    story = [_paragraph(f"Case file audit {record['reference']}: case {record['case_reference']}", STYLES["Title"])]
    if record["anonymised"]:
        story.append(_paragraph(ANONYMISED_NOTE, STYLES["Normal"]))
    story += _pairs([("Case profile", record["profile"]), ("People", record["people"]),
                     ("Dates", [(label, _when(value)) for label, value in record["dates"]])])
    story += _rows("Grades by area, before and after moderation",
                   ["Area", "Auditor", "Moderator", "Auditor's rationale"], record["grades"], (32, 24, 24, 58))
    story += _rows("What the auditor found: each question's answer and where the evidence is",
                   ["Area", "Question", "Auditor", "Moderator", "Evidence on the file"], record["findings"],
                   (26, 58, 15, 17, 64))
    story += _rows("Evidence from the practitioners on the case: the allocated worker and those added to the audit",
                   ["Practitioner", "Area", "Evidence on the file", "Their comment"], record.get("contributions", []),
                   (38, 32, 64, 46))
    story += _pairs([("Overall grade and rationales", record["overall"])]
                    + ([("Practitioner reflection", record["reflection"])] if record["reflection"] else []))
    story += _rows("Feedback", ["From", "Obtained", "How", "Date", "Rating", "What they told us"],
                   [(SOURCE_LABELS.get(s, s), st, m, _when(d), r or "", t) for s, st, m, d, r, t in record["feedback"]],
                   (26, 16, 16, 16, 10, 58))
    if record["escalations"]:
        story += _rows("Escalations to the head of service", ["Reason", "Head of service", "Notified", "Acknowledged",
                                                              "Immediate actions"],
                       [(r, h, _when(n), _when(a), t) for r, h, n, a, t in record["escalations"]], (26, 30, 26, 26, 54))
    story += _rows("Actions and their outcome", ["Ref", "Action", "Area", "Owner", "Due", "Status", "Completed",
                                                 "Evidence or reason"],
                   [(ref, text, area, owner, _when(due), status.replace("_", " "), _when(done), evidence or reason)
                    for ref, text, area, owner, due, status, done, evidence, reason in record["actions"]],
                   (8, 40, 22, 22, 17, 15, 17, 38))
    story += _history(record)
    document.build(story)
    return buffer.getvalue()


def _history(record: dict) -> list:
    """Every event as a line of fixed-width columns: one block of text draws far quicker than a
    table of cells, and an audit viewed a hundred times has a hundred lines."""
    lines = []
    for at, who, kind, payload in record["history"]:
        text = _event_text(kind, payload, record["names"])
        what = textwrap.wrap(text, 70) if len(text) > 70 else [text]
        lines.append(f"{_when(at):<18} {who[:24]:<24} {what[0]}")
        lines += [" " * 44 + more for more in what[1:]]
    header = f"{'When':<18} {'Who':<24} What"
    return [_paragraph("History: every event, with who viewed the audit", STYLES["Heading2"]),
            Preformatted("\n".join([header, "-" * 114] + lines), HISTORY_STYLE)]


def _pairs(sections: list[tuple[str, list]]) -> list:
    """Label and value sections as one table with a heading row for each: one table draws
    much quicker than several."""
    rows, style = [], [("FONT", (0, 0), (-1, -1), "Helvetica", 8), ("FONT", (0, 0), (0, -1), "Helvetica-Bold", 8),
                       ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    for title, pairs in sections:
        style += [("SPAN", (0, len(rows)), (1, len(rows))), ("FONT", (0, len(rows)), (1, len(rows)), "Helvetica-Bold", 10),
                  ("BACKGROUND", (0, len(rows)), (1, len(rows)), colors.HexColor("#f3f2f1"))]
        rows.append([title, ""])
        rows += [[label, _wrap(value if value not in (None, "") else "Not recorded", 95)] for label, value in pairs]
    return [Spacer(1, 3 * mm), Table(rows, colWidths=(50 * mm, 130 * mm), hAlign="LEFT", style=TableStyle(style))]


def _rows(title: str, header: list[str], rows, widths_mm) -> list:
    if not rows:
        return [_paragraph(title, STYLES["Heading2"]), _paragraph("None recorded.", STYLES["Normal"])]
    characters = [max(4, int(width * 0.62)) for width in widths_mm]  # Helvetica 8pt: about 1.6 mm a character
    body = [[_wrap(cell, limit) for cell, limit in zip(row, characters)] for row in rows]
    table = Table([header] + body, colWidths=[w * mm for w in widths_mm], repeatRows=1, hAlign="LEFT",
                  style=TABLE_STYLE)
    return [_paragraph(title, STYLES["Heading2"]), table]


def _wrap(value, width: int) -> str:
    text = "" if value is None else str(value)
    return "\n".join(textwrap.fill(line, width) for line in text.splitlines()) if len(text) > width else text


def _when(value) -> str:
    if isinstance(value, datetime):
        return as_utc(value).astimezone(LOCAL_ZONE).strftime("%-d %b %Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%-d %b %Y")
    return "" if value is None else str(value)


def _event_text(kind: str, payload: dict, names: dict) -> str:
    """'audit.graded' with its main fields: 'Audit graded: overall grade Good; ...'."""
    words = kind.replace("_", " ").replace(".", " ")
    details = []
    for key in HISTORY_KEYS:
        value = payload.get(key)
        if value in (None, "", [], {}):
            continue
        if key in GRADE_KEYS:
            value = grade_label(value)
        elif key.endswith("_id"):
            value = names.get(value) or f"user {value}"
        details.append(f"{key.replace('_id', '').replace('_', ' ')} {value}")
    text = words[:1].upper() + words[1:]
    return f"{text}: {'; '.join(details)}" if details else text

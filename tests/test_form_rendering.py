"""From JSON Schema to GOV.UK fields and back: every form of the case file audit."""
import json

import pytest
from werkzeug.datastructures import MultiDict

from engine.runtime.forms import applicable_answers, validate_answers
from engine.runtime.registry import FORMS_DIR, PROCESSES_DIR, form_with_choices, read_model_from_disk
from tests import answers
from webapp.form_rendering import (UnsupportedField, apply_row_command, as_posted_form, describe_form,
                                   drop_blank_rows, parse_submission, read_date, walk)


CASE_FILE_AUDIT = read_model_from_disk(PROCESSES_DIR / "case_file_audit")


def form(name: str) -> tuple[dict, dict]:
    """A case file audit form as its task shows it: grade choices filled from the model's scale."""
    return (form_with_choices(json.loads((FORMS_DIR / f"{name}-schema.json").read_text()), CASE_FILE_AUDIT),
            json.loads((FORMS_DIR / f"{name}-uischema.json").read_text()))


def by_name(rendered) -> dict:
    return {item.name: item for item in walk(rendered.fields)}


VALID = {
    "prepare_audit": answers.PREPARE,
    "audit_tool": answers.audit_tool(),
    "feedback": answers.FEEDBACK,
    "grading": answers.grading("good", actions=2),
    "reflection": answers.REFLECTION,
    "escalation_acknowledgement": answers.ACKNOWLEDGEMENT,
    "moderation": {**answers.moderation_disagreed(), "cohort_answer_changes": []},  # the cohort's list, left empty
    "reflective_discussion": answers.DISCUSSION,
    "action_review": answers.action_review("in_progress"),
    "loop_closure": answers.CLOSURE,
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_posted_answers_come_back_typed_as_the_schema_says(name):
    schema, ui_schema = form(name)
    posted = MultiDict(as_posted_form(schema, VALID[name]))
    parsed = parse_submission(schema, posted)
    assert parsed == applicable_answers(schema, VALID[name])  # without task data no cohort section applies
    assert validate_answers(schema, parsed) == {}
    describe_form(schema, ui_schema, parsed)  # every field of every form can be rendered
    for cohort in ("child_in_care", "care_leaver", "child_protection"):   # and every cohort's section
        context = {"cohort": cohort}
        parsed = parse_submission(schema, posted, context)
        assert parsed == applicable_answers(schema, VALID[name], context)
        assert validate_answers(schema, parsed, context) == {}
        describe_form(schema, ui_schema, parsed, context=context)


def test_the_documented_field_names_are_what_a_browser_posts():
    schema, _ = form("grading")
    posted = as_posted_form(schema, answers.grading("good", actions=1, safeguarding=True))
    assert posted["overall_grade"] == "good" and posted["safeguarding_concern"] == "yes"
    assert posted["actions.0.area"] == "chronology"
    assert (posted["actions.0.due_on-day"], posted["actions.0.due_on-month"], posted["actions.0.due_on-year"]) == \
        ("11", "1", "2027")
    tool, _ = form("audit_tool")
    assert as_posted_form(tool, answers.audit_tool())["management_oversight.social_workers_in_12_months"] == "2"


def test_fields_follow_the_ui_order_with_the_right_widgets():
    schema, ui_schema = form("audit_tool")
    rendered = describe_form(schema, ui_schema, {})
    cohort_sections = ("children_in_care", "care_leavers", "child_protection")
    assert [item.name for item in rendered.fields] == [key for key in ui_schema["ui:order"] if key not in cohort_sections]
    assert rendered.fields[0].kind == "read_only" and rendered.fields[0].value == "Not recorded"
    in_care = describe_form(schema, ui_schema, {}, context={"cohort": "child_in_care"})
    assert [item.name for item in in_care.fields] == [key for key in ui_schema["ui:order"] if key in (
        "children_in_care", *(k for k in ui_schema["ui:order"] if k not in cohort_sections))]
    assert in_care.fields[0].value == "Child in care"
    voice = rendered.fields[1]
    assert voice.kind == "object" and voice.label == "The child's voice"
    assert [child.name.split(".")[1] for child in voice.children] == ui_schema["child_voice"]["ui:order"]
    fields = by_name(rendered)
    question = fields["child_voice.seen_in_line_with_plan"]
    assert question.kind == "radios" and question.inline and not question.optional
    assert [(o.value, o.label) for o in question.options][-1] == ("not_applicable", "N/A")
    grade = fields["child_voice.grade"]
    assert grade.kind == "radios" and not grade.inline  # long labels stack
    evidence = fields["child_voice.evidence"]
    assert evidence.kind == "array" and evidence.hint.startswith("For each question you can, name the record")
    assert [option.label for option in fields["child_voice.evidence.0.question"].options][0] == \
        schema["properties"]["child_voice"]["properties"]["seen_in_line_with_plan"]["title"]
    assert fields["child_voice.evidence.0.record_type"].kind in ("select", "radios")
    assert fields["child_voice.evidence.0.record_date"].kind == "date"
    assert fields["management_oversight.social_workers_in_12_months"].kind == "integer"
    assert fields["assessment.assessment_date"].kind == "date"
    assert fields["assessment.assessment_date"].anchor == "assessment-assessment_date-day"


def test_yes_no_confirmations_and_selects():
    schema, ui_schema = form("prepare_audit")
    fields = by_name(describe_form(schema, ui_schema, {"observation_planned": False, "meeting_date": "2026-12-03"}))
    assert fields["file_read"].kind == "confirm" and not fields["file_read"].optional
    assert fields["observation_planned"].kind == "boolean" and fields["observation_planned"].value == "no"
    assert fields["meeting_date"].value == {"day": "3", "month": "12", "year": "2026"}
    schema, ui_schema = form("moderation")
    fields = by_name(describe_form(schema, ui_schema, {"moderated_area_grades": {"planning": "good"}}))
    planning = fields["moderated_area_grades.planning"]
    assert planning.kind == "select" and planning.optional and planning.value == "good"
    assert [o.label for o in planning.options] == ["Outstanding", "Good", "Requires improvement to be good", "Inadequate"]


def test_fields_an_if_then_requires_are_not_marked_optional():
    schema, ui_schema = form("grading")
    fields = by_name(describe_form(schema, ui_schema, {}))
    assert not fields["safeguarding_details"].optional
    assert fields["strengths"].optional


def test_a_new_list_starts_with_one_row_and_an_answered_one_shows_what_is_there():
    schema, ui_schema = form("grading")
    actions = by_name(describe_form(schema, ui_schema, {}))["actions"]
    assert actions.kind == "array" and len(actions.rows) == 1 and actions.add_label == "Add another action"
    row = actions.rows[0]
    assert row.label == "Action 1" and row.remove_command == "remove_row:actions:0"
    assert [item.name for item in row.fields] == ["actions.0.action", "actions.0.area", "actions.0.owner",
                                                  "actions.0.due_on", "actions.0.priority"]
    assert row.fields[0].kind == "textarea"
    emptied = by_name(describe_form(schema, ui_schema, {"actions": []}))["actions"]
    assert emptied.rows == [] and emptied.add_label == "Add an action" and emptied.add_command == "add_row:actions"
    full = by_name(describe_form(schema, ui_schema, {"actions": [{}] * 20}))["actions"]
    assert not full.can_add


def test_errors_sit_on_their_fields_and_the_summary_links_to_them_in_page_order():
    schema, ui_schema = form("grading")
    errors = {"actions.0.due_on": "Due date must be a real date", "overall_grade": "Select an answer for: Overall grade",
              "": "Something about the whole form"}
    rendered = describe_form(schema, ui_schema, {"actions": [{"action": "x"}]}, errors)
    fields = by_name(rendered)
    assert fields["overall_grade"].error == "Select an answer for: Overall grade"
    assert fields["actions.0.due_on"].error == "Due date must be a real date"
    assert [(link.href, link.message) for link in rendered.errors] == [
        ("#answers", "Something about the whole form"),
        ("#overall_grade", "Select an answer for: Overall grade"),
        ("#actions-0-due_on-day", "Action 1: Due date must be a real date")]


def test_blank_answers_are_left_out_and_objects_kept_so_required_reports_each_field():
    schema, _ = form("feedback")
    parsed = parse_submission(schema, MultiDict({"child.status": "", "child.summary": "  ", "family.status": "declined"}))
    assert parsed == {"child": {}, "family": {"status": "declined"}, "professionals": {}}
    assert set(validate_answers(schema, parsed)) == {"child.status", "professionals.status"}


def test_values_that_cannot_be_typed_are_kept_as_typed_and_fail_validation():
    schema, ui_schema = form("audit_tool")
    posted = as_posted_form(schema, answers.audit_tool())
    posted["management_oversight.social_workers_in_12_months"] = "two"
    posted.update({"assessment.assessment_date-day": "31", "assessment.assessment_date-month": "2"})
    parsed = parse_submission(schema, MultiDict(posted))
    assert parsed["management_oversight"]["social_workers_in_12_months"] == "two"
    assert parsed["assessment"]["assessment_date"] == "2026-02-31"
    errors = validate_answers(schema, parsed)
    assert errors["management_oversight.social_workers_in_12_months"].endswith("must be a whole number")
    assert errors["assessment.assessment_date"].endswith("must be a real date")
    fields = by_name(describe_form(schema, ui_schema, parsed, errors))
    assert fields["management_oversight.social_workers_in_12_months"].value == "two"
    assert fields["assessment.assessment_date"].value == {"day": "31", "month": "2", "year": "2026"}


def test_booleans_dates_and_text_are_read_the_way_people_type_them():
    schema, _ = form("reflection")
    parsed = parse_submission(schema, {"went_well": "Line one\r\nLine two\r\n", "agrees_with_grade": "no"})
    assert parsed == {"went_well": "Line one\nLine two", "agrees_with_grade": False}
    assert read_date({"d-day": "3", "d-month": "12", "d-year": "2026"}, "d") == "2026-12-03"
    assert read_date({"d-day": " ", "d-month": "", "d-year": ""}, "d") is None
    assert read_date({"d-day": "", "d-month": "", "d-year": "2026"}, "d") == "2026--"


def test_rows_are_taken_in_number_order_and_blank_rows_dropped_only_when_asked():
    schema, _ = form("grading")
    posted = MultiDict({"actions.2.action": "Third", "actions.0.action": "First", "actions.1.action": "",
                        "actions.1.due_on-day": ""})
    parsed = parse_submission(schema, posted)
    assert parsed["actions"] == [{"action": "First"}, {}, {"action": "Third"}]
    assert drop_blank_rows(parsed)["actions"] == [{"action": "First"}, {"action": "Third"}]
    assert parse_submission(schema, MultiDict())["actions"] == []


def test_row_commands_add_and_remove_rows_on_a_copy():
    schema, _ = form("grading")
    given = {"actions": [{"action": "First"}, {"action": "Second"}]}
    added = apply_row_command(schema, given, "add_row:actions")
    assert added["actions"] == [{"action": "First"}, {"action": "Second"}, {}]
    assert given["actions"] == [{"action": "First"}, {"action": "Second"}]
    assert apply_row_command(schema, given, "remove_row:actions:0")["actions"] == [{"action": "Second"}]
    assert apply_row_command(schema, {}, "add_row:actions") == {"actions": [{}]}
    full = {"actions": [{}] * 20}
    assert len(apply_row_command(schema, full, "add_row:actions")["actions"]) == 20
    for bad in ("remove_row:actions:5", "remove_row:actions:x", "add_row:overall_grade", "add_row:nothing", "drop:actions"):
        with pytest.raises(ValueError):
            apply_row_command(schema, given, bad)


def test_a_form_asking_for_something_the_web_cannot_show_says_which_field():
    with pytest.raises(UnsupportedField, match="'tags'"):
        describe_form({"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}}, {}, {})
    with pytest.raises(UnsupportedField, match="'score'"):
        parse_submission({"type": "object", "properties": {"score": {"type": "number"}}}, {})

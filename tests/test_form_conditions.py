"""Form conditions, as any process model can use them (engine/runtime/forms.py): a read-only
value from the task data, a section declared in an if/then branch that is rendered, read,
required and kept only while its condition holds. No QA code involved."""
from werkzeug.datastructures import MultiDict

from engine.runtime.forms import all_properties, applicable_answers, field_schema, validate_answers
from webapp.form_rendering import as_posted_form, describe_form, parse_submission, walk

SCHEMA = {
    "type": "object",
    "required": ["colour"],
    "properties": {
        "vehicle": {"type": "string", "title": "Vehicle", "readOnly": True,
                    "enum": ["bike", "van"], "enumNames": ["Bicycle", "Delivery van"]},
        "colour": {"type": "string", "title": "Colour", "minLength": 1},
    },
    "allOf": [{
        "if": {"properties": {"vehicle": {"const": "van"}}, "required": ["vehicle"]},
        "then": {"properties": {"load": {"type": "object", "title": "The load", "required": ["secured"],
                                         "properties": {"secured": {"type": "string", "title": "Is the load secured?",
                                                                    "enum": ["yes", "no"]}}}},
                 "required": ["load"]},
    }],
}
VAN, BIKE = {"vehicle": "van", "other": 1}, {"vehicle": "bike"}


def test_a_branch_is_required_only_while_its_condition_holds_on_the_task_data():
    answers = {"colour": "red"}
    assert validate_answers(SCHEMA, answers, BIKE) == {}
    assert validate_answers(SCHEMA, answers, VAN) == {"load": "Enter the load"}
    assert validate_answers(SCHEMA, {**answers, "load": {}}, VAN) == {"load.secured": "Select an answer for: Is the load secured?"}
    assert validate_answers(SCHEMA, {**answers, "load": {"secured": "yes"}}, VAN) == {}
    # A person cannot change the read-only value to escape the condition: the task data wins.
    assert validate_answers(SCHEMA, {**answers, "vehicle": "bike"}, VAN) == {"load": "Enter the load"}
    assert field_schema(SCHEMA, ["load", "secured"])["title"] == "Is the load secured?"
    assert set(all_properties(SCHEMA)) == {"vehicle", "colour", "load"}


def test_answers_to_a_branch_that_does_not_apply_and_to_read_only_values_are_left_out():
    sent = {"colour": "red", "vehicle": "van", "load": {"secured": "no"}}
    assert applicable_answers(SCHEMA, sent, BIKE) == {"colour": "red"}
    assert applicable_answers(SCHEMA, sent, VAN) == {"colour": "red", "load": {"secured": "no"}}


def test_the_web_form_renders_and_reads_only_what_applies():
    on_a_bike = describe_form(SCHEMA, {}, {}, context=BIKE)
    names = [field.name for field in walk(on_a_bike.fields)]
    assert names == ["vehicle", "colour"]
    assert on_a_bike.fields[0].kind == "read_only" and on_a_bike.fields[0].value == "Bicycle"
    in_a_van = describe_form(SCHEMA, {}, {}, context=VAN)
    fields = {field.name: field for field in walk(in_a_van.fields)}
    assert list(fields) == ["vehicle", "colour", "load", "load.secured"]
    assert fields["vehicle"].value == "Delivery van" and not fields["load.secured"].optional
    posted = MultiDict({"colour": "red", "vehicle": "bike", "load.secured": "yes"})
    assert parse_submission(SCHEMA, posted, BIKE) == {"colour": "red"}
    assert parse_submission(SCHEMA, posted, VAN) == {"colour": "red", "load": {"secured": "yes"}}
    assert "vehicle" not in as_posted_form(SCHEMA, {"vehicle": "van", "colour": "red"})


def test_a_branch_that_only_refines_a_declared_property_does_not_replace_it():
    schema = {"type": "object", "properties": {"done": {"type": "boolean", "title": "Done"},
                                               "why": {"type": "string", "title": "Why not"}},
              "if": {"properties": {"done": {"const": False}}, "required": ["done"]},
              "then": {"properties": {"why": {"minLength": 1}}, "required": ["why"]}}
    assert all_properties(schema)["why"] == {"type": "string", "title": "Why not"}
    assert validate_answers(schema, {"done": False}) == {"why": "Enter why not"}
    assert [f.name for f in describe_form(schema, {}, {"done": True}).fields] == ["done", "why"]

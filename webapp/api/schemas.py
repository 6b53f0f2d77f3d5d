"""Marshmallow schemas for the API: what requests must hold and what responses say.

They are the single statement of the API's shapes: flask-smorest validates requests
and serializes responses with them, and builds the OpenAPI document from them, so the
documentation cannot drift from the behaviour. Dates and times go out as ISO 8601;
times always carry their UTC offset.
"""
import json

from marshmallow import Schema, fields, post_load
from marshmallow.validate import Length, OneOf, Range

from engine.database import as_utc
from engine.qa.allocation import AllocationRequest
from engine.qa.models import AREAS, AUDIT_STATUSES
from engine.whole_numbers import MAX_INTEGER
from engine.runtime.inbox import DIRECTIONS, DUE_FILTERS, SORTS, TABS, InboxFilters

MODERATION_OUTCOMES = ("agreed", "disagreed")
TASK_STATES = ("ready", "completed", "cancelled")


def database_id(**kwargs) -> fields.Integer:
    """An id sent by a client: a whole number within the INTEGER columns' range, else a field error."""
    return fields.Integer(strict=True, validate=Range(min=1, max=MAX_INTEGER, error="Must be an id from {min} to {max}."),
                          **kwargs)


class UtcDateTime(fields.DateTime):
    """A moment as ISO 8601 with its offset, even when SQLite handed it back naive.

    Every time the product stores is UTC, so a naive value is UTC; saying so keeps
    readers in another zone from guessing, and keeps event times byte-identical to
    what the hash chain sealed (see engine.runtime.events.event_hash)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(as_utc(value), attr, obj, **kwargs)


# ----------------------------------------------------------------------- errors

class ErrorSchema(Schema):
    """Every error response: a sentence for a person, and per-field problems when there are any."""
    code = fields.Integer(metadata={"description": "HTTP status code"})
    status = fields.String(metadata={"description": "HTTP status name"})
    message = fields.String(required=True, metadata={"description": "What went wrong, in words fit to show a user"})
    errors = fields.Dict(keys=fields.String(), values=fields.String(),
                         metadata={"description": "Field path (dotted) to the problem with that field"})


# ----------------------------------------------------------------------- tokens

class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=Length(min=1, max=80))
    password = fields.String(required=True, load_only=True, validate=Length(min=1, max=200))
    code = fields.String(load_only=True, validate=Length(min=1, max=40), metadata={
        "description": "The current code from the person's authenticator app (or a recovery code): "
                       "required when they use two-factor sign-in"})


class TokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "Send as `Authorization: Bearer <token>`"})
    expires_at = UtcDateTime(required=True)


# ------------------------------------------------------------------------ tasks

class TaskSummarySchema(Schema):
    """One human task as an inbox lists it (read from the projection, never the workflow)."""
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    spec_name = fields.String(required=True, metadata={"description": "The BPMN id of the user task"})
    subject = fields.String(required=True, metadata={"description": "The case reference"})
    business_key = fields.String(required=True, metadata={"description": "The audit reference"})
    due_on = fields.Date(allow_none=True)
    overdue = fields.Boolean(required=True)
    assignee_id = fields.Integer(allow_none=True)
    role = fields.String(required=True)
    state = fields.String(required=True, validate=OneOf(TASK_STATES))
    instance_id = fields.Integer(required=True)
    team_id = fields.Integer(allow_none=True, metadata={"description": "The team the work is about, if any"})
    completed_at = UtcDateTime(allow_none=True)


class TaskListQuerySchema(Schema):
    """The inbox's filters, as the web inbox takes them; a bad value is a field error (422)."""
    q = fields.String(load_default="", validate=Length(max=80),
                      metadata={"description": "All or part of a case reference or audit reference"})
    process = fields.String(load_default="", validate=Length(max=80), metadata={"description": "Process key"})
    task = fields.String(load_default="", validate=Length(max=120),
                         metadata={"description": "The BPMN id of the user task (`spec_name`)"})
    team = fields.Integer(load_default=None, validate=Range(min=1), metadata={"description": "Team id"})
    due = fields.String(load_default="", validate=OneOf(list(DUE_FILTERS)),
                        metadata={"description": "overdue, week (due in the next 7 days) or none (no due date)"})
    sort = fields.String(load_default="", validate=OneOf(list(SORTS)),
                         metadata={"description": "Default: soonest due first (open tasks), latest completed first"})
    direction = fields.String(load_default="asc", validate=OneOf(DIRECTIONS))
    tab = fields.String(load_default="assigned", validate=OneOf(TABS),
                        metadata={"description": "The list `page` applies to; the others give their first page"})
    page = fields.Integer(load_default=1, validate=Range(min=1))
    per_page = fields.Integer(load_default=50, validate=Range(min=1, max=200))

    @post_load
    def make_filters(self, values: dict, **kwargs) -> tuple[InboxFilters, int]:
        """The engine's own filters, and how many tasks each list holds."""
        per_page = values.pop("per_page")
        return InboxFilters(**values), per_page


class TaskCountsSchema(Schema):
    assigned = fields.Integer(required=True)
    claimable = fields.Integer(required=True)
    completed = fields.Integer(required=True)


class TaskListSchema(Schema):
    assigned = fields.List(fields.Nested(TaskSummarySchema), required=True,
                           metadata={"description": "Open tasks that are the caller's, soonest due first"})
    claimable = fields.List(fields.Nested(TaskSummarySchema), required=True,
                            metadata={"description": "Open tasks offered to a role the caller holds"})
    completed = fields.List(fields.Nested(TaskSummarySchema), required=True,
                            metadata={"description": "Tasks the caller completed, latest first"})
    counts = fields.Nested(TaskCountsSchema, required=True,
                           metadata={"description": "How many tasks match the filters in each list, over all pages"})
    tab = fields.String(required=True, validate=OneOf(TABS))
    page = fields.Integer(required=True, metadata={"description": "The page of the `tab` list returned"})
    pages = fields.Integer(required=True, metadata={"description": "How many pages the `tab` list has"})
    covering = fields.List(fields.Nested(TaskSummarySchema), required=True,
                           metadata={"description": "Open tasks of absent colleagues the caller covers today "
                                                    "(completed on their behalf)"})


class TaskDetailSchema(TaskSummarySchema):
    form_schema = fields.Dict(allow_none=True, metadata={"description": "JSON Schema of the task's form"})
    ui_schema = fields.Dict(allow_none=True, metadata={"description": "UI schema of the task's form"})
    data = fields.Dict(required=True, metadata={"description": "The caller's saved draft answers, or {}"})
    context = fields.Dict(required=True, metadata={"description": "The task data the step sees (JSON values only)"})


class TaskAnswersSchema(Schema):
    data = fields.Dict(required=True, keys=fields.String(),
                       metadata={"description": "Answers to the task's form, checked against its JSON Schema"})


# ----------------------------------------------------------------------- audits

class AllocationSchema(Schema):
    """The request to allocate a case for audit; loads into the engine's AllocationRequest."""
    case_reference = fields.String(required=True, validate=Length(min=1, max=40))
    auditor_id = database_id(required=True)
    moderator_id = database_id(required=True)
    audit_type = fields.String(load_default="random", validate=Length(min=1, max=30))
    due_on = fields.Date(load_default=None, allow_none=True,
                         metadata={"description": "Default: 15 working days from today"})
    moderation_due_on = fields.Date(load_default=None, allow_none=True,
                                    metadata={"description": "Default: 10 working days after the audit is due"})

    @post_load
    def make_request(self, values: dict, **kwargs) -> AllocationRequest:
        """Hand the engine its own request type, so views pass it straight through."""
        return AllocationRequest(**values)


def _grade(description: str = "A grade of the audit's own grading scale (its key; `grade_labels` names it)"):
    """A grade as the audit's version graded it: scales are model data, so the keys are not fixed here."""
    return fields.String(allow_none=True, metadata={"description": description})


class PersonSchema(Schema):
    id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)


class AuditPeopleSchema(Schema):
    auditor = fields.Nested(PersonSchema)
    moderator = fields.Nested(PersonSchema)
    worker = fields.Nested(PersonSchema)
    team_manager = fields.Nested(PersonSchema)
    head_of_service = fields.Nested(PersonSchema)


class AuditDatesSchema(Schema):
    allocated = UtcDateTime()
    due = fields.Date()
    moderation_due = fields.Date()
    started = UtcDateTime(allow_none=True)
    graded = UtcDateTime(allow_none=True)
    moderated = UtcDateTime(allow_none=True)
    closed = UtcDateTime(allow_none=True)


class AreaGradeSchema(Schema):
    area = fields.String(validate=OneOf(list(AREAS)))
    label = fields.String()
    auditor_grade = _grade()
    auditor_rationale = fields.String(allow_none=True)
    moderated_grade = _grade("The grade after moderation, on the audit's scale; the auditor's stays alongside")


class FeedbackSchema(Schema):
    source = fields.String()
    status = fields.String()
    method = fields.String(allow_none=True)
    date = fields.Date(allow_none=True)
    rating = fields.Integer(allow_none=True)
    summary = fields.String(allow_none=True)


class ReflectionSchema(Schema):
    went_well = fields.String()
    do_differently = fields.String()
    learning_needs = fields.String()
    agrees_with_grade = fields.Boolean()
    disagreement_reason = fields.String(allow_none=True)
    barriers = fields.String(allow_none=True)
    submitted_at = UtcDateTime()


class EscalationSchema(Schema):
    reason = fields.String()
    head_of_service = fields.String(allow_none=True)
    notified_at = UtcDateTime()
    due_on = fields.Date()
    acknowledged_at = UtcDateTime(allow_none=True)
    immediate_actions = fields.String(allow_none=True)


class ActionSchema(Schema):
    id = fields.Integer()
    ref = fields.String()
    action = fields.String()
    area = fields.String()
    area_label = fields.String()
    owner = fields.String(allow_none=True)
    owner_role = fields.String()
    due_on = fields.Date()
    priority = fields.String()
    status = fields.String(metadata={"description": "not_started, in_progress, completed, not_completed or overdue"})
    completed_on = fields.Date(allow_none=True)
    evidence = fields.String(allow_none=True)
    reviewed_in_supervision_on = fields.Date(allow_none=True)
    supervision_outcome = fields.String(allow_none=True)
    revised_due_on = fields.Date(allow_none=True)
    verified_by = fields.String(allow_none=True)
    verified_at = UtcDateTime(allow_none=True)
    not_completed_reason = fields.String(allow_none=True)


class DiscussionSchema(Schema):
    date = fields.Date()
    summary = fields.String(allow_none=True)
    learning = fields.String(allow_none=True)


class ClosureSchema(Schema):
    outcome = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)


class OpenTaskSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    assignee = fields.String(allow_none=True)
    role = fields.String()
    due_on = fields.Date(allow_none=True)


class HistoryEntrySchema(Schema):
    seq = fields.Integer()
    at = UtcDateTime()
    kind = fields.String()
    actor = fields.String()
    payload = fields.Dict()


class EvidenceSchema(Schema):
    record_type = fields.String(allow_none=True)
    record_type_label = fields.String(allow_none=True)
    record_date = fields.Date(allow_none=True)
    link = fields.String(allow_none=True, metadata={"description": "Into the case management system"})
    comment = fields.String(allow_none=True)


class FindingSchema(Schema):
    key = fields.String()
    label = fields.String(metadata={"description": "The question as the audit's own form version asked it"})
    answer = fields.String(metadata={"description": "yes, partly, no or not_applicable (a number for counts)"})
    answer_label = fields.String()
    moderated_answer = fields.String(allow_none=True)
    moderated_answer_label = fields.String(allow_none=True)
    moderator_comment = fields.String(allow_none=True)
    changed = fields.Boolean()
    evidence = fields.List(fields.Nested(EvidenceSchema))


class FindingAreaSchema(Schema):
    area = fields.String()
    label = fields.String()
    auditor_grade = _grade()
    auditor_rationale = fields.String(allow_none=True)
    moderated_grade = _grade()
    questions = fields.List(fields.Nested(FindingSchema))
    evidence = fields.List(fields.Nested(EvidenceSchema), metadata={"description": "Evidence not tied to one question"})


class ImpactSchema(Schema):
    value = fields.String(metadata={"description": "improved, no_change or worse"})
    label = fields.String()
    reason = fields.String(allow_none=True)


class ProfileItemSchema(Schema):
    key = fields.String(metadata={"description": "age_band, legal_status, placement_moves_12_months, ..."})
    label = fields.String()
    value = fields.Raw(allow_none=True, metadata={"description": "As stored: text, a whole number, true/false, or null"})
    value_label = fields.String(metadata={"description": "As people read it; 'Not recorded' when null"})


class ParticipantSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String(allow_none=True)
    case_role = fields.String(metadata={"description": "reviewing_officer, complex_safeguarding, ..."})
    case_role_label = fields.String()
    added_by = fields.String(allow_none=True)
    added_at = UtcDateTime()
    added_reason = fields.String()
    removed_at = UtcDateTime(allow_none=True, metadata={"description": "Null while they are on the audit"})
    removed_by = fields.String(allow_none=True)
    removed_reason = fields.String(allow_none=True)
    asked = fields.Boolean(metadata={"description": "Whether they have been asked for their evidence"})


class ContributedAreaSchema(Schema):
    area = fields.String()
    label = fields.String()
    evidence = fields.List(fields.Nested(EvidenceSchema))
    comment = fields.String(allow_none=True)


class ContributionSchema(Schema):
    user_id = fields.Integer()
    name = fields.String(allow_none=True)
    role = fields.String(metadata={"description": "Allocated worker, or their role on the case"})
    areas = fields.List(fields.Nested(ContributedAreaSchema))
    difference_for_child = fields.String(allow_none=True)


class AuditRecordSchema(Schema):
    """One audit as engine.qa.audit_record renders it: grades before and after moderation and all that followed."""
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    audit_type = fields.String()
    case_reference = fields.String(required=True)
    cohort = fields.String()
    cohort_label = fields.String()
    profile = fields.List(fields.Nested(ProfileItemSchema),
                          metadata={"description": "The case profile from the register (never a name or date of birth)"})
    judgement_area = fields.String(metadata={"description": "The inspection judgement area its cohort falls under"})
    grading_scale = fields.String(metadata={"description": "The name of the scale the audit's version grades on"})
    grade_labels = fields.Dict(keys=fields.String(), values=fields.String(),
                               metadata={"description": "Each grade of that scale, best first, by key"})
    team = fields.String()
    service = fields.String()
    status = fields.String(required=True, validate=OneOf(list(AUDIT_STATUSES)))
    status_label = fields.String()
    instance_id = fields.Integer(allow_none=True)
    people = fields.Nested(AuditPeopleSchema)
    dates = fields.Nested(AuditDatesSchema)
    overdue = fields.Boolean()
    overall_grade = _grade()
    overall_grade_label = fields.String(allow_none=True)
    overall_rationale = fields.String(allow_none=True)
    strengths = fields.String(allow_none=True)
    areas_for_development = fields.String(allow_none=True)
    safeguarding_concern = fields.Boolean()
    safeguarding_details = fields.String(allow_none=True)
    moderation_outcome = fields.String(allow_none=True, validate=OneOf(MODERATION_OUTCOMES))
    moderated_grade = _grade()
    moderated_grade_label = fields.String(allow_none=True)
    moderation_rationale = fields.String(allow_none=True)
    discussion = fields.Nested(DiscussionSchema, allow_none=True)
    area_grades = fields.List(fields.Nested(AreaGradeSchema))
    findings = fields.List(fields.Nested(FindingAreaSchema),
                           metadata={"description": "What the auditor found: each question's answer and its evidence"})
    participants = fields.List(fields.Nested(ParticipantSchema), metadata={
        "description": "The practitioners on the case added to the audit, including those since removed"})
    contributions = fields.List(fields.Nested(ContributionSchema), metadata={
        "description": "The evidence the worker and the added practitioners gave, per person"})
    impact = fields.Nested(ImpactSchema, allow_none=True, metadata={"description": "What has changed for the child"})
    feedback = fields.List(fields.Nested(FeedbackSchema))
    reflection = fields.Nested(ReflectionSchema, allow_none=True)
    escalations = fields.List(fields.Nested(EscalationSchema))
    actions = fields.List(fields.Nested(ActionSchema))
    closure = fields.Nested(ClosureSchema, allow_none=True)
    open_tasks = fields.List(fields.Nested(OpenTaskSchema))
    history = fields.List(fields.Nested(HistoryEntrySchema),
                          metadata={"description": "What happened to this audit, oldest first (reads are left out)"})


# -------------------------------------------------------------------- the trail

class EventSchema(Schema):
    """One link of the hash chain, with every field its hash covers, so a reader can recompute it."""
    seq = fields.Integer(required=True)
    at = UtcDateTime(required=True, attribute="occurred_at")
    kind = fields.String(required=True)
    actor_id = fields.Integer(allow_none=True)
    instance_id = fields.Integer(allow_none=True)
    subject_type = fields.String(allow_none=True)
    subject_id = fields.String(allow_none=True)
    payload = fields.Function(lambda event: json.loads(event.payload), required=True,
                              metadata={"type": "object"})
    hash = fields.String(required=True, validate=Length(equal=64))
    prev_hash = fields.String(required=True, validate=Length(equal=64))


class EventListSchema(Schema):
    events = fields.List(fields.Nested(EventSchema), required=True,
                         metadata={"description": "Oldest first"})



# -------------------------------------------------------------------- processes

class StartableSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    version = fields.Integer(required=True)
    about = fields.String(allow_none=True, metadata={"description": "case, team, service, or null"})


class StartableListSchema(Schema):
    processes = fields.List(fields.Nested(StartableSchema), required=True)


class AboutOptionSchema(Schema):
    id = fields.Integer(required=True)
    label = fields.String(required=True)


class StartFormSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    schema = fields.Dict(required=True, metadata={"description": "The start form's JSON Schema"})
    ui_schema = fields.Dict(required=True)
    about = fields.String(allow_none=True, metadata={"description": "What the process is about (its label), if anything"})
    about_options = fields.List(fields.Nested(AboutOptionSchema), required=True,
                                metadata={"description": "What the caller may start it about"})


class StartRequestSchema(Schema):
    answers = fields.Dict(load_default=dict, metadata={"description": "Answers to the start form"})
    about_id = fields.Integer(allow_none=True, load_default=None,
                              metadata={"description": "The id of the case, team or service it is about"})


class StartedSchema(Schema):
    instance_id = fields.Integer(required=True)
    reference = fields.String(required=True)
    status = fields.String(required=True)
    first_task_id = fields.Integer(allow_none=True)

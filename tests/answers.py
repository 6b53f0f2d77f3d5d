"""Valid answers for every form of the case file audit, for tests to submit and vary.

The dates a person records about the case (records cited, meeting, feedback, discussion)
lie in the last fortnight before the product clock's today: never in the future, and after
the opening of any demo case (opened at least 30 days before it was seeded), as the service
steps require. Tests move the clock, so the constants follow it (`follow_clock`, called by
tests/conftest.py whenever the clock is set)."""
from datetime import timedelta

from engine.clock import clock
from engine.qa.models import AREAS


def days_ago(days: int) -> str:
    """A date `days` before the product clock's today, as a form submits it."""
    return (clock.today() - timedelta(days=days)).isoformat()


def audit_tool(grade: str = "good", overrides: dict | None = None) -> dict:
    grades = {area: grade for area in AREAS} | (overrides or {})
    def area(key, questions):
        first = next(name for name, answer in questions.items() if answer in ("yes", "partly", "no"))
        return {**questions, "evidence": [{"question": first, "record_type": "case_note", "record_date": days_ago(12),
                                           "link": f"https://cms.example.org/case/{key}",
                                           "comment": f"Case note showing {first.replace('_', ' ')}"}],
                "grade": grades[key], "rationale": f"Evidence supports {grades[key]} for {key}"}
    return {
        "child_voice": area("child_voice", {"seen_in_line_with_plan": "yes", "wishes_and_feelings": "yes",
                                            "views_changed_decisions": "partly", "communication_needs_met": "yes",
                                            "record_readable_by_child": "partly"}),
        "assessment": area("assessment", {"current_and_timely": "yes", "assessment_date": days_ago(14),
                                          "uses_history": "yes", "analysis": "partly", "identity_considered": "yes",
                                          "management_authorisation": "yes"}),
        "planning": area("planning", {"smart_plan": "yes", "flows_from_assessment": "yes", "reviews_on_time": "yes",
                                      "partners_active": "partly", "permanence_planning": "not_applicable"}),
        "chronology": area("chronology", {"on_file": "yes", "last_entry_date": days_ago(10),
                                          "significant_events": "yes", "used_in_analysis": "partly"}),
        "management_oversight": area("management_oversight", {"supervision_frequency": "yes",
                                     "last_supervision_date": days_ago(8), "reflective_supervision": "yes",
                                     "decisions_have_rationale": "yes", "drift_challenged": "yes",
                                     "social_workers_in_12_months": 2}),
        "parent_carer_engagement": area("parent_carer_engagement", {"parents_engaged": "yes", "plan_explained": "yes",
                                        "family_network_considered": "partly"}),
        "impact": {"change_for_child": "improved", "reason": "School attendance up from 60% to 92% since the plan began."},
        # The cohorts' own sections: only the one the case's cohort asks for is kept (the others do not apply).
        "children_in_care": cohort_section("placement_stability", {"placement_stability": "yes", "permanence": "partly",
                                                                   "health": "yes", "education": "no"}),
        "care_leavers": cohort_section("pathway_plan", {"pathway_plan": "yes", "personal_adviser": "yes",
                                                        "accommodation": "partly", "education_employment_training": "no"}),
        "child_protection": cohort_section("core_groups", {"core_groups": "yes", "rcpc_timely": "partly"}),
    }


def cohort_section(first: str, questions: dict) -> dict:
    return {**questions, "evidence": [{"question": first, "record_type": "review", "record_date": days_ago(12),
                                       "comment": f"Review minutes showing {first.replace('_', ' ')}"}]}


PREPARE = {"file_read": True, "meeting_date": days_ago(3), "observation_planned": False,
           "preparation_notes": "Check the impact of the CIN plan on school attendance."}

FEEDBACK = {
    "child": {"status": "obtained", "method": "in_person", "consent": True, "feedback_date": days_ago(5),
              "summary": "Knows who their worker is and feels listened to."},
    "family": {"status": "obtained", "method": "phone", "consent": True, "feedback_date": days_ago(5),
               "rating": 4, "summary": "Treated with respect; wanted more notice of meetings."},
    "professionals": {"status": "declined"},
}


def grading(grade: str = "good", actions: int = 2, safeguarding: bool = False) -> dict:
    answers = {"overall_grade": grade,
               "overall_rationale": "The child's circumstances have improved and the plan is driving change.",
               "strengths": "Direct work with the child.", "areas_for_development": "Chronology analysis.",
               "safeguarding_concern": safeguarding, "practitioner_informed": True,
               "actions": [{"action": f"Update the chronology with partner events ({n})", "area": "chronology",
                            "owner": "worker" if n % 2 else "team_manager", "due_on": f"2027-01-{10 + n:02d}",
                            "priority": "high"} for n in range(1, actions + 1)]}
    if safeguarding:
        answers["safeguarding_details"] = "Unexplained bruising reported by school, not yet followed up."
    return answers


REFLECTION = {"went_well": "Direct work tools", "do_differently": "Update the chronology monthly",
              "learning_needs": "Chronology training", "agrees_with_grade": True}

ACKNOWLEDGEMENT = {"acknowledged": True, "immediate_actions": "Strategy discussion today; case reallocated.",
                   "discussed_with_team_manager": True, "review_date": "2026-12-10"}

MODERATION_AGREED = {"moderation_outcome": "agreed", "moderation_rationale": "Grading is consistent with the evidence."}


def moderation_disagreed(grade: str = "requires_improvement") -> dict:
    return {"moderation_outcome": "disagreed", "moderation_rationale": "Planning lacks contingency; not yet good.",
            "moderated_overall_grade": grade, "moderated_area_grades": {"planning": grade},
            "answer_changes": [{"question": "planning.smart_plan", "answer": "partly",
                                "comment": "No contingency if the school placement breaks down."}]}


DISCUSSION = {"discussion_date": days_ago(1), "discussion_summary": "Talked through the planning evidence.",
              "learning_for_audit_practice": "Test plans for contingency before grading good."}


def action_review(status: str = "completed") -> dict:
    """A review in supervision held today (on the product clock): never in the future, never
    before the action was agreed."""
    review = {"supervision_date": clock.today().isoformat(), "status": status, "outcome": "Reviewed with the worker."}
    if status == "completed":
        review["evidence"] = "Chronology updated 04/01/2027"
    else:
        review["revised_due_on"] = "2027-02-01"
        review["not_completed_reason"] = "Waiting for the school's records to complete the chronology."
    return {"action_review": review}


def follow_clock() -> None:
    """Move the dated answers of the constants above to the product clock's today."""
    PREPARE["meeting_date"] = days_ago(3)
    for source in ("child", "family"):
        FEEDBACK[source]["feedback_date"] = days_ago(5)
    DISCUSSION["discussion_date"] = days_ago(1)


CLOSURE = {"closure_outcome": "all_completed", "notes": "Verified on the file."}

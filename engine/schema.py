"""Every table the product owns, in one import: for migrations, tests and tools.

A module that defines tables is listed here, so Alembic's autogenerate and the
schema-drift tests see the whole schema.
"""
import engine.accounts  # noqa: F401
import engine.sessions  # noqa: F401
import engine.sign_in  # noqa: F401
import engine.notification_models  # noqa: F401
import engine.two_factor  # noqa: F401
import engine.qa.models  # noqa: F401
import engine.qa.finding_models  # noqa: F401
import engine.qa.contribution_models  # noqa: F401
import engine.qa.cycle_models  # noqa: F401
import engine.qa.retention_models  # noqa: F401
import engine.qa.feedback_request_models  # noqa: F401
import engine.qa.staff_survey_models  # noqa: F401
import engine.qa.complaints_models  # noqa: F401
import engine.qa.participation_models  # noqa: F401
import engine.qa.narrative_models  # noqa: F401
import engine.qa.learning_models  # noqa: F401
import engine.qa.thematic_models  # noqa: F401
import engine.runtime.models  # noqa: F401
import engine.runtime.admin_models  # noqa: F401
import engine.runtime.model_draft_models  # noqa: F401
import engine.organisation.models  # noqa: F401
from engine.database import Base

metadata = Base.metadata

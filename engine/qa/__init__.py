"""The QA domain: organisation, case register, audits, trackers.

Importing this package registers the domain's service operations with the runtime.
"""
from engine.qa import operations  # noqa: F401  (registers @service_operation functions)
from engine.qa import cycle_operations  # noqa: F401  (the allocation cycle's operations; its tables)
from engine.qa import reminder_operations  # noqa: F401  (timers' reminders and escalations; timescale helpers)
from engine.qa import instance_monitoring  # noqa: F401  (tells monitoring what instances are about)
from engine.qa import start_subjects  # noqa: F401  (what a process started by hand may be about)
from engine.qa import thematic  # noqa: F401  (the thematic audit's operations)
from engine.qa import activity_reminders  # noqa: F401  (reminders and escalations for the other activities)
from engine.qa import dip_sample  # noqa: F401  (the dip sample's operations)
from engine.qa import practice_week  # noqa: F401  (the practice week's operations)
from engine.qa import annual_report  # noqa: F401  (the annual QA report's operations)
from engine.qa import multi_agency  # noqa: F401  (the multi-agency audit's operations)
from engine.qa import contributions  # noqa: F401  (the collaborative audit's operations; action owner choices)

"""The QA domain: organisation, case register, audits, trackers.

Importing this package registers the domain's service operations with the runtime.
"""
from engine.qa import operations  # noqa: F401  (registers @service_operation functions)
from engine.qa import cycle_models  # noqa: F401  (audits.cycle_id refers to its table)
from engine.qa import reminder_operations  # noqa: F401  (timers' reminders and escalations; timescale helpers)

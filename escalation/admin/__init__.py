"""Escalation's tenant admin, one module per area it registers.

Django's autodiscovery imports this package; importing the modules registers
their ModelAdmins: policies (levels and their targets, business hours,
running chains), people (profiles, contact methods, notification rules),
teams, schedules (layers, overrides, temporary schedules, the timeline), and the
actions taken from chat and links (read from the audit trail).
"""

from escalation.admin import actions, people, policies, schedule_overrides, schedules, teams

__all__ = ["actions", "people", "policies", "schedule_overrides", "schedules", "teams"]

"""Escalation's models: policies and chains, people and teams, schedules, pages."""

from escalation.models.actions import ActionTaken
from escalation.models.paging import EscalationTarget, Page, PageState, TargetKind
from escalation.models.people import (
    ContactMethod,
    NotificationRule,
    Person,
    Team,
    TeamMember,
    TeamRole,
)
from escalation.models.policies import (
    BusinessHoursMode,
    BusinessHoursWindow,
    Escalation,
    EscalationEvent,
    EscalationLevel,
    EscalationPolicy,
    EscalationState,
    EventKind,
    StepKind,
)
from escalation.models.schedules import (
    LayerMember,
    LayerRestriction,
    OverrideKind,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    ShiftUnit,
    TemporarySchedule,
    TemporaryShift,
)

__all__ = [
    "ActionTaken",
    "BusinessHoursMode",
    "BusinessHoursWindow",
    "ContactMethod",
    "Escalation",
    "EscalationEvent",
    "EscalationLevel",
    "EscalationPolicy",
    "EscalationState",
    "EscalationTarget",
    "EventKind",
    "LayerMember",
    "LayerRestriction",
    "NotificationRule",
    "OverrideKind",
    "Page",
    "PageState",
    "Person",
    "Schedule",
    "ScheduleLayer",
    "ScheduleOverride",
    "ShiftUnit",
    "StepKind",
    "TargetKind",
    "Team",
    "TeamMember",
    "TeamRole",
    "TemporarySchedule",
    "TemporaryShift",
]

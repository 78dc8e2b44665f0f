"""Overrides ("an override in two clicks") and temporary schedules in the admin.

The timeline's "take this shift" link opens the override form prefilled
(you, the shift's start and end); one submit creates it through
schedule_override_create, which checks and audits it and bumps the
schedule's version. Editors and admins override for anyone; any other
member only for themselves.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from alerting.audit.admin import AuditedAdminMixin
from escalation.admin.inlines import RoleInlineMixin, admin_actor
from escalation.admin.schedules import ScheduleChildAdminMixin
from escalation.models import (
    OverrideKind,
    Person,
    Schedule,
    ScheduleOverride,
    TemporarySchedule,
    TemporaryShift,
)
from escalation.people.access import may_edit_everyone
from escalation.people.selectors import person_of_user
from escalation.schedules.services import (
    schedule_override_create,
    schedule_override_delete,
)
from escalation.schedules.zones import zone_known
from tenants.roles import RolePermissionsMixin, request_role

_QUERY_VALUE_MAX = 64  # an ISO datetime is 32 characters


class OverrideForm(forms.Form):
    kind = forms.ChoiceField(choices=OverrideKind.choices, initial=OverrideKind.REPLACE)
    person = forms.ModelChoiceField(queryset=Person.objects.none())
    replaces = forms.ModelChoiceField(
        queryset=Person.objects.all(), required=False,
        help_text="Replace: whom the person stands in for; empty: whoever is on call.",
    )
    start = forms.DateTimeField()
    end = forms.DateTimeField()
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people


def _query_datetime(request: HttpRequest, name: str):
    value = request.GET.get(name, "")[:_QUERY_VALUE_MAX]
    try:
        return parse_datetime(value) if value else None
    except ValueError:
        return None


def override_view(model_admin):
    """The override form of one schedule: GET prefilled from the query, POST creates it."""

    def view(request: HttpRequest, schedule_id: int):
        schedule = get_object_or_404(Schedule, pk=schedule_id)
        if request_role(request) is None:
            raise PermissionDenied
        everyone = may_edit_everyone(request)
        own = person_of_user(user_id=request.user.pk)
        if not everyone and own is None:
            messages.warning(request, "You have no profile in this tenant yet: an editor or "
                             "admin makes it, then you can take shifts.")
            return HttpResponseRedirect(
                reverse("admin:escalation_schedule_change", args=[schedule.pk]))
        people = Person.objects.all() if everyone else Person.objects.filter(pk=own.pk)
        zone = ZoneInfo(schedule.time_zone) if zone_known(schedule.time_zone) else ZoneInfo("UTC")
        with timezone.override(zone):  # the form reads and shows the schedule's wall clock
            if request.method == "POST":
                form = OverrideForm(request.POST, people=people)
                if form.is_valid() and _create(request, form, schedule):
                    return HttpResponseRedirect(
                        reverse("admin:escalation_schedule_change", args=[schedule.pk]))
            else:
                kind = request.GET.get("kind", OverrideKind.REPLACE)
                form = OverrideForm(people=people, initial={
                    "kind": kind if kind in OverrideKind.values else OverrideKind.REPLACE,
                    "person": own, "start": _query_datetime(request, "start"),
                    "end": _query_datetime(request, "end"),
                })
            context = {
                **model_admin.admin_site.each_context(request),
                "title": f"Override in {schedule.name}",
                "schedule": schedule, "form": form, "zone_name": zone.key,
                "opts": model_admin.opts,
            }
            response = TemplateResponse(
                request, "admin/escalation/schedule/override_form.html", context)
            response.render()
        return response

    return view


def _create(request: HttpRequest, form: OverrideForm, schedule: Schedule) -> bool:
    data = form.cleaned_data
    try:
        override = schedule_override_create(
            schedule=schedule, kind=data["kind"], person=data["person"],
            replaces=data["replaces"] if data["kind"] == OverrideKind.REPLACE else None,
            start=data["start"], end=data["end"], note=data["note"], by=admin_actor(request),
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    messages.success(request, (
        f"Override saved: {override.person} ({override.get_kind_display()}) from "
        f"{timezone.localtime(override.start):%a %Y-%m-%d %H:%M} to "
        f"{timezone.localtime(override.end):%a %Y-%m-%d %H:%M} ({schedule.time_zone})."
    ))
    return True


@admin.register(ScheduleOverride)
class ScheduleOverrideAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Every override: added from a schedule's timeline (or its form), deleted here."""

    list_display = ["schedule", "kind", "person", "replaces", "start", "end", "created_by"]
    list_filter = ["schedule", "kind"]
    readonly_fields = ["schedule", "kind", "person", "replaces", "start", "end", "note",
                       "created_by", "created_at"]

    def has_add_permission(self, request, *args):
        return False  # from the schedule's page, through schedule_override_create

    def has_change_permission(self, request, obj=None):
        return False  # delete it and make a new one: both are audited

    def has_delete_permission(self, request, obj=None):
        if may_edit_everyone(request):
            return True
        own = person_of_user(user_id=request.user.pk) if request_role(request) else None
        return obj is not None and own is not None and obj.person_id == own.pk

    def delete_model(self, request, obj):
        schedule_override_delete(override=obj, by=admin_actor(request))

    def delete_queryset(self, request, queryset):
        for override in queryset:
            schedule_override_delete(override=override, by=admin_actor(request))


class TemporaryShiftInline(RoleInlineMixin, admin.TabularInline):
    model = TemporaryShift
    extra = 1
    max_num = 500
    fields = ["person", "start", "end"]


@admin.register(TemporarySchedule)
class TemporaryScheduleAdmin(
    ScheduleChildAdminMixin, RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin
):
    """A window where its own shifts replace the whole schedule (a holiday plan)."""

    list_display = ["schedule", "start", "end", "note"]
    list_filter = ["schedule"]
    fields = ["schedule", "start", "end", "note"]
    inlines = [TemporaryShiftInline]

    def audit_extra(self, obj: TemporarySchedule) -> dict:
        return {"shifts": [[s.person_id, s.start, s.end]
                           for s in TemporaryShift.objects.filter(temporary_id=obj.pk)]}

"""Schedules: layers (with their members and restrictions), the two-week timeline.

Every save here that touches a schedule calls
escalation.schedules.services.schedule_changed, so its version moves and a
page records which version chose its person. After a save the whole-schedule
check runs and its findings are shown as warnings (a layer being built has
nobody in it yet: that is worth saying, not refusing).
"""

from __future__ import annotations

from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from alerting.admin_inlines import HistoryInline
from alerting.audit.admin import AuditedAdminMixin
from escalation.admin.inlines import RoleInlineMixin
from escalation.admin.timeline import schedule_timeline
from escalation.calendars import calendar_url, calendar_url_renew
from escalation.models import (
    LayerMember,
    LayerRestriction,
    Person,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
)
from escalation.schedules.services import schedule_changed, schedule_full_clean
from escalation.schedules.snapshot import schedule_snapshot
from escalation.schedules.zones import zone_known
from tenants.models import Role
from tenants.roles import RolePermissionsMixin, role_at_least
from tenants.sites import client_ip

MAX_SHIFT_LENGTH = 10_000  # hours, days or weeks: more than a year of any unit


def schedule_problems_warn(request: HttpRequest, *, schedule_id: int) -> None:
    """The whole-schedule check's findings, as warnings on the next page."""
    try:
        schedule_full_clean(schedule_id=schedule_id)
    except ValidationError as exc:
        for message in exc.messages[:10]:
            messages.warning(request, f"This schedule needs attention: {message}")


class ScheduleChildAdminMixin:
    """For a row that belongs to one schedule: its saves and deletes give the schedule
    a new version, and a save shows the whole schedule's findings."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        schedule_changed(schedule_id=form.instance.schedule_id)
        schedule_problems_warn(request, schedule_id=form.instance.schedule_id)

    def delete_model(self, request, obj):
        schedule_id = obj.schedule_id
        super().delete_model(request, obj)
        schedule_changed(schedule_id=schedule_id)


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = Schedule
        fields = ["name", "time_zone", "team"]

    def clean_time_zone(self) -> str:
        value = (self.cleaned_data.get("time_zone") or "").strip()
        if not zone_known(value):
            raise ValidationError(f"Unknown time zone {value!r}: give an IANA name, "
                                  "e.g. Europe/Berlin.")
        return value


class LayerInlineForm(forms.ModelForm):
    class Meta:
        model = ScheduleLayer
        fields = ["name", "priority", "start_date", "handoff_time", "shift_length",
                  "shift_unit", "start_position"]

    def clean_shift_length(self) -> int:
        value = self.cleaned_data["shift_length"]
        if not 1 <= value <= MAX_SHIFT_LENGTH:
            raise ValidationError(f"A shift lasts from 1 to {MAX_SHIFT_LENGTH} units; "
                                  "a shift of zero length would never hand off.")
        return value


class LayerForm(LayerInlineForm):
    class Meta(LayerInlineForm.Meta):
        fields = ["schedule", *LayerInlineForm.Meta.fields]


class ScheduleLayerInline(RoleInlineMixin, admin.TabularInline):
    model = ScheduleLayer
    form = LayerInlineForm
    extra = 0
    max_num = 50
    fields = ["name", "priority", "start_date", "handoff_time", "shift_length", "shift_unit",
              "start_position", "members_link"]
    readonly_fields = ["members_link"]

    @admin.display(description=gettext_lazy("Members and restrictions"))
    def members_link(self, obj: ScheduleLayer) -> str:
        if not obj.pk:
            return "Save first, then add its people."
        names = ", ".join(m.person.display_name for m in obj.members.all()) or "nobody yet"
        url = reverse("admin:escalation_schedulelayer_change", args=[obj.pk])
        return format_html('{} · <a href="{}">edit people and restrictions</a>', names, url)


class UpcomingOverrideInline(HistoryInline):
    """Overrides that have not ended; they are added from the timeline or the + link."""

    model = ScheduleOverride
    fields = ["kind", "person", "replaces", "start", "end", "note", "created_by"]
    readonly_fields = fields
    verbose_name_plural = "overrides that have not ended"
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).filter(end__gt=timezone.now())


@admin.register(Schedule)
class ScheduleAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    form = ScheduleForm
    list_display = ["name", "time_zone", "team", "version", "layer_names"]
    search_fields = ["name"]
    inlines = [ScheduleLayerInline, UpcomingOverrideInline]
    audit_secret_fields = ("calendar_token",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("team").prefetch_related("layers")

    def get_fields(self, request, obj=None):
        fields = ["name", "time_zone", "team"]
        if obj is not None:
            fields.append("version")
            if role_at_least(request, Role.EDITOR):  # the URL is a secret
                fields.append("calendar")
        return fields

    def get_readonly_fields(self, request, obj=None):
        return ["version", "calendar"]

    @admin.display(description=gettext_lazy("Layers"))
    def layer_names(self, obj: Schedule) -> str:
        return ", ".join(layer.name for layer in obj.layers.all()) or "—"

    @admin.display(description=gettext_lazy("On-call calendar (iCal)"))
    def calendar(self, obj: Schedule) -> str:
        url = reverse("admin:escalation_schedule_calendar_renew", args=[obj.pk])
        return format_html(
            '<code class="calendar-url">{}</code><br>'
            '<button type="submit" class="button" formmethod="post" formaction="{}" '
            'formnovalidate>New URL (the old one stops working)</button>',
            calendar_url(schedule=obj), url,
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        schedule_changed(schedule_id=form.instance.pk)
        schedule_problems_warn(request, schedule_id=form.instance.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        schedule = Schedule.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if schedule is None or request.method != "GET":
            return super().change_view(request, object_id, form_url, extra_context)
        if not zone_known(schedule.time_zone):
            # Written around the form's check (by hand in the database): fix it here first.
            messages.error(request, f"Unknown time zone {schedule.time_zone!r}: set a known "
                           "one to see the timeline.")
            return super().change_view(request, object_id, form_url, extra_context)
        # Times on this page are the schedule's wall clock.
        with timezone.override(ZoneInfo(schedule.time_zone)):
            context = {**(extra_context or {}), **self._timeline_context(request, schedule)}
            response = super().change_view(request, object_id, form_url, context)
            if hasattr(response, "render"):
                response.render()
        return response

    def _timeline_context(self, request, schedule: Schedule) -> dict:
        spec = schedule_snapshot(schedule_id=schedule.pk, since=timezone.now())
        person_ids = {p for layer in spec.layers for p in layer.members}
        person_ids |= {o.person for o in spec.overrides}
        person_ids |= {s.person for t in spec.temporaries for s in t.shifts}
        names = dict(Person.objects.filter(pk__in=person_ids)
                     .values_list("pk", "display_name"))
        timeline = schedule_timeline(spec, now=timezone.now(), names=names)
        take = reverse("admin:escalation_schedule_override", args=[schedule.pk])
        # The shift under way is taken from now on, not from its start in the past.
        now = timezone.now().replace(second=0, microsecond=0)
        final = [
            {"bar": bar, "take_url": take + "?" + urlencode({
                "start": max(bar.start, now).isoformat(), "end": bar.end.isoformat(),
                "kind": "add" if bar.gap else "replace",
            })}
            for bar in timeline.final.bars if bar.end > now
        ]
        return {"timeline": timeline, "final_shifts": final, "zone_name": schedule.time_zone}

    def get_urls(self):
        from escalation.admin.schedule_overrides import override_view

        own = [
            path("<int:schedule_id>/override/",
                 self.admin_site.admin_view(override_view(self)),
                 name="escalation_schedule_override"),
            path("<int:schedule_id>/calendar/renew/",
                 self.admin_site.admin_view(require_POST(self.calendar_renew_view)),
                 name="escalation_schedule_calendar_renew"),
        ]
        return own + super().get_urls()

    def calendar_renew_view(self, request: HttpRequest, schedule_id: int):
        schedule = get_object_or_404(Schedule, pk=schedule_id)
        if not self.has_change_permission(request, schedule):
            raise PermissionDenied
        calendar_url_renew(schedule=schedule, by=request.user.get_username(),
                           ip=client_ip(request))
        self.message_user(request, gettext(
            "The calendar has a new URL; the old one no longer works."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:escalation_schedule_change",
                                            args=[schedule.pk]))



class LayerMemberInline(RoleInlineMixin, admin.TabularInline):
    model = LayerMember
    extra = 1
    max_num = 200
    fields = ["position", "person"]
    ordering = ["position", "id"]
    verbose_name = "member (in rotation order)"
    verbose_name_plural = "members (in rotation order)"


class LayerRestrictionInline(RoleInlineMixin, admin.TabularInline):
    model = LayerRestriction
    extra = 0
    max_num = 50
    fields = ["weekday", "start_time", "end_time"]
    verbose_name = "restriction (on call only inside these windows)"
    verbose_name_plural = "restrictions (on call only inside these windows)"


@admin.register(ScheduleLayer)
class ScheduleLayerAdmin(
    ScheduleChildAdminMixin, RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin
):
    """A layer's own page, reached from its schedule: its people in order, its windows."""

    form = LayerForm
    inlines = [LayerMemberInline, LayerRestrictionInline]
    list_display = ["schedule", "name", "priority", "shift_length", "shift_unit"]

    def has_module_permission(self, request):
        return False  # listed on its schedule's page

    def get_readonly_fields(self, request, obj=None):
        return ["schedule"] if obj is not None else []

    def response_post_save_change(self, request, obj):
        return HttpResponseRedirect(reverse("admin:escalation_schedule_change",
                                            args=[obj.schedule_id]))

    def response_post_save_add(self, request, obj):
        return self.response_post_save_change(request, obj)

    def audit_extra(self, obj: ScheduleLayer) -> dict:
        return {
            "members": [[m.position, m.person_id]
                        for m in LayerMember.objects.filter(layer_id=obj.pk)],
            "restrictions": [[r.weekday, str(r.start_time), str(r.end_time)]
                             for r in LayerRestriction.objects.filter(layer_id=obj.pk)],
        }


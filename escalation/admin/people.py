"""People: a member's profile, contact methods (with their confirmation) and notification rules.

Editors and admins make profiles for the tenant's members and edit anyone's;
each member edits their own; auditors read the others' (escalation.people.access).
Writes to contact methods and rules go through escalation.people.services, so
the admin checks what every other caller checks: an address cleaned by its
channel, unverified once it changes.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator
from django.db.models import CharField, OuterRef, Subquery, Value
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from alerting.audit.admin import AuditedAdminMixin
from escalation.admin.inlines import RoleInlineMixin, admin_actor
from escalation.admin.phone_codes import (
    PhoneCodeAdminMixin,
    is_phone,
    phone_code_status,
    shown_time,
)
from escalation.calendars import calendar_url, calendar_url_renew
from escalation.models import ContactMethod, NotificationRule, Person
from escalation.people.access import may_edit_everyone, may_edit_person, people_editable
from escalation.people.selectors import members_without_profile
from escalation.people.services import (
    MAX_CONTACT_METHODS,
    MAX_RULE_DELAY_MINUTES,
    MAX_RULES,
    RuleSpec,
    VerificationSendError,
    contact_address_clean,
    contact_method_create,
    contact_method_update,
    contact_method_verification_send,
    notification_rule_set,
    notification_rules_check,
    person_delete,
    person_membership_check,
    person_profile_clean,
)
from tenants.databases import bound_elsewhere
from tenants.roles import RolePermissionsMixin, request_role
from tenants.sites import client_ip


class ContactMethodForm(forms.ModelForm):
    class Meta:
        model = ContactMethod
        fields = ["kind", "address", "label"]

    def clean(self):
        data = super().clean()
        if data.get("kind") and data.get("address") and not data.get("DELETE"):
            try:
                data["address"] = contact_address_clean(kind=data["kind"], address=data["address"])
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
        return data


class ContactMethodInline(RoleInlineMixin, admin.TabularInline):
    model = ContactMethod
    form = ContactMethodForm
    extra = 1
    max_num = MAX_CONTACT_METHODS
    fields = ["kind", "address", "label", "status"]
    readonly_fields = ["status"]

    def get_formset(self, request, obj=None, **kwargs):
        # The resend button is for whoever may edit this person.
        self._may_send = may_edit_person(request, obj)
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description=gettext_lazy("Verified"))
    def status(self, obj: ContactMethod) -> str:
        if not obj.pk:
            return gettext(
                "New addresses are confirmed by a link (email) or a code (phone) sent to them.")
        if obj.verified_at:
            return format_html('<span class="verified">{}</span>', gettext("Verified %(when)s")
                               % {"when": shown_time(obj.verified_at)})
        if is_phone(obj):
            return phone_code_status(obj, may_send=getattr(self, "_may_send", False))
        sent = (" " + gettext("(mail sent %(when)s)")
                % {"when": shown_time(obj.verification_sent_at)}
                if obj.verification_sent_at else "")
        state = format_html('<span class="unverified">{}{}</span>',
                            gettext("Unverified: not paged"), sent)
        if not getattr(self, "_may_send", False):
            return state
        url = reverse("admin:escalation_person_verification_send", args=[obj.person_id, obj.pk])
        return state + format_html(
            ' <button type="submit" class="button" formmethod="post" formaction="{}" '
            'formnovalidate>{}</button>', url, gettext("Send confirmation mail"),
        )


class RuleFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        rules = [
            RuleSpec(form.cleaned_data["contact_method"], form.cleaned_data["delay_minutes"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("contact_method")
        ]
        try:
            notification_rules_check(person=self.instance, rules=rules)
        except ValidationError as exc:
            raise ValidationError(
                [message for errors in exc.message_dict.values() for message in errors]
            ) from None
        self.rules = rules


class NotificationRuleInline(RoleInlineMixin, admin.TabularInline):
    """'When paged: email at once, SMS after 5 minutes if not acknowledged.'"""

    model = NotificationRule
    formset = RuleFormSet
    extra = 1
    max_num = MAX_RULES
    fields = ["contact_method", "delay_minutes"]
    verbose_name = "notification rule (when paged)"
    verbose_name_plural = "notification rules (when paged)"

    def get_formset(self, request, obj=None, **kwargs):
        self._person = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "contact_method":
            person = getattr(self, "_person", None)
            kwargs["queryset"] = (ContactMethod.objects.filter(person=person) if person
                                  else ContactMethod.objects.none())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "delay_minutes":
            field.max_value = MAX_RULE_DELAY_MINUTES
            field.validators.append(MaxValueValidator(MAX_RULE_DELAY_MINUTES))
            field.widget.attrs["max"] = MAX_RULE_DELAY_MINUTES
        return field


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ["user", "display_name", "time_zone", "language"]

    def clean(self):
        data = super().clean()
        if "user" in self.fields and data.get("user") is not None:
            try:
                person_membership_check(user=data["user"])
            except ValidationError as exc:
                self.add_error("user", exc.message_dict["user"])
        try:
            data.update(person_profile_clean(
                display_name=data.get("display_name", ""), time_zone=data.get("time_zone", ""),
                language=data.get("language", ""),
            ))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                if field not in self.errors:
                    self.add_error(field, errors)
        return data


@admin.register(Person)
class PersonAdmin(PhoneCodeAdminMixin, RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    form = PersonForm
    list_display = ["display_name", "username", "time_zone", "contact_summary", "team_names"]
    search_fields = ["display_name"]
    inlines = [ContactMethodInline, NotificationRuleInline]
    actions = ["send_verification"]
    audit_secret_fields = ("calendar_token",)

    # --- who may do what -------------------------------------------------
    def has_add_permission(self, request, *args):
        # Editors and admins make profiles (for members of this tenant only); each
        # member then keeps their own. Auditors' admin stays free of add controls.
        return may_edit_everyone(request)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return request_role(request) is not None  # each profile's page decides
        return may_edit_person(request, obj)

    def has_delete_permission(self, request, obj=None):
        return may_edit_everyone(request)

    def has_verify_permission(self, request) -> bool:
        return request_role(request) is not None

    def get_queryset(self, request):
        people = super().get_queryset(request).prefetch_related("contact_methods", "teams")
        if bound_elsewhere():
            # The tenant's schema is on another database than the users: its
            # auth_user is that database's, empty. The usernames are read from
            # the shared database instead (get_changelist_instance, username).
            return people.annotate(username_shared=Value(None, output_field=CharField()))
        # Users live in the shared schema, which the tenant's search path includes.
        usernames = get_user_model().objects.filter(pk=OuterRef("user_id")).values("username")
        return people.annotate(username_shared=Subquery(usernames[:1]))

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if bound_elsewhere():
            page = list(changelist.result_list)
            usernames = dict(get_user_model().objects.filter(
                pk__in=[person.user_id for person in page]).values_list("pk", "username"))
            for person in page:
                person.username_shared = usernames.get(person.user_id)
        return changelist

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = members_without_profile()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        fields = ["user", "display_name", "time_zone", "language"]
        if obj is not None:
            fields[0] = "username"
            if may_edit_person(request, obj):
                fields.append("calendar")
        return fields

    def get_readonly_fields(self, request, obj=None):
        return ["username", "calendar"] if obj is not None else []

    def get_inline_instances(self, request, obj=None):
        # Rules name saved contact methods: they come once the person has some.
        inlines = super().get_inline_instances(request, obj)
        return [inline for inline in inlines
                if obj is not None or not isinstance(inline, NotificationRuleInline)]

    # --- columns ---------------------------------------------------------
    @admin.display(description=gettext_lazy("Username"), ordering="username_shared")
    def username(self, obj: Person) -> str:
        username = getattr(obj, "username_shared", None)
        if username is None and bound_elsewhere():  # a profile's own page
            username = get_user_model().objects.filter(
                pk=obj.user_id).values_list("username", flat=True).first()
        return username or "(user removed)"

    @admin.display(description=gettext_lazy("Contact methods"))
    def contact_summary(self, obj: Person) -> str:
        return ", ".join(
            f"{method.address}{'' if method.verified else ' (unverified)'}"
            for method in obj.contact_methods.all()
        ) or "—"

    @admin.display(description=gettext_lazy("Teams"))
    def team_names(self, obj: Person) -> str:
        return ", ".join(team.name for team in obj.teams.all()) or "—"

    @admin.display(description=gettext_lazy("On-call calendar (iCal)"))
    def calendar(self, obj: Person) -> str:
        url = reverse("admin:escalation_person_calendar_renew", args=[obj.pk])
        return format_html(
            '<code class="calendar-url">{}</code><br>'
            '<button type="submit" class="button" formmethod="post" formaction="{}" '
            'formnovalidate>New URL (the old one stops working)</button>',
            calendar_url(person=obj), url,
        )

    # --- saves through the services ---------------------------------------
    def construct_change_message(self, request, form, formsets, add=False):
        return []  # for Django's LogEntry, which the audit trail replaces (AuditedAdminMixin)

    def save_formset(self, request, form, formset, change):
        if formset.model is ContactMethod:
            self._contact_methods_save(request, formset)
        elif formset.model is NotificationRule:
            # A method deleted in the same save takes its rules with it.
            kept = set(ContactMethod.objects.filter(person=form.instance)
                       .values_list("pk", flat=True))
            notification_rule_set(
                person=form.instance, by=admin_actor(request),
                rules=[rule for rule in formset.rules if rule.contact_method.pk in kept],
            )
        else:
            super().save_formset(request, form, formset, change)

    def _contact_methods_save(self, request, formset) -> None:
        by = admin_actor(request)
        for method in formset.deleted_forms:
            if method.instance.pk:
                method.instance.delete()
        for item in formset.forms:
            if item in formset.deleted_forms or not item.has_changed():
                continue
            data = item.cleaned_data
            if item.instance.pk:
                contact_method_update(contact_method=item.instance, kind=data["kind"],
                                      address=data["address"], label=data.get("label", ""),
                                      by=by)
            else:
                item.instance = contact_method_create(
                    person=formset.instance, kind=data["kind"], address=data["address"],
                    label=data.get("label", ""), by=by,
                )

    def delete_model(self, request, obj):
        person_delete(person=obj, by=admin_actor(request))

    def delete_queryset(self, request, queryset):
        for person in queryset:
            person_delete(person=person, by=admin_actor(request))

    def audit_extra(self, obj: Person) -> dict:
        return {
            "contact_methods": [
                {"kind": m.kind, "address": m.address, "verified": m.verified_at is not None}
                for m in ContactMethod.objects.filter(person_id=obj.pk).order_by("id")
            ],
            "rules": [[r.contact_method_id, r.delay_minutes]
                      for r in NotificationRule.objects.filter(person_id=obj.pk)],
        }

    # --- confirmation mails and the calendar URL --------------------------
    @admin.action(description=gettext_lazy("Send confirmation mails to unverified addresses"),
                  permissions=["verify"])
    def send_verification(self, request, queryset):
        methods = ContactMethod.objects.filter(
            person__in=people_editable(request, queryset), verified_at__isnull=True,
            kind="email",
        ).select_related("person")[:MAX_CONTACT_METHODS * 10]
        if not methods:
            self.message_user(request, gettext(
                "No unverified email address among these people that you may edit."
            ), messages.WARNING)
        for method in methods:
            self._verification_send(request, method)

    def _verification_send(self, request, method: ContactMethod) -> None:
        try:
            contact_method_verification_send(contact_method=method, by=admin_actor(request))
        except ValidationError as exc:
            self.message_user(request, f"{method.address}: " + " ".join(exc.messages),
                              messages.WARNING)
        except VerificationSendError as exc:
            self.message_user(request, f"{method.address}: {exc}", messages.ERROR)
        else:
            self.message_user(request, gettext("A confirmation mail was sent to %(address)s.")
                              % {"address": method.address}, messages.SUCCESS)

    def get_urls(self):
        own = [
            path("<int:person_id>/verification/<int:method_id>/",
                 self.admin_site.admin_view(require_POST(self.verification_view)),
                 name="escalation_person_verification_send"),
            path("<int:person_id>/calendar/renew/",
                 self.admin_site.admin_view(require_POST(self.calendar_renew_view)),
                 name="escalation_person_calendar_renew"),
        ]
        return own + self.phone_code_urls() + super().get_urls()

    def _editable_person(self, request: HttpRequest, person_id: int) -> Person:
        person = get_object_or_404(Person, pk=person_id)
        if not may_edit_person(request, person):
            raise PermissionDenied
        return person

    def verification_view(self, request: HttpRequest, person_id: int, method_id: int):
        person = self._editable_person(request, person_id)
        method = get_object_or_404(ContactMethod, pk=method_id, person=person)
        self._verification_send(request, method)
        return HttpResponseRedirect(reverse("admin:escalation_person_change", args=[person.pk]))

    def calendar_renew_view(self, request: HttpRequest, person_id: int):
        person = self._editable_person(request, person_id)
        calendar_url_renew(person=person, by=request.user.get_username(), ip=client_ip(request))
        self.message_user(request, gettext(
            "The calendar has a new URL; the old one no longer works."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:escalation_person_change", args=[person.pk]))

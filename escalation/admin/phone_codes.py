"""The person page's phone numbers: their verification state, "Send code" and "Enter code".

As the confirmation mail's button: the buttons submit the person's form to
views of their own (formaction, no validation of the rest of the form), which
act through escalation.people.codes and come back to the person's page with
a message. Only whoever may edit the person sees and uses them.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, pgettext
from django.views.decorators.http import require_POST

from escalation.admin.inlines import admin_actor
from escalation.models import ContactMethod
from escalation.people.codes import CODE_DIGITS, CODE_KINDS, MAX_ATTEMPTS
from escalation.people.confirmation import VerificationSendError
from escalation.people.services import contact_method_code_send, contact_method_code_verify


def code_field_name(method: ContactMethod) -> str:
    return f"verification_code_{method.pk}"


def phone_code_status(method: ContactMethod, *, may_send: bool) -> SafeString:
    """The verification state of a phone number, with its buttons for an editor."""
    sent_at = method.verification_sent_at
    when = " " + gettext("(code sent %(when)s)") % {"when": shown_time(sent_at)} if sent_at else ""
    if method.verification_code_hash and method.verification_attempts >= MAX_ATTEMPTS:
        when += "; " + gettext("%(count)d wrong codes, send a new one") % {"count": MAX_ATTEMPTS}
    state = format_html('<span class="unverified">{}{}</span>',
                        gettext("Unverified: not paged"), when)
    if not may_send:
        return state
    send = reverse("admin:escalation_person_code_send", args=[method.person_id, method.pk])
    buttons = format_html(
        ' <button type="submit" class="button" formmethod="post" formaction="{}" '
        'formnovalidate>{}</button>', send, gettext("Send code"),
    )
    if method.verification_code_hash:
        enter = reverse("admin:escalation_person_code_verify",
                        args=[method.person_id, method.pk])
        buttons += format_html(
            ' <input type="text" name="{}" inputmode="numeric" autocomplete="one-time-code" '
            'maxlength="{}" size="8" aria-label="{}" placeholder="{}">'
            ' <button type="submit" class="button" formmethod="post" formaction="{}" '
            'formnovalidate>{}</button>',
            code_field_name(method), CODE_DIGITS + 2,
            gettext("The code sent to %(address)s") % {"address": method.address},
            pgettext("placeholder of the field for a verification code", "code"), enter,
            gettext("Enter code"),
        )
    return state + buttons


def shown_time(value: datetime) -> str:
    """A time as the viewer reads it: their time zone, their language's format."""
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def is_phone(method: ContactMethod) -> bool:
    return method.kind in CODE_KINDS


class PhoneCodeAdminMixin:
    """For PersonAdmin: the two views behind the buttons (it provides `_editable_person`)."""

    def phone_code_urls(self) -> list:
        return [
            path("<int:person_id>/code/<int:method_id>/send/",
                 self.admin_site.admin_view(require_POST(self.code_send_view)),
                 name="escalation_person_code_send"),
            path("<int:person_id>/code/<int:method_id>/verify/",
                 self.admin_site.admin_view(require_POST(self.code_verify_view)),
                 name="escalation_person_code_verify"),
        ]

    def _phone_method(self, request: HttpRequest, person_id: int, method_id: int):
        person = self._editable_person(request, person_id)
        return person, get_object_or_404(ContactMethod, pk=method_id, person=person)

    def _back(self, person) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:escalation_person_change", args=[person.pk]))

    def code_send_view(self, request: HttpRequest, person_id: int, method_id: int):
        person, method = self._phone_method(request, person_id, method_id)
        try:
            contact_method_code_send(contact_method=method, by=admin_actor(request))
        except ValidationError as exc:
            self.message_user(request, f"{method.address}: " + " ".join(exc.messages),
                              messages.WARNING)
        except VerificationSendError as exc:
            self.message_user(request, f"{method.address}: {exc}", messages.ERROR)
        else:
            sent = (gettext("A code was read out by a call to %(address)s: enter it here.")
                    if method.kind == "voice"
                    else gettext("A code was sent by SMS to %(address)s: enter it here."))
            self.message_user(request, sent % {"address": method.address}, messages.SUCCESS)
        return self._back(person)

    def code_verify_view(self, request: HttpRequest, person_id: int, method_id: int):
        person, method = self._phone_method(request, person_id, method_id)
        code = request.POST.get(code_field_name(method), "")[:40]
        try:
            contact_method_code_verify(contact_method=method, code=code, by=admin_actor(request))
        except ValidationError as exc:
            self.message_user(request, f"{method.address}: " + " ".join(exc.messages),
                              messages.ERROR)
        else:
            self.message_user(request, gettext("%(address)s is verified: it will be paged.")
                              % {"address": method.address}, messages.SUCCESS)
        return self._back(person)

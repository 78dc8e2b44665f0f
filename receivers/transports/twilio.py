"""Twilio: SMS through the Messages API, voice calls through the Calls API with inline TwiML.

One receiver carries both of a person's phone contact kinds: an `sms`
contact method is texted, a `voice` one is called (`contact_kind_applied`).
Used as a channel, the receiver texts (or, with `call`, calls) its own `to`.

Every send names a StatusCallback on Herald (HERALD_BASE_URL, which Twilio
must reach): Twilio reports there whether the SMS was delivered or the call
answered (receivers.twilio_hooks), and an undelivered SMS or an unanswered
call moves the person's page to their next rule. A page's call asks for one
key (4 acknowledges, 6 resolves) and a page's SMS ends with reply codes
(receivers/transports/twilio_voice.py).

Twilio's error answers: 21211 (invalid To), 21608 (unverified number on a
trial account), 21610 (the person replied STOP) and every other 4xx fail for
good; 429 and error 20429 (too many requests) and 5xx are retried, after
Retry-After when Twilio gives one. The auth token never reaches an error.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

import requests
from django.conf import settings as django_settings
from pydantic import AfterValidator, Field, SecretStr

from receivers.messages import AlertMessage
from receivers.phone.numbers import phone_number_clean
from receivers.phone.settings import PhoneCarrierSettings
from receivers.phone.speech import call_facts, call_speech
from receivers.transports.base import PartLimit, SendResult, Transport, TransportError
from receivers.transports.errors import parse_retry_after
from receivers.transports.http import response_json_object
from receivers.transports.settings import HttpUrl
from receivers.transports.twilio_voice import (
    SMS_LIMIT,
    call_twiml,
    reply_line,
    sms_text,
    spoken_twiml,
)

API_URL = "https://api.twilio.com"
API_VERSION = "2010-04-01"
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
# Twilio's error codes that name the number or the person, not a passing fault.
PERMANENT_CODES = {
    21211: "the number is not a valid phone number",
    21608: "the number is not verified (a trial account only reaches verified numbers)",
    21610: "the person unsubscribed (replied STOP) from this sender",
    21612: "Twilio cannot route to this number from this sender",
    21614: "the number cannot receive SMS",
}
RETRY_CODES = {20429}


def _e164(value: str) -> str:
    return phone_number_clean(value) if value else value


def _account_sid(value: str) -> str:
    if not _ACCOUNT_SID.match(value):
        raise ValueError("must be a Twilio account SID: AC and 32 hexadecimal digits")
    return value


PhoneNumber = Annotated[str, AfterValidator(_e164)]


class TwilioSettings(PhoneCarrierSettings):
    account_sid: Annotated[str, AfterValidator(_account_sid)] = Field(
        description="The account SID (AC…), from the Twilio console."
    )
    auth_token: SecretStr = Field(description="The account's auth token; signs callbacks too.")
    from_number: PhoneNumber = Field(description="The Twilio number Herald sends from (E.164).")
    to: PhoneNumber = Field(
        "", description="The number a channel message goes to; a page goes to the person's."
    )
    call: bool = Field(False, description="Call `to` instead of texting it (channel messages).")
    api_url: HttpUrl = Field(API_URL, description="Twilio's REST API base URL.")


def twilio_callback_base(*, tenant_slug: str) -> str:
    """Where Twilio calls Herald back for this tenant (HERALD_BASE_URL, reachable by Twilio)."""
    return f"{django_settings.HERALD_BASE_URL.rstrip('/')}/twilio/{tenant_slug}"


def status_callback_url(*, tenant_slug: str, notification_id: int) -> str:
    return f"{twilio_callback_base(tenant_slug=tenant_slug)}/status/{notification_id}/"


def gather_url(*, tenant_slug: str, notification_id: int) -> str:
    return f"{twilio_callback_base(tenant_slug=tenant_slug)}/gather/{notification_id}/"


def inbound_sms_url(*, tenant_slug: str, receiver_id: int) -> str:
    """The number's "A message comes in" webhook, set in Twilio's console: replies act."""
    return f"{twilio_callback_base(tenant_slug=tenant_slug)}/{receiver_id}/sms/"


def _is_page(message: AlertMessage) -> bool:
    return message.contact_method_id is not None


def twilio_message_form(
    *, message: AlertMessage, settings: TwilioSettings, sms: str
) -> dict[str, str]:
    """The Messages API form for this message (pure): From, To, Body, StatusCallback."""
    offers_replies = _is_page(message) and message.status == "firing" and bool(message.actions)
    reply = reply_line(code=message.alert_group_id, language=settings.language) \
        if offers_replies else ""
    return {
        "From": settings.from_number,
        "To": settings.to,
        "Body": sms_text(sms, reply=reply),
        "StatusCallback": status_callback_url(
            tenant_slug=message.tenant_slug, notification_id=message.notification_id
        ),
    }


def twilio_call_form(*, message: AlertMessage, settings: TwilioSettings) -> dict[str, str]:
    """The Calls API form for this message (pure): From, To, Twiml, StatusCallback.

    What the call says is receivers.phone.speech's text of the alert, in the
    receiver's language (text-to-speech needs words, not the SMS's symbols).
    """
    asks = _is_page(message) and message.status == "firing" and bool(message.actions)
    spoken = call_speech(call_facts(message, keys=asks), language=settings.language)
    return {
        "From": settings.from_number,
        "To": settings.to,
        "Twiml": call_twiml(
            spoken=spoken, language=settings.language,
            gather_url=gather_url(tenant_slug=message.tenant_slug,
                                  notification_id=message.notification_id) if asks else "",
        ),
        "StatusCallback": status_callback_url(
            tenant_slug=message.tenant_slug, notification_id=message.notification_id
        ),
        "StatusCallbackMethod": "POST",
    }


class TwilioTransport(Transport):
    kind = "twilio"
    label = "Twilio (SMS and voice)"
    settings_class = TwilioSettings
    # A call's words come from receivers.phone.speech, not a template.
    parts = ("sms",)
    part_limits = {"sms": PartLimit("SMS (two segments)", SMS_LIMIT)}
    contact_kinds = ("sms", "voice")

    @classmethod
    def contact_address_clean(cls, address: str) -> str:
        return phone_number_clean(address)

    @classmethod
    def addressed_to(cls, config: Mapping[str, Any], address: str) -> dict[str, Any]:
        return {**config, "to": address}

    @classmethod
    def page_config(
        cls, config: Mapping[str, Any], *, contact_kind: str, address: str
    ) -> dict[str, Any]:
        """A `voice` contact method is called, an `sms` one texted."""
        addressed = super().page_config(config, contact_kind=contact_kind, address=address)
        return {**addressed, "call": contact_kind == "voice"}

    def send(self, message: AlertMessage) -> SendResult:
        if not self.settings.to:
            raise TransportError("the receiver has no number to send to (to)", permanent=True)
        if self.settings.call:
            return self._create("Calls", twilio_call_form(message=message, settings=self.settings))
        sms = self.render(message)["sms"]
        form = twilio_message_form(message=message, settings=self.settings, sms=sms)
        return self._create("Messages", form)

    def verification_send(self, *, address: str, text: str) -> None:
        """Text the code to the number, or (a voice receiver) say it."""
        to = phone_number_clean(address)
        if self.settings.call:
            form = {"From": self.settings.from_number, "To": to,
                    "Twiml": spoken_twiml(text, language=self.settings.language)}
            self._create("Calls", form)
        else:
            self._create("Messages", {"From": self.settings.from_number, "To": to,
                                      "Body": sms_text(text)})

    def _create(self, resource: str, form: Mapping[str, str]) -> SendResult:
        settings = self.settings
        base = settings.api_url.rstrip("/")
        url = f"{base}/{API_VERSION}/Accounts/{settings.account_sid}/{resource}.json"
        credentials = f"{settings.account_sid}:{settings.secret('auth_token')}".encode()
        response = self.post(
            url,
            data=urlencode(dict(form)).encode(),
            headers={
                "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        sid = str(response_json_object(response).get("sid") or "")
        return SendResult(
            http_status=response.status_code, vendor_ref={"sid": sid} if sid else None
        )

    def raise_for_response(self, response: requests.Response) -> None:
        if 200 <= response.status_code < 300:
            return
        answer = response_json_object(response)
        status = response.status_code
        try:
            code = int(answer.get("code") or 0)
        except (TypeError, ValueError):
            code = 0
        said = self.error_text(str(answer.get("message") or response.reason or ""))
        meaning = PERMANENT_CODES.get(code)
        text = f"Twilio {status}" + (f" (error {code})" if code else "") + f": {said}"
        if meaning:
            text += f" — {meaning}"
        retryable = (status == 429 or code in RETRY_CODES or status >= 500) and not meaning
        raise TransportError(
            text,
            permanent=not retryable,
            http_status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

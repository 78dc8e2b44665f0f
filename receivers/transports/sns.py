"""AWS SNS: an SMS to one phone number (Publish with PhoneNumber), signed by boto3.

Settings: the region; an endpoint URL (a VPC endpoint, or a stand-in in
tests); the access key id and secret access key (encrypted); the sender ID
and SMS type (message attributes AWS.SNS.SMS.SenderID / AWS.SNS.SMS.SMSType);
an origination number (AWS.MM.SMS.OriginationNumber). Without keys the
server's own AWS credentials chain (environment, instance role) is used, but
only for tenants the operator names in HERALD_SNS_SERVER_CREDENTIALS_TENANTS:
otherwise one tenant could send on the server's account.

The outbound guard. boto3 signs the request (SigV4) but never sends it:
a `before-send` handler hands the signed request to Herald's one outbound
path (receivers.transports.http.http_post). So the endpoint, whichever it is
(the region's, the tenant's endpoint URL), is read the way every URL is, its
host resolved once and refused when it is loopback or private (unless the
tenant has allow_private_targets), and the connection made to the address
that was checked: no second lookup, the same proxies, CA bundle and timeouts
as every other channel. botocore opens no socket of its own for a send; its
Config still carries the same timeouts and one attempt only (Herald retries,
with its backoff, from the notification).

Outcomes. SNS answers Publish with a MessageId (kept as vendor_ref
{"message_id": ...}) and reports nothing after: an SMS SNS accepted counts as
sent. Because a number that replied STOP is silently dropped by SNS, the
number is first checked (CheckIfPhoneNumberIsOptedOut; turn off with
check_opt_out) and an opted-out number fails for good, saying so. Errors:
bad parameters, refused credentials and opted-out numbers fail for good;
throttling and SNS's own faults are retried.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any, Literal

import botocore.session
import requests
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError
from django.conf import settings as django_settings
from django.db import connection
from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from receivers.messages import AlertMessage
from receivers.phone.numbers import phone_number_clean
from receivers.phone.segments import MAX_SEGMENTS, PART, sms_fit
from receivers.phone.settings import PhoneCarrierSettings
from receivers.transports.alertmanager import AlertmanagerMapping
from receivers.transports.base import PartLimit, SendResult, Transport, TransportError
from receivers.transports.http import http_post
from receivers.transports.settings import HttpUrl
from receivers.transports.sns_alertmanager import sns_from_alertmanager

# botocore logs every request it prepares at DEBUG, headers included (the
# access key id is in Authorization): never, whatever Herald's log level.
logging.getLogger("botocore").setLevel(logging.INFO)

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}")
_ACCESS_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")

# SNS's error codes (ClientError) that the same request would meet again.
PERMANENT_CODES = frozenset({
    "InvalidParameter", "InvalidParameterValue", "ValidationException", "ValidationError",
    "AuthorizationError", "AccessDenied", "AccessDeniedException", "InvalidClientTokenId",
    "SignatureDoesNotMatch", "UnrecognizedClientException", "IncompleteSignature",
    "MissingAuthenticationToken", "ExpiredToken", "OptedOut", "NotFound",
    "EndpointDisabled", "InvalidSecurity", "KMSAccessDenied", "KMSDisabled",
    "KMSInvalidState", "KMSNotFound", "KMSOptInRequired",
})
THROTTLED_CODES = frozenset({
    "Throttling", "ThrottlingException", "Throttled", "ThrottledException",
    "RequestLimitExceeded", "TooManyRequestsException",
})

_local = threading.local()


def sms_text_fit(text: str) -> str:
    """The text on one line within two SMS segments (receivers.phone.segments.sms_fit).

    A link at its end ("Ack: https://…", the only way to act on an SMS from
    SNS, which takes no replies) is kept whole: the text before it is cut instead.
    """
    flat = " ".join(text.split())
    fitted = sms_fit(flat)
    head, _, link = flat.rpartition(" ")
    if fitted == flat or not link.startswith(("https://", "http://")):
        return fitted
    rest, _, label = head.rpartition(" ")
    if label.endswith(":") and len(label) <= 16:  # "Ack: <link>" stays together
        head, link = rest, f"{label} {link}"
    low, high = 0, len(head)
    while low < high:  # the longest start of the text that leaves the link whole
        middle = (low + high + 1) // 2
        if sms_fit(f"{head[:middle].rstrip()}... {link}").endswith(link):
            low = middle
        else:
            high = middle - 1
    candidate = f"{head[:low].rstrip()}... {link}"
    return candidate if low and sms_fit(candidate) == candidate else fitted


class SnsSettings(PhoneCarrierSettings):
    region: str = Field(description="AWS region that sends the SMS, e.g. eu-west-1.")
    endpoint_url: HttpUrl | None = Field(
        None, description="SNS endpoint; empty for the region's (set for a VPC endpoint)."
    )
    access_key_id: SecretStr | None = Field(
        None, validate_default=True,  # checked when empty too: the server's credentials
        description="Access key id of an IAM user allowed sns:Publish.",
    )
    secret_access_key: SecretStr | None = Field(None, description="Its secret access key.")
    phone_number: str = Field(description="The number this receiver texts, in E.164.")
    sender_id: str = Field(
        "", description="Sender ID shown where supported: 1-11 letters or digits."
    )
    sms_type: Literal["Transactional", "Promotional"] = Field(
        "Transactional", description="Transactional (reliable, for alerts) or Promotional."
    )
    origination_number: str = Field(
        "", description="The number SMS are sent from (E.164), if the account has one."
    )
    check_opt_out: bool = Field(
        True, description="Check that the number has not opted out (SNS drops those silently)."
    )

    @field_validator("region")
    @classmethod
    def _region_shape(cls, value: str) -> str:
        if not _REGION.fullmatch(value):
            raise ValueError("must be an AWS region name, e.g. eu-west-1")
        return value

    @field_validator("endpoint_url", mode="before")
    @classmethod
    def _endpoint_empty(cls, value: Any) -> Any:
        return value or None

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint_shape(cls, value: str | None) -> str | None:
        if value and re.search(r"[?#@]", value):
            raise ValueError("must be a plain https:// URL (no user info, query or fragment)")
        return value.rstrip("/") if value else None

    @field_validator("phone_number", "origination_number")
    @classmethod
    def _number_shape(cls, value: str, info: ValidationInfo) -> str:
        if not value and info.field_name == "origination_number":
            return value
        return phone_number_clean(value)

    @field_validator("sender_id")
    @classmethod
    def _sender_id_shape(cls, value: str) -> str:
        if value and not _SENDER_ID.fullmatch(value):
            raise ValueError("must be 1 to 11 letters, digits or hyphens, with a letter")
        return value

    @field_validator("access_key_id")
    @classmethod
    def _access_key_shape(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            if (info.context or {}).get("saving") and not server_credentials_allowed():
                raise ValueError(
                    "is required (with secret_access_key): this server does not let this "
                    "tenant send with its own AWS credentials"
                )
            return value
        # Never repeated: an error names the setting only.
        if not _ACCESS_KEY_ID.fullmatch(value.get_secret_value()):
            raise ValueError("is not an AWS access key id (16 or more capitals and digits)")
        return value

    @model_validator(mode="after")
    def _keys_together(self) -> SnsSettings:
        if bool(self.access_key_id) != bool(self.secret_access_key):
            raise ValueError("give both the access key id and the secret access key, or neither")
        return self


def server_credentials_allowed() -> bool:
    """Whether the current tenant may send on the server's own AWS credentials (operator's)."""
    allowed = django_settings.HERALD_SNS_SERVER_CREDENTIALS_TENANTS
    tenant = getattr(connection, "tenant", None)
    slug = getattr(tenant, "slug", None)
    return "*" in allowed or (slug is not None and slug in allowed)


def _botocore_session() -> botocore.session.Session:
    # Loading SNS's model costs tens of milliseconds: one session per thread
    # (sessions are not thread-safe), clients made from it per send.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = botocore.session.Session()
    return session


class _Body:
    """A requests body as botocore reads an HTTP response's (`raw.stream()`)."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> list[bytes]:
        return [self._content]


def _request_body(request: AWSPreparedRequest) -> bytes:
    body = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return body.read()


class SnsTransport(Transport):
    kind = "sns"
    label = "AWS SNS (SMS)"
    settings_class = SnsSettings
    parts = ("text",)
    part_limits = {"text": PartLimit("SMS (two segments)", MAX_SEGMENTS * PART["GSM-7"])}
    contact_kinds = ("sms",)
    pages_people = True
    alertmanager = (
        AlertmanagerMapping(
            key="sns_configs",
            mapper=sns_from_alertmanager,
            send_resolved_default=True,
            reads=("api_url", "sigv4", "phone_number", "topic_arn", "target_arn",
                   "attributes"),
            templated=("subject", "message"),
        ),
    )

    @classmethod
    def contact_address_clean(cls, address: str) -> str:
        return phone_number_clean(address)

    @classmethod
    def addressed_to(cls, config: Mapping[str, Any], address: str) -> dict[str, Any]:
        return {**config, "phone_number": address}

    def send(self, message: AlertMessage) -> SendResult:
        text = sms_text_fit(self.render(message)["text"])
        return self._publish(text)

    def verification_send(self, *, address: str, text: str) -> None:
        """Text a code (a contact method's verification) to `address`; raises TransportError."""
        try:
            number = phone_number_clean(address)
        except ValueError as exc:
            raise TransportError(f"the number is not usable: {exc}", permanent=True) from None
        self._publish(sms_text_fit(text), number=number)

    def _publish(self, text: str, *, number: str = "") -> SendResult:
        settings = self.settings
        number = number or settings.phone_number
        client = self._client()
        if settings.check_opt_out:
            answer = self._call(client.check_if_phone_number_is_opted_out, phoneNumber=number)
            if answer.get("isOptedOut"):
                raise TransportError(
                    "the number has opted out of SMS from this AWS account (it replied STOP); "
                    "it must opt in again (SNS OptInPhoneNumber) before it can be paged",
                    permanent=True,
                )
        answer = self._call(
            client.publish, PhoneNumber=number, Message=text,
            MessageAttributes=sns_message_attributes(settings),
        )
        message_id = str(answer.get("MessageId") or "")
        status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return SendResult(
            http_status=status, vendor_ref={"message_id": message_id} if message_id else None
        )

    def _client(self) -> Any:
        settings = self.settings
        keys: dict[str, str] = {}
        if settings.access_key_id:
            keys = {"aws_access_key_id": settings.secret("access_key_id"),
                    "aws_secret_access_key": settings.secret("secret_access_key")}
        elif not server_credentials_allowed():
            raise TransportError(
                "the receiver has no AWS access key, and this server does not let this tenant "
                "use its own AWS credentials", permanent=True,
            )
        timeout = settings.timeout_seconds or django_settings.HERALD_HTTP_TIMEOUT_SECONDS
        config = Config(
            connect_timeout=min(5.0, timeout), read_timeout=timeout,
            retries={"total_max_attempts": 1},
        )
        try:
            client = _botocore_session().create_client(
                "sns", region_name=settings.region, endpoint_url=settings.endpoint_url,
                config=config, **keys,
            )
        except BotoCoreError as exc:
            raise TransportError(f"cannot set up SNS: {type(exc).__name__}",
                                 permanent=True) from None
        client.meta.events.register("before-send.sns", self._guarded_send)
        return client

    def _guarded_send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        """Send boto3's signed request through the guarded path (see the module's docstring)."""
        response: requests.Response = http_post(
            request.url, allow_private=self.allow_private, data=_request_body(request),
            headers=dict(request.headers.items()), timeout=self.settings.timeout_seconds,
        )
        return AWSResponse(
            request.url, response.status_code, dict(response.headers), _Body(response.content)
        )

    def _call(self, operation: Any, **params: Any) -> dict[str, Any]:
        try:
            return operation(**params)
        except ClientError as exc:
            raise self._client_error(exc) from None
        except NoCredentialsError:
            raise TransportError("the server has no AWS credentials to send with",
                                 permanent=True) from None
        except (BotoCoreError, ResponseParserError) as exc:
            # Parameters botocore refuses, or an answer that is not SNS's: the SMS
            # may have gone out, so it is not sent again (the page moves on).
            raise TransportError(
                f"SNS request failed: {self.error_text(type(exc).__name__ + ': ' + str(exc))}",
                permanent=True,
            ) from None

    def _client_error(self, exc: ClientError) -> TransportError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        text = f"SNS {code or status}: {self.error_text(str(error.get('Message') or ''))}"
        if code in THROTTLED_CODES:
            # SNS throttles with a 400: recorded as the 429 it means (pacing, not an outage).
            return TransportError(text, http_status=429)
        permanent = code in PERMANENT_CODES or (
            code not in THROTTLED_CODES and isinstance(status, int) and 400 <= status < 500
            and status not in (408, 429)
        )
        return TransportError(text, permanent=permanent, http_status=status)


def sns_message_attributes(settings: SnsSettings) -> dict[str, dict[str, str]]:
    """The SMS attributes of a Publish (pure)."""
    attributes = {"AWS.SNS.SMS.SMSType": settings.sms_type}
    if settings.sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = settings.sender_id
    if settings.origination_number:
        attributes["AWS.MM.SMS.OriginationNumber"] = settings.origination_number
    return {name: {"DataType": "String", "StringValue": value}
            for name, value in attributes.items()}

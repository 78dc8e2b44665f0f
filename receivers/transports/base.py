"""What every transport shares: typed settings, rendering, posting, the response check."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import requests

from receivers.message_rendering import RenderedMessage, message_render
from receivers.messages import AlertMessage
from receivers.redaction import SecretScrubber, secret_scrubber
from receivers.template_sandbox import TEMPLATES_DIR
from receivers.transports.alertmanager import AlertmanagerMapping
from receivers.transports.errors import TransportError, parse_retry_after
from receivers.transports.http import http_post
from receivers.transports.settings import ChannelSettings, SettingsError

logger = logging.getLogger(__name__)

__all__ = ["PartLimit", "SendResult", "Transport", "TransportError", "parse_retry_after"]

# How much of a vendor's answer an error keeps: enough to say what is wrong.
ERROR_TEXT_LIMIT = 300


class PartLimit(NamedTuple):
    """What the vendor shows of a rendered part: longer text is cut, and paranoid checks say so."""

    vendor: str  # "Slack (header block)"
    characters: int


@dataclass(frozen=True)
class SendResult:
    http_status: int | None = None
    # What the vendor calls the message it made (Slack: {"channel", "ts"}),
    # recorded on the notification so later messages can edit or thread under it.
    vendor_ref: Mapping[str, str] | None = None


# The template problems of the send running in this thread (see render_problems_collected).
_render_problems: ContextVar[list[str] | None] = ContextVar("render_problems", default=None)


@contextmanager
def render_problems_collected() -> Iterator[list[str]]:
    """Collect what went wrong rendering the tenant's templates during one send.

    A template that fails or hits a limit does not fail the send: the default
    is used instead, and the problem belongs on the notification.
    """
    problems: list[str] = []
    token = _render_problems.set(problems)
    try:
        yield problems
    finally:
        _render_problems.reset(token)


def render_problem_record(problem: str, *, receiver_name: str) -> None:
    logger.warning("receiver %r: %s", receiver_name, problem)
    collected = _render_problems.get()
    if collected is not None:
        collected.append(problem)


class Transport(ABC):
    """One channel: a pure step from message to the vendor's payload, and a send.

    A channel declares here everything other modules need to know of it
    (read through receivers.transports.registry), so none of them lists channels.
    """

    kind: ClassVar[str]
    label: ClassVar[str]  # as the admin names it: "Microsoft Teams"
    settings_class: ClassVar[type[ChannelSettings]]
    # The template parts its payload is made of, in the order the payload uses them;
    # none for a channel that sends its own format (the webhook).
    parts: ClassVar[tuple[str, ...]] = ()
    # Parts whose output is HTML: values are escaped unless marked safe.
    html_parts: ClassVar[frozenset[str]] = frozenset()
    part_limits: ClassVar[Mapping[str, PartLimit]] = {}
    # Default templates: <templates_dir>/<kind>/<language>/<part>.j2.
    templates_dir: ClassVar[Path] = TEMPLATES_DIR
    # The Alertmanager receiver entries that import as this channel.
    alertmanager: ClassVar[tuple[AlertmanagerMapping, ...]] = ()
    # Channels with their own incident state hear about acknowledgements too.
    supports_acknowledge: ClassVar[bool] = False
    # Channels that edit the message they sent (its vendor_ref, the message's
    # thread_root_ref) hear of every change a person makes: acknowledged,
    # unacknowledged, resolved (receivers.delivery.updates).
    updates_in_place: ClassVar[bool] = False
    # Later messages reply to the first one delivered about the group, which
    # only the database knows (mail clients thread by Message-ID).
    threads_replies: ClassVar[bool] = False
    # The kinds of people's contact methods this channel carries (a person's
    # method of such a kind is reached through a receiver of this channel that
    # carries pages, with the person's address in place of the receiver's own:
    # `addressed_to`). Most channels carry their own kind (email: ("email",));
    # a phone provider carries ("sms", "voice"). Empty: it pages nobody.
    contact_kinds: ClassVar[tuple[str, ...]] = ()
    # A ticketing channel finds or creates one ticket per incident: its sends of
    # one incident run one at a time (receivers.delivery.ticket_lock).
    needs_ticket_lock: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A channel written before contact kinds (pages_people = True) carries its own kind.
        if cls.__dict__.get("pages_people") and "contact_kinds" not in cls.__dict__:
            cls.contact_kinds = (cls.kind,)
        cls.pages_people = bool(cls.contact_kinds)

    @classmethod
    def outbound_hosts(cls, config: Mapping[str, Any]) -> list[tuple[str, str, int]]:
        """Targets among its settings that are not URLs, as (setting, host, port)."""
        return []

    @classmethod
    def contact_address_clean(cls, address: str) -> str:
        """A person's address for this channel, normalised; ValueError saying why not."""
        raise ValueError(f"{cls.label} does not page people")

    @classmethod
    def addressed_to(cls, config: Mapping[str, Any], address: str) -> dict[str, Any]:
        """The carrier receiver's settings with a person's address in place of its own."""
        raise ValueError(f"{cls.label} does not page people")

    @classmethod
    def page_config(
        cls, config: Mapping[str, Any], *, contact_kind: str, address: str
    ) -> dict[str, Any]:
        """The carrier's settings for a page (or a code) to a contact method of `contact_kind`.

        A channel that carries several kinds (a phone provider: "sms" and
        "voice") overrides this to say which one; the default is `addressed_to`
        with the cleaned address. ValueError when the address is not usable.
        """
        if contact_kind not in cls.contact_kinds:
            raise ValueError(f"{cls.label} does not carry {contact_kind} pages")
        return cls.addressed_to(config, cls.contact_address_clean(address))

    def verification_send(self, *, address: str, text: str) -> None:
        """Send a plain message to a person's address: a contact method's code or link.

        Email mails the text, SMS sends it, a call speaks it. Raises TransportError.
        """
        raise TransportError(f"{self.label} cannot send a plain message", permanent=True)

    def __init__(
        self,
        *,
        config: Mapping[str, Any],
        secrets: Mapping[str, Any],
        allow_private: bool,
        templates: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        try:
            self.settings = self.settings_class.parse(config=config, secrets=secrets)
        except SettingsError as exc:
            raise TransportError(
                f"the receiver's settings are invalid: {exc}", permanent=True
            ) from None
        self.allow_private = allow_private
        self._secrets = secrets
        # The tenant's template overrides for this channel: (language, part) -> source.
        self.templates = templates or {}

    @abstractmethod
    def send(self, message: AlertMessage) -> SendResult:
        """Deliver the message, or raise TransportError."""

    def render(self, message: AlertMessage) -> RenderedMessage:
        rendered = message_render(
            channel=self.kind,
            message=message,
            language=self.settings.language,
            overrides=self.templates,
        )
        for problem in rendered.problems:
            render_problem_record(problem, receiver_name=message.receiver_name)
        return rendered

    def rendered_parts(self, message: AlertMessage) -> dict[str, str]:
        """The message as this channel would send it, part by part, for a person to read.

        What `manage.py test_notifications` prints; a channel that sends its
        own format rather than parts says what it would send.
        """
        return dict(self.render(message).parts)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        """POST through the shared HTTP path with this receiver's timeout, then check."""
        response = http_post(
            url, allow_private=self.allow_private, timeout=self.settings.timeout_seconds, **kwargs
        )
        self.raise_for_response(response)
        return response

    @cached_property
    def scrubber(self) -> SecretScrubber:
        """Masks this receiver's secrets; built on the first failure, not per send."""
        return secret_scrubber(self._secrets)

    def error_text(self, text: str) -> str:
        """A vendor's text fit for an error: this receiver's secrets masked, then cut.

        Masked before the cut, so a secret split by the cut is masked too.
        """
        return self.scrubber.scrub_cut(text, ERROR_TEXT_LIMIT)

    def raise_for_response(self, response: requests.Response) -> None:
        """Turn a vendor's answer into success or a TransportError.

        Timeouts, 429 and 5xx are worth retrying; any other 4xx will fail the
        same way again. Override for vendors that answer errors differently.
        """
        if 200 <= response.status_code < 300:
            return
        retryable = response.status_code == 429 or response.status_code >= 500
        raise TransportError(
            f"HTTP {response.status_code}: {self.error_text(response.text)}",
            permanent=not retryable,
            http_status=response.status_code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

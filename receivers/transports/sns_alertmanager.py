"""Alertmanager's `sns_configs` as Herald's SNS receiver (pure).

Herald texts a phone number; an entry that publishes to a topic or a
platform endpoint (topic_arn, target_arn) is reported, not imported. Of
sigv4, the region and static keys are honoured; a profile or a role to
assume live on the Alertmanager host and cannot be: the entry says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from receivers.transports.alertmanager import ImportedReceiver, not_imported

# SNS's attributes that are Herald settings; any other attribute is reported.
_ATTRIBUTES = {
    "AWS.SNS.SMS.SenderID": "sender_id",
    "AWS.SNS.SMS.SMSType": "sms_type",
    "AWS.MM.SMS.OriginationNumber": "origination_number",
}
_DEFAULT_ENDPOINT = re.compile(r"sns\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com")


def sns_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    for key in ("topic_arn", "target_arn"):
        if entry.get(key) and not entry.get("phone_number"):
            return not_imported(f"{key} is not supported: Herald pages a phone number "
                                "(set phone_number, or page people through their contacts)")
    phone = str(entry.get("phone_number") or "")
    if not phone:
        return not_imported("no phone_number")
    if "{{" in phone:
        return not_imported("phone_number is a Go template; give the number itself")
    notes = [f"{key} is not imported: Herald texts the phone_number only"
             for key in ("topic_arn", "target_arn") if entry.get(key)]
    sigv4 = dict(entry.get("sigv4") or {})
    if sigv4.get("role_arn"):
        return not_imported("sigv4.role_arn: Herald does not assume roles; give it the access "
                            "key of an IAM user allowed sns:Publish")
    access_key, secret_key = sigv4.get("access_key"), sigv4.get("secret_key")
    if sigv4.get("profile"):
        if not access_key:
            return not_imported("sigv4.profile names a profile on the Alertmanager host, which "
                                "Herald cannot read; give sigv4.access_key and secret_key")
        notes.append("sigv4.profile is not imported: the access key is used")
    if not access_key:
        notes.append("no sigv4.access_key: Herald then sends with the server's own AWS "
                     "credentials, which the operator allows per tenant "
                     "(HERALD_SNS_SERVER_CREDENTIALS_TENANTS); else set the access key")
    api_url = str(entry.get("api_url") or "").rstrip("/")
    default = _DEFAULT_ENDPOINT.fullmatch(urlsplit(api_url).hostname or "") if api_url else None
    region = str(sigv4.get("region") or (default[1] if default else ""))
    if not region:
        return not_imported("no sigv4.region")
    if default and default[1] == region and urlsplit(api_url).path in ("", "/"):
        api_url = ""  # the region's own endpoint: Herald's default
    config: dict[str, Any] = {"region": region, "endpoint_url": api_url, "phone_number": phone}
    for name, value in dict(entry.get("attributes") or {}).items():
        if name in _ATTRIBUTES:
            config[_ATTRIBUTES[name]] = value
        else:
            notes.append(f"attributes.{name} is not imported")
    return ImportedReceiver(
        config=config,
        secrets={"access_key_id": access_key, "secret_access_key": secret_key},
        notes=notes,
    )

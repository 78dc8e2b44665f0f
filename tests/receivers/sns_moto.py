"""moto's SNS in server mode on loopback, checking SigV4 against its IAM, recording requests.

`MotoSns` runs moto's own WSGI application (ThreadedMotoServer's) behind a
small recorder, so a test can read what Herald sent (the form fields of each
Publish, its Authorization header) and what moto made of it (the SMS in its
SNS backend). `iam_user` creates an IAM user in moto with the given actions
allowed and returns its keys; with `signatures_checked` on, moto refuses any
request not signed with a key it knows (SignatureDoesNotMatch, 403) and any
action the user's policy does not allow (AccessDenied).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import boto3
import pytest
import requests
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import enable_iam_authentication
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

REGION = "eu-west-1"


@dataclass
class SeenRequest:
    headers: dict[str, str]
    form: dict[str, str]

    @property
    def action(self) -> str:
        return self.form.get("Action", "")

    def attributes(self) -> dict[str, tuple[str, str]]:
        """MessageAttributes of a Publish: name -> (DataType, StringValue)."""
        found = {}
        for key, name in self.form.items():
            if key.startswith("MessageAttributes.entry.") and key.endswith(".Name"):
                prefix = key.removesuffix(".Name")
                found[name] = (self.form[f"{prefix}.Value.DataType"],
                               self.form[f"{prefix}.Value.StringValue"])
        return found


@dataclass
class _Recorder:
    app: object
    seen: list[SeenRequest] = field(default_factory=list)

    def __call__(self, environ, start_response):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {key[5:].replace("_", "-").title(): value
                   for key, value in environ.items() if key.startswith("HTTP_")}
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        self.seen.append(SeenRequest(headers=headers, form=form))
        return self.app(environ, start_response)


class _Quiet(MotoRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


class MotoSns(ThreadedMotoServer):
    """ThreadedMotoServer on 127.0.0.1 (a free port), its application behind a recorder."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.recorder = _Recorder(DomainDispatcherApplication(create_backend_app))

    def _server_entry(self) -> None:
        self._server = make_server(self._ip_address, self._port, self.recorder, True,
                                   request_handler=_Quiet)
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return self.get_host_and_port()[1]

    def reset(self) -> None:
        requests.post(f"{self.url}/moto-api/reset", timeout=5)
        self.recorder.seen.clear()

    def publishes(self) -> list[SeenRequest]:
        return [seen for seen in self.recorder.seen if seen.action == "Publish"]

    def sms_sent(self) -> list[tuple[str, str]]:
        """(number, text) of every SMS moto's SNS accepted, in order."""
        backend = get_backend("sns")[DEFAULT_ACCOUNT_ID][REGION]
        return list(backend.sms_messages.values())

    def sms_ids(self) -> list[str]:
        """The MessageId of every SMS moto's SNS accepted, in order."""
        return list(get_backend("sns")[DEFAULT_ACCOUNT_ID][REGION].sms_messages)

    def admin_client(self, service: str):
        """A client for setting moto up (IAM users, opt-ins), outside Herald."""
        return boto3.client(service, endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def iam_user(self, name: str, *, actions: list[str]) -> tuple[str, str]:
        """A user allowed `actions` on everything; its (access key id, secret access key)."""
        iam = self.admin_client("iam")
        iam.create_user(UserName=name)
        if actions:
            iam.put_user_policy(UserName=name, PolicyName="herald", PolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
            }))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]


@contextmanager
def signatures_checked() -> Iterator[None]:
    """moto checks every request's SigV4 signature and the user's IAM policy."""
    with enable_iam_authentication():
        yield


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoSns]:
    server = MotoSns()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def moto(moto_server: MotoSns) -> MotoSns:
    """moto's SNS with nothing sent yet (and its IAM empty)."""
    moto_server.reset()
    return moto_server

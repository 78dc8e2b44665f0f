"""Run by tests/ops/test_upgrade_compat.py with an EARLIER release's code on sys.path.

POSTs one webhook through that release's whole Django stack (test client,
middleware, ingest view) against the database the new release migrated, and
prints the status code and body. Uses nothing but what every release has.
"""

import json
import os
import sys

import django

django.setup()

from django.test import Client  # noqa: E402

payload = json.loads(sys.argv[1])
answer = Client(HTTP_HOST="127.0.0.1").post(
    "/api/v1/alertmanager/", data=json.dumps(payload), content_type="application/json",
    HTTP_AUTHORIZATION=f"Bearer {os.environ['INGEST_KEY']}",
)
print(json.dumps({"status": answer.status_code, "body": answer.content.decode()[:2000]}))

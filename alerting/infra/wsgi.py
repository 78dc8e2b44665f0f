import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alerting.infra.settings")

from alerting.infra.ingest_lane import with_ingest_lane

application = with_ingest_lane(get_wsgi_application())

# Refuse to serve when the configured keys cannot read the stored secrets
# (a key dropped too early, DJANGO_SECRET_KEY-era values not migrated):
# gunicorn's worker fails to boot with the reason, instead of every
# notification failing later.
from alerting.encryption_services import encryption_keys_verify  # noqa: E402

encryption_keys_verify()

"""What the demo sink received: in demo mode, a stand-in for Slack and friends."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SinkRequest(models.Model):
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    path = models.CharField(max_length=500, verbose_name=_("path"))
    content_type = models.CharField(max_length=200, blank=True, verbose_name=_("content type"))
    body = models.TextField(verbose_name=_("body"))

    class Meta:
        verbose_name = _("sink request")
        verbose_name_plural = _("sink requests")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.received_at:%H:%M:%S} {self.path}"

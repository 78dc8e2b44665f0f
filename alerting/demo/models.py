"""What the demo sink received: in demo mode, a stand-in for Slack and friends."""

from django.db import models


class SinkRequest(models.Model):
    received_at = models.DateTimeField(auto_now_add=True)
    path = models.CharField(max_length=500)
    content_type = models.CharField(max_length=200, blank=True)
    body = models.TextField()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.received_at:%H:%M:%S} {self.path}"

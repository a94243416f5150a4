"""Shared tables: configuration generations."""

from django.db import models


class Generation(models.Model):
    """A token that changes whenever one kind of configuration changes.

    Processes keep rarely changing configuration (SLA policies and calendars) in memory and
    compare this token, one primary-key read, before using it. The token is random, not a
    counter, so a change that was rolled back can never be mistaken for a later one.
    """

    name = models.CharField(max_length=40, primary_key=True)
    token = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.name}: {self.token}"


class ThrottleCounter(models.Model):
    """One throttle counter shared by every process (see otklik.common.throttle).

    Used when there is no Redis: a per-process memory would multiply every limit by the
    number of workers. `key` holds only keyed hashes of the subject, never personal data.
    """

    key = models.CharField(max_length=160, primary_key=True)
    value = models.BigIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"

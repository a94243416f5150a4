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

"""Improvement proposals: an operator's idea to change a process or product, backed by cases."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProposalStatus(models.TextChoices):
    NEW = "new", _("New")
    UNDER_REVIEW = "under_review", _("Under review")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", pgettext_lazy("proposal", "Declined")
    IN_PROGRESS = "in_progress", _("In progress")
    IMPLEMENTED = "implemented", _("Implemented")
    MEASURED = "measured", _("Effect measured")
    MERGED = "merged", _("Merged into another")


class Proposal(models.Model):
    """What is wrong, what to change and what it should give; links to the cases behind it."""

    title = models.CharField(_("title"), max_length=200)
    problem = models.TextField(_("problem"))
    proposal = models.TextField(_("proposal"))
    expected_effect = models.TextField(_("expected effect"), blank=True)
    topic = models.ForeignKey(
        "cases.Topic",
        verbose_name=_("topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    product_kind = models.CharField(_("product"), max_length=20, blank=True)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("owner department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.NEW
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    implemented_on = models.DateField(_("implemented on"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )
    # The effect as measured: weekly case counts on the topic before and after implementation.
    effect = models.JSONField(_("measured effect"), default=dict, blank=True, editable=False)
    # Lemmas of the title, problem and proposal, for the similar-proposal suggestions.
    terms = models.TextField(_("search terms"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("improvement proposal")
        verbose_name_plural = _("improvement proposals")
        ordering = ["-created_at"]
        permissions = [("review_proposal", "Can review, accept and merge proposals (analyst)")]
        indexes = [models.Index(fields=["status", "created_at"], name="proposal_status_age")]

    def __str__(self) -> str:
        return self.title


class ProposalLink(models.Model):
    """«+1 with my case»: a case that shows the problem, linked by a member of staff."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="links")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("linked"))

    class Meta:
        verbose_name = _("linked case")
        verbose_name_plural = _("linked cases")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "case"], name="proposal_link_once")
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: case {self.case_id}"


class ProposalVote(models.Model):
    """One member of staff supports a proposal (with or without a case)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="proposal_vote_once")
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: +1 {self.user_id}"


class ProposalEvent(models.Model):
    """The history: every status change, link, merge; notifications are sent from these."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16)  # created | status | linked | merged
    old_status = models.CharField(max_length=16, blank=True)
    new_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.kind}"

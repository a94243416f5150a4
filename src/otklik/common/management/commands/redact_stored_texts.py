"""Redact identifiers in free text stored before redaction at storage time existed.

Walks every free-text field that services now redact when they store it, in batches by
primary key, and rewrites only the rows whose text changes. Safe to interrupt and run
again (redacted text stays as it is); `--dry-run` only counts.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from otklik.common.redaction import redact

#: "app_label.Model.field" of every free-text field redacted when stored (by name, so
#: common does not import the apps that use it).
FIELDS = (
    "cases.Case.subject",
    "cases.CaseEvent.old_value",
    "cases.CaseEvent.new_value",
    "cases.Interaction.summary",
    "cases.Message.body",
    "chat.ChatMessage.body",
    "chat.ChatRating.comment",
    "handoffs.Handoff.question",
    "handoffs.Handoff.answer",
    "handoffs.HandoffEvent.text",
    "portal.CsiRating.comment",
)
# A text with fewer than ten digits in a row-ish holds no recognisable identifier.
MAY_HOLD_AN_IDENTIFIER = r"[0-9][0-9 -]{8,}[0-9]"


class Command(BaseCommand):
    help = "Redact card, passport, СНИЛС and ИНН numbers in free text stored earlier."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
        parser.add_argument("--batch", type=int, default=1000)

    def handle(self, *args, dry_run: bool = False, batch: int = 1000, **options):
        total = 0
        for path in FIELDS:
            label, model_name, field = path.split(".")
            model = apps.get_model(label, model_name)
            changed = self._redact_field(model, field, dry_run=dry_run, batch=batch)
            total += changed
            self.stdout.write(f"{path}: {changed}")
        verb = "would change" if dry_run else "changed"
        self.stdout.write(f"{verb} {total} value(s)")

    def _redact_field(self, model, field: str, *, dry_run: bool, batch: int) -> int:
        candidates = model.objects.filter(**{f"{field}__regex": MAY_HOLD_AN_IDENTIFIER})
        changed = 0
        after = 0
        while True:
            rows = list(
                candidates.filter(pk__gt=after).order_by("pk").values_list("pk", field)[:batch]
            )
            if not rows:
                return changed
            after = rows[-1][0]
            updates = [(pk, redact(text)) for pk, text in rows if redact(text) != text]
            changed += len(updates)
            if updates and not dry_run:
                with transaction.atomic():
                    for pk, text in updates:
                        model.objects.filter(pk=pk).update(**{field: text})

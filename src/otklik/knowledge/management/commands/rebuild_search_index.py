"""Re-index every published article, e.g. after an analyser upgrade or a bulk import."""

from django.core.management.base import BaseCommand

from otklik.knowledge.services import search_index_rebuild


class Command(BaseCommand):
    help = "Rebuild the knowledge-base search index from published article versions."

    def handle(self, *args, **options):
        count = search_index_rebuild()
        self.stdout.write(f"indexed {count} article(s)")

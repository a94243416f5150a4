"""Re-index every published article, e.g. after an analyser upgrade or a bulk import."""

from django.core.management.base import BaseCommand

from otklik.knowledge.services import embeddings_rebuild, search_index_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the knowledge-base search index from published article versions; "
        "vectors are computed for versions lacking one (all of them with --embeddings)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--embeddings",
            action="store_true",
            help="recompute every published version's vector (e.g. after a model change)",
        )

    def handle(self, *args, **options):
        if options["embeddings"]:

            def progress(done: int, total: int) -> None:
                self.stdout.write(f"vectors: {done}/{total}")

            computed = embeddings_rebuild(force=True, progress=progress)
            self.stdout.write(f"computed {computed} vector(s)")
        count = search_index_rebuild()
        self.stdout.write(f"indexed {count} article(s)")

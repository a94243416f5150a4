"""`manage.py generate_load`: synthetic clients and cases for benchmarks."""

from django.core.management.base import BaseCommand, CommandError

from otklik.demo.load import generate_load


class Command(BaseCommand):
    help = (
        "Insert synthetic clients and cases (two years of history, a few per cent open) "
        "with batched inserts. Example: generate_load --clients 100000 --cases 1000000"
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=10_000)
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1, help="random seed (repeatable data)")
        parser.add_argument("--batch-size", type=int, default=5000, help="rows per INSERT batch")
        parser.add_argument(
            "--analytics",
            action="store_true",
            help="also interactions, CSI ratings, NPS answers and handoffs for the new cases, "
            "then rebuild the analytics rollups",
        )
        parser.add_argument(
            "--rollup-days",
            type=int,
            default=None,
            help="with --analytics: rebuild the rollups of the last N days only (0: none; "
            "`analytics_rebuild` does the rest later); all history by default",
        )

    def handle(
        self, *args, clients, cases, seed, batch_size, analytics=False, rollup_days=None, **options
    ):
        if clients < 1 or cases < 0 or batch_size < 1:
            raise CommandError("--clients must be ≥ 1, --cases ≥ 0, --batch-size ≥ 1")
        if rollup_days is not None and rollup_days < 0:
            raise CommandError("--rollup-days must be ≥ 0")
        from otklik.cases.models import Case

        first_case = (Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        stats = generate_load(
            clients=clients,
            cases=cases,
            seed=seed,
            batch_size=batch_size,
            log=lambda message: self.stdout.write(message),
        )
        if analytics:
            from otklik.analytics.load import generate_activity
            from otklik.analytics.rollups import rebuild

            more = generate_activity(
                first_case_id=first_case,
                seed=seed,
                batch_size=batch_size,
                log=lambda message: self.stdout.write(message),
            )
            stats.rows.update(more.rows)
            stats.seconds.update(more.seconds)
            if rollup_days != 0:
                self.stdout.write("rollups …")
                since = None
                if rollup_days is not None:
                    from datetime import timedelta

                    from django.utils import timezone

                    since = timezone.now() - timedelta(days=rollup_days)
                stats.rows["rollup rows"] = rebuild(since=since)
        for name, seconds in stats.seconds.items():
            self.stdout.write(f"  {name}: {seconds:.1f} s")
        for table, rows in stats.rows.items():
            self.stdout.write(f"  {table}: {rows:,} rows")
        rate = stats.total_rows / stats.total_seconds if stats.total_seconds else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {stats.total_rows:,} rows in {stats.total_seconds:.1f} s "
                f"({rate:,.0f} rows/s; {stats.rows.get('cases', 0) / stats.total_seconds:,.0f} "
                "cases/s overall)"
            )
        )

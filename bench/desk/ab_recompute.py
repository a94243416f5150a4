"""A/B, interleaved: `health_recompute()` of an earlier commit against the working tree's.

Not a test. Uses the database `bench/desk/run.py` built (SQLite file, or DATABASE_URL):

    .venv/bin/python bench/desk/ab_recompute.py --before 66ce8dd --rounds 2
"""

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="commit whose health.py is 'before'")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--db", default="var/bench/desk.sqlite3")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{(ROOT / args.db).resolve()}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.db import connection

    from otklik.relationship import health as after

    source = subprocess.run(
        ["git", "show", f"{args.before}:src/otklik/relationship/health.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location("health_before", handle.name)
    before = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(before)
    for _round in range(args.rounds):
        for name, module in (("before", before), ("after", after)):
            load = os.getloadavg()[0]
            wall, cpu = time.perf_counter(), time.process_time()
            done = module.health_recompute()
            print(
                f"{connection.vendor} {name} {done} clients: "
                f"wall {time.perf_counter() - wall:.1f} s, "
                f"cpu {time.process_time() - cpu:.1f} s, load {load:.1f}",
                flush=True,
            )
    Path(handle.name).unlink()


if __name__ == "__main__":
    main()

"""Interleaved HTTP timing of several servers on a shared, loaded machine.

Not a test. Starts each `--app NAME=COMMAND` (a `run.py --serve` or `helpdesk_run.py
--serve` command line, each with its own port and its own interpreter), reads where it
serves and what to ask, then times the pages in small blocks, taking turns (rotating who
goes first), so whatever else loads the machine weighs on every server alike. Stdlib only.

    python bench/case_page/interleave.py --rounds 30 --block 10 \\
      --app "otklik=.venv/bin/python bench/case_page/run.py --serve --port 8141" \\
      --app "helpdesk=/tmp/helpdesk-venv/bin/python bench/case_page/helpdesk_run.py \\
             --serve --port 8142"

Results go to stdout and var/bench/case-page-interleaved.json: p50/p95 per app and page,
the 1-minute load average at the start and the end, and the p50 ratio of every page to
the first app's, per round (min / median / max) and overall.
"""

import argparse
import http.client
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from http_timing import timed_block  # noqa: E402

from bench.run_core import pct, summary  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", action="append", required=True, help="NAME=COMMAND")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--block", type=int, default=10, help="requests per page per turn")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--out", default="var/bench/case-page-interleaved.json")
    return parser.parse_args()


def start(name: str, command: str) -> tuple[subprocess.Popen, dict]:
    process = subprocess.Popen(
        shlex.split(command),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in process.stdout:
        if line.startswith('{"port"'):
            return process, json.loads(line)
    raise RuntimeError(f"{name}: exited before serving ({process.wait()})")


def main() -> None:
    args = parse_args()
    apps: dict[str, dict] = {}
    processes = []
    try:
        for spec in args.app:
            name, command = spec.split("=", 1)
            process, info = start(name, command)
            processes.append(process)
            info["conn"] = http.client.HTTPConnection("127.0.0.1", info["port"], timeout=60)
            apps[name] = info
        for info in apps.values():
            for paths in info["pages"].values():
                timed_block(
                    info["conn"],
                    [paths[i % len(paths)] for i in range(args.warmup)],
                    info["cookie"],
                )
        times: dict[tuple[str, str], list[float]] = {}
        per_round: dict[tuple[str, str], list[float]] = {}
        names = list(apps)
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                info = apps[name]
                # A fresh keep-alive connection per turn (the servers close idle ones after
                # 5 s while the others take their turns), opened before the clock starts.
                info["conn"].close()
                info["conn"] = http.client.HTTPConnection("127.0.0.1", info["port"], timeout=60)
                info["conn"].connect()
                for page, paths in info["pages"].items():
                    block = [paths[(r * args.block + i) % len(paths)] for i in range(args.block)]
                    got = timed_block(info["conn"], block, info["cookie"])
                    times.setdefault((name, page), []).extend(got)
                    per_round.setdefault((name, page), []).append(statistics.median(got))
        load_after = os.getloadavg()[0]
    finally:
        for process in processes:
            process.stdin.close()
        for process in processes:
            process.wait(timeout=60)
    first = names[0]
    base = {page: times[(first, page)] for page in apps[first]["pages"]}
    results = {
        "rounds": args.rounds,
        "block": args.block,
        "seconds": round(time.monotonic() - started),
        "loadavg_1m_before": round(load_before, 2),
        "loadavg_1m_after": round(load_after, 2),
        "pages": {f"{n}:{p}": summary(t) for (n, p), t in times.items()},
        "p50_ratio_to_first": {},
    }
    for (name, page), t in times.items():
        if name == first:
            continue
        for own_page, own in base.items():
            if page in base and page != own_page:
                continue  # the same app's other page: not a comparison
            ratios = sorted(
                b / a
                for a, b in zip(per_round[(first, own_page)], per_round[(name, page)], strict=True)
            )
            results["p50_ratio_to_first"][f"{name}:{page} / {first}:{own_page}"] = {
                "overall": round(pct(t, 0.5) / pct(own, 0.5), 2),
                "per_round_min": round(ratios[0], 2),
                "per_round_median": round(statistics.median(ratios), 2),
                "per_round_max": round(ratios[-1], 2),
            }
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""A pytest plugin that runs mutation testing of one module against the selected tests.

    pytest -p tools.mutate.plugin --mutate otklik.handoffs.services tests/handoffs

How it works, and why it is fast enough to use daily:
1. The selected tests run once, unmutated (they must pass), while `sys.monitoring` records
   which lines of the target module each test executes (only that module's code objects
   are instrumented, so the run costs about what a plain run does). The test database
   stays set up afterwards.
2. Each mutant runs in a forked child that inherits the set-up session (no new database,
   no new Django start). The child copies the SQLite test database to its own file, swaps
   the mutated code into the live function (see mutants.py: decorated functions too), and
   runs only the tests that executed the mutated lines, fastest first, stopping at the first
   failure. A failure or a timeout kills the mutant; a mutant no test executes survives.
3. The score and every survivor (line, kind, what changed) are printed, and written as
   JSON with `--mutate-report`.

The runner needs the embedded SQLite test database (a forked child must not share a
PostgreSQL connection with its parent); `make mutate` runs it that way.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import os
import re
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass, field

import pytest

from tools.mutate import mutants as mutants_module

TOOL_ID = 4  # sys.monitoring tool slot (0-5 are free for tools; 4 is unused by coverage.py)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mutate", "mutation testing (tools/mutate)")
    group.addoption("--mutate", metavar="MODULE", help="dotted module to mutate")
    group.addoption("--mutate-jobs", type=int, default=1, help="mutants run at once")
    group.addoption("--mutate-report", metavar="PATH", help="write the results as JSON")
    group.addoption("--mutate-owner", metavar="REGEX", help="only functions matching this")
    group.addoption(
        "--mutate-min-score", type=float, default=0.0, help="fail below this share (0..1)"
    )


@dataclass
class Result:
    mutant: mutants_module.Mutant
    outcome: str  # killed, survived, timeout, no_coverage, invalid
    tests_run: int = 0
    seconds: float = 0.0


@dataclass
class Baseline:
    hits: dict[str, set[int]] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)


def _run_item(item: pytest.Item, nextitem: pytest.Item) -> None:
    item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)


def _baseline(session: pytest.Session, module, source: str) -> Baseline:
    """Run every selected test once, recording the target's lines each one executes."""
    baseline = Baseline()
    current: list[str] = [""]
    monitoring = sys.monitoring
    monitoring.use_tool_id(TOOL_ID, "otklik-mutate")
    filename = module.__file__

    def on_line(code, line_number):
        if code.co_filename == filename:
            baseline.hits.setdefault(current[0], set()).add(line_number)
        return monitoring.DISABLE

    monitoring.register_callback(TOOL_ID, monitoring.events.LINE, on_line)
    for code in mutants_module.all_code_objects(module, source):
        monitoring.set_local_events(TOOL_ID, code, monitoring.events.LINE)
    items = session.items
    try:
        for position, item in enumerate(items):
            nextitem = items[position + 1] if position + 1 < len(items) else items[0]
            current[0] = item.nodeid
            monitoring.restart_events()
            started = time.perf_counter()
            _run_item(item, nextitem)
            baseline.durations[item.nodeid] = time.perf_counter() - started
            if session.testsfailed:
                raise pytest.UsageError(
                    f"{item.nodeid} fails without any mutant: fix the suite before mutating"
                )
    finally:
        monitoring.register_callback(TOOL_ID, monitoring.events.LINE, None)
        monitoring.free_tool_id(TOOL_ID)
    return baseline


def _covering(
    items: list[pytest.Item], baseline: Baseline, mutant: mutants_module.Mutant
) -> list[pytest.Item]:
    if mutant.owner.startswith("<module>:"):
        chosen = [item for item in items if baseline.hits.get(item.nodeid)]
    else:
        lines = set(range(mutant.line, mutant.end_line + 1))
        chosen = [item for item in items if baseline.hits.get(item.nodeid, set()) & lines]
    return sorted(chosen, key=lambda item: baseline.durations.get(item.nodeid, 0.0))


def _checkpoint_database(session: pytest.Session) -> str | None:
    """The SQLite test database's file, flushed from its WAL so a plain copy is whole."""
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    connection = connections["default"]
    if connection.vendor != "sqlite":
        raise pytest.UsageError(
            "mutation runs need the SQLite test database (unset DATABASE_URL): "
            "a forked child must not share a PostgreSQL connection with its parent"
        )
    name = connection.settings_dict["NAME"]
    if not os.path.exists(name):
        return None  # no selected test touched the database
    with session.config.stash[blocking_manager_key].unblock():
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return name


def _child(session, module, source, mutant, items, database: str | None) -> None:
    """In the forked child: own database copy, apply the mutant, run tests, exit."""
    code = 0
    copy_path = f"{database or 'none'}.mutant-{os.getpid()}"
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            session.config.pluginmanager.unregister(reporter)
        from django.db import connections

        if database is not None:
            shutil.copyfile(database, copy_path)
            connection = connections["default"]
            connection.connection = None  # abandon the parent's handle; never close it here
            connection.writer_lock_fd = None
            connection.writer_lock_held = False
            connection.settings_dict["NAME"] = copy_path
        try:
            mutants_module.apply(module, source, mutant)
        except (SyntaxError, LookupError, TypeError, ValueError):
            code = 3
            return
        before = session.testsfailed
        for position, item in enumerate(items):
            nextitem = items[position + 1] if position + 1 < len(items) else items[0]
            _run_item(item, nextitem)
            if session.testsfailed > before:
                code = 1
                return
    except BaseException:
        code = 1  # the mutant broke the run itself: it was noticed
    finally:
        for suffix in ("", "-wal", "-shm", ".writer-lock"):
            with contextlib.suppress(OSError):
                os.unlink(copy_path + suffix)
        os._exit(code)


def _run_mutants(session, module, source, todo, baseline, jobs) -> list[Result]:
    database = _checkpoint_database(session)
    items = list(session.items)
    results: list[Result] = []
    running: dict[int, tuple[mutants_module.Mutant, float, float, int]] = {}
    queue = list(todo)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    total = len(queue)

    def progress() -> None:
        if reporter is not None and len(results) % 25 == 0:
            killed = sum(r.outcome in ("killed", "timeout") for r in results)
            reporter.write_line(f"mutants: {len(results)}/{total} done, {killed} killed")

    while queue or running:
        while queue and len(running) < jobs:
            mutant = queue.pop(0)
            covering = _covering(items, baseline, mutant)
            if not covering:
                results.append(Result(mutant, "no_coverage"))
                progress()
                continue
            budget = sum(baseline.durations[item.nodeid] for item in covering)
            timeout = max(10.0, 4 * budget + 5)
            pid = os.fork()
            if pid == 0:
                _child(session, module, source, mutant, covering, database)
            running[pid] = (mutant, time.perf_counter(), timeout, len(covering))
        time.sleep(0.01)
        for pid, (mutant, started, timeout, count) in list(running.items()):
            finished, status = os.waitpid(pid, os.WNOHANG)
            elapsed = time.perf_counter() - started
            if finished == 0:
                if elapsed > timeout:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    _cleanup(database, pid)
                    del running[pid]
                    results.append(Result(mutant, "timeout", count, elapsed))
                    progress()
                continue
            del running[pid]
            exit_code = os.waitstatus_to_exitcode(status)
            outcome = {0: "survived", 1: "killed", 3: "invalid"}.get(exit_code, "killed")
            results.append(Result(mutant, outcome, count, elapsed))
            progress()
    return results


def _cleanup(database: str | None, pid: int) -> None:
    for suffix in ("", "-wal", "-shm", ".writer-lock"):
        with contextlib.suppress(OSError):
            os.unlink(f"{database}.mutant-{pid}{suffix}")


def score(results: list[Result]) -> tuple[int, int, float]:
    """Killed and counted mutants (invalid ones are not counted), and the killed share."""
    counted = [r for r in results if r.outcome != "invalid"]
    killed = sum(r.outcome in ("killed", "timeout") for r in counted)
    return killed, len(counted), (killed / len(counted) if counted else 1.0)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session):
    target = session.config.getoption("mutate")
    if not target:
        return None
    if session.config.option.collectonly:
        return None
    module = importlib.import_module(target)
    source = inspect.getsource(module)
    todo = mutants_module.generate(source)
    owner_filter = session.config.getoption("mutate_owner")
    if owner_filter:
        todo = [m for m in todo if re.search(owner_filter, m.owner)]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    started = time.perf_counter()
    baseline = _baseline(session, module, source)
    if reporter is not None:
        reporter.write_line(
            f"baseline: {len(session.items)} tests in {time.perf_counter() - started:.1f} s; "
            f"{len(todo)} mutants of {target}"
        )
    results = _run_mutants(
        session, module, source, todo, baseline, session.config.getoption("mutate_jobs")
    )
    session._setupstate.teardown_exact(None)
    killed, counted, share = score(results)
    _report(session, target, results, killed, counted, share, time.perf_counter() - started)
    if share < session.config.getoption("mutate_min_score"):
        session.testsfailed = max(session.testsfailed, 1)
    return True


def _report(session, target, results, killed, counted, share, seconds) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    survivors = sorted(
        (r for r in results if r.outcome in ("survived", "no_coverage")),
        key=lambda r: (r.mutant.line, r.mutant.index),
    )
    lines = [
        f"mutation score of {target}: {killed}/{counted} = {share:.1%} "
        f"({len(survivors)} survived, {seconds:.0f} s)"
    ]
    for result in survivors:
        m = result.mutant
        tag = "no test runs it" if result.outcome == "no_coverage" else f"{result.tests_run} tests"
        lines.append(f"  survived: line {m.line} {m.owner}: [{m.kind}] {m.description} ({tag})")
    if reporter is not None:
        for line in lines:
            reporter.write_line(line)
    path = session.config.getoption("mutate_report")
    if path:
        payload = {
            "module": target,
            "killed": killed,
            "counted": counted,
            "score": round(share, 4),
            "results": [asdict(r) for r in results],
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False, indent=1)

"""Chat load benchmark: N concurrent chat sessions against a real server of the project.

Not a test. It migrates a separate database, creates N conversations with an operator,
starts the production server (`--server gunicorn`, the default: gunicorn with uvicorn
workers and deploy/gunicorn.conf.py, as `make serve`; `--workers` processes, one without
Redis) or daphne (`--server daphne`, what `make run` uses) on 127.0.0.1 and runs
`load_client.py` in a second
process: per conversation one visitor socket that writes and one observer socket (a second
tab of the same chat) that receives. Delivery latency is the time from the visitor's send
to the observer receiving that message (server: dedupe check, seq claim, insert, commit,
channel-layer fan-out); loss is messages acknowledged or sent but never delivered, plus
duplicates. Bounded: every phase has a deadline and the script stops by itself.

    .venv/bin/python bench/chat/run.py --sessions 1000 --messages 3 --duration 30
    .venv/bin/python bench/chat/run.py --server daphne --sessions 1000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/otklik_chat_bench \\
    REDIS_URL=redis://127.0.0.1:6379/3 OTKLIK_CHANNEL_LAYER=redis-pubsub \\
      .venv/bin/python bench/chat/run.py --sessions 1000 --messages 3 --duration 30

Per-message samples ([seconds since the first send, latency ms]) go next to `--out`.
"""

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=5, help="per session")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of sending")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--server", choices=["gunicorn", "daphne"], default="gunicorn")
    parser.add_argument(
        "--workers", type=int, default=0, help="gunicorn processes (default: as configured)"
    )
    parser.add_argument("--out", default=str(ROOT / "var" / "bench" / "chat.json"))
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_database(url: str) -> None:
    if url.startswith("postgres"):
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(base + "/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [name]).fetchone()
            if exists:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, timeout=600
    )


def create_sessions(n: int) -> list[dict]:
    import django

    django.setup()
    from django.utils import timezone

    from otklik.accounts.models import Role, User
    from otklik.chat.models import Conversation, ConversationStatus, new_token

    operator, _ = User.objects.get_or_create(
        username="bench-operator", defaults={"role": Role.OPERATOR}
    )
    now = timezone.now()
    tokens, rows = [], []
    for _ in range(n):
        raw, hashed = new_token()
        tokens.append(raw)
        rows.append(
            Conversation(
                visitor_token_hash=hashed,
                status=ConversationStatus.ASSIGNED,
                operator=operator,
                created_at=now,
                queued_at=now,
                assigned_at=now,
            )
        )
    created = Conversation.objects.bulk_create(rows, batch_size=500)
    return [{"id": c.pk, "token": t} for c, t in zip(created, tokens, strict=True)]


def main() -> None:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otklik.settings")
    os.environ.setdefault("OTKLIK_TASKS_BACKEND", "dummy")
    sys.path.insert(0, str(ROOT / "src"))
    database_url = os.environ.get(
        "DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench' / 'chat.sqlite3'}"
    )
    os.environ["DATABASE_URL"] = database_url
    if database_url.startswith("sqlite"):
        Path(database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    ensure_database(database_url)
    sessions = create_sessions(args.sessions)
    sessions_file = Path(args.out).with_suffix(".sessions.json")
    sessions_file.write_text(json.dumps(sessions))
    print(f"setup {time.monotonic() - t0:.1f}s: {len(sessions)} conversations", flush=True)

    port = args.port or free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "LOG_LEVEL": "WARNING"}
    if args.server == "gunicorn":
        env.update({"HOST": "127.0.0.1", "PORT": str(port), "OTKLIK_LOG_FORMAT": "json"})
        if args.workers:
            env["WEB_CONCURRENCY"] = str(args.workers)
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "--config",
            "deploy/gunicorn.conf.py",
            "otklik.asgi:application",
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "otklik.asgi:application",
        ]
    # The server's own log (warnings and errors only) is kept: a socket the server closed
    # shows up in the figures as messages never sent or never delivered, and the reason is here.
    server_log_path = ROOT / "var" / "bench" / f"chat-server-{args.server}.log"
    server_log_path.parent.mkdir(parents=True, exist_ok=True)
    server_log = server_log_path.open("w")
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        result = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).with_name("load_client.py")),
                "--port",
                str(port),
                "--sessions-file",
                str(sessions_file),
                "--messages",
                str(args.messages),
                "--duration",
                str(args.duration),
                "--samples",
                str(Path(args.out).with_suffix(".samples.json")),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=args.duration + 300,
        )
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            raise SystemExit(result.returncode)
        figures = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()
    print(f"server log: {server_log_path}", file=sys.stderr)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    figures.update(
        {
            "server": args.server,
            "workers": (1 if not os.environ.get("REDIS_URL") else args.workers or "default")
            if args.server == "gunicorn"
            else 1,
            "sessions": args.sessions,
            "database": database_url.split(":", 1)[0],
            "channel_layer": (
                os.environ.get("OTKLIK_CHANNEL_LAYER", "redis")
                if os.environ.get("REDIS_URL")
                else "in-memory"
            ),
            "cpu": cpu,
            "cores": os.cpu_count(),
            "load_average_after": os.getloadavg(),
        }
    )
    Path(args.out).write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

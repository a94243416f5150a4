"""The load generator for bench/chat/run.py: a separate process on loopback.

Opens two sockets per conversation (a visitor that writes, an observer that reads), sends
`--messages` per visitor spread at random over `--duration` seconds, and prints one JSON
line: sessions connected, messages sent/acked/delivered, latency p50/p99/max (ms), lost
and duplicated counts; with `--samples`, every message's send time and latency.
"""

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import time
from pathlib import Path

import websockets


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sessions-file", required=True)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--samples", default="", help="write [sent_at_s, latency_ms] per message")
    return parser.parse_args()


class Stats:
    def __init__(self):
        self.sent: dict[str, float] = {}
        self.acked: set[str] = set()
        self.delivered: dict[str, float] = {}
        self.duplicates = 0
        self.connect_failures = 0
        self.errors = 0


async def hello(ws, token: str) -> None:
    await ws.send(json.dumps({"type": "hello", "token": token, "after_seq": 0}))
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if frame["type"] == "ready":
            return


async def session(port, conv, args, stats: Stats, ready: asyncio.Event, go: asyncio.Event):
    url = f"ws://127.0.0.1:{port}/ws/chat/{conv['id']}/"
    origin = f"http://127.0.0.1:{port}"
    try:
        visitor = await websockets.connect(url, origin=origin, open_timeout=60, max_queue=None)
        observer = await websockets.connect(url, origin=origin, open_timeout=60, max_queue=None)
        await hello(visitor, conv["token"])
        await hello(observer, conv["token"])
    except Exception:
        stats.connect_failures += 1
        ready.set()
        return
    ready.set()
    mine = [f"{conv['id']}-{i}" for i in range(args.messages)]
    remaining = set(mine)

    async def observe():
        seen: set[str] = set()
        async for raw in observer:
            frame = json.loads(raw)
            if frame.get("type") != "message":
                continue
            cid = frame["message"].get("client_msg_id")
            if cid not in stats.sent:
                continue
            if cid in seen:
                stats.duplicates += 1
                continue
            seen.add(cid)
            stats.delivered[cid] = time.perf_counter() - stats.sent[cid]
            remaining.discard(cid)
            if not remaining:
                return

    async def drain_acks():
        async for raw in visitor:
            frame = json.loads(raw)
            if frame.get("type") == "ack":
                stats.acked.add(frame["client_msg_id"])
            elif frame.get("type") == "error":
                stats.errors += 1

    watcher = asyncio.create_task(observe())
    acks = asyncio.create_task(drain_acks())
    await go.wait()
    times = sorted(random.uniform(0, args.duration) for _ in mine)
    start = time.perf_counter()
    for cid, at in zip(mine, times, strict=True):
        delay = start + at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        stats.sent[cid] = time.perf_counter()
        await visitor.send(json.dumps({"type": "message", "client_msg_id": cid, "body": cid}))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(watcher, 30)
    await asyncio.sleep(0.5)
    acks.cancel()
    await visitor.close()
    await observer.close()


async def main() -> None:
    args = parse_args()
    sessions = json.loads(Path(args.sessions_file).read_text())
    stats = Stats()
    go = asyncio.Event()
    readies = [asyncio.Event() for _ in sessions]
    t0 = time.perf_counter()
    tasks = []
    for conv, ready in zip(sessions, readies, strict=True):
        tasks.append(asyncio.create_task(session(args.port, conv, args, stats, ready, go)))
        await asyncio.sleep(0.02)  # a gentle ramp: 50 sessions (100 sockets) per second
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 240)
    connect_seconds = time.perf_counter() - t0
    go.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), args.duration + 120)
    latencies = sorted(v * 1000 for v in stats.delivered.values())
    if args.samples:
        go_at = min(stats.sent.values(), default=0.0)
        samples = sorted(
            [round(stats.sent[cid] - go_at, 4), round(stats.delivered[cid] * 1000, 2)]
            for cid in stats.delivered
        )
        Path(args.samples).write_text(json.dumps(samples))

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2)

    print(
        json.dumps(
            {
                "sessions": len(sessions),
                "sockets": 2 * (len(sessions) - stats.connect_failures),
                "connect_failures": stats.connect_failures,
                "connect_seconds": round(connect_seconds, 1),
                "messages_sent": len(stats.sent),
                "messages_acked": len(stats.acked),
                "messages_delivered": len(stats.delivered),
                "lost": len(stats.sent) - len(stats.delivered),
                "duplicates": stats.duplicates,
                "errors": stats.errors,
                "rate_per_second": round(len(stats.sent) / args.duration, 1),
                "p50_ms": pct(0.50) if latencies else None,
                "p99_ms": pct(0.99) if latencies else None,
                "max_ms": round(latencies[-1], 2) if latencies else None,
                "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())

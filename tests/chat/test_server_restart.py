"""A real ASGI server (daphne) is killed between messages and started again.

The visitor client behaves like the widget: an outbox of unacknowledged messages resent with
the same client ids after each reconnect, and catch-up "after the last seq seen". After two
SIGKILLs the visitor has every message exactly once, in order, and the server stored each
visitor message once.
"""

import asyncio
import json

import pytest

from tests.chat.server import Server, database_url

websockets = pytest.importorskip("websockets")

pytestmark = pytest.mark.django_db(transaction=True)


async def _visitor_run(server: Server, conversation: int, token: str, total: int, kill_after):
    port = server.port
    url = f"ws://127.0.0.1:{port}/ws/chat/{conversation}/"
    origin = f"http://127.0.0.1:{port}"
    outbox = [(f"r-{i}", f"сообщение {i}") for i in range(total)]
    seen: list[int] = []
    sent = 0
    while outbox:
        try:
            async with websockets.connect(url, origin=origin, open_timeout=5) as ws:
                await ws.send(
                    json.dumps(
                        {"type": "hello", "token": token, "after_seq": seen[-1] if seen else 0}
                    )
                )
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if frame["type"] == "message":
                        seen.append(frame["message"]["seq"])
                    elif frame["type"] == "ready":
                        break
                for client_id, body in list(outbox):  # resend everything unacknowledged
                    await ws.send(
                        json.dumps({"type": "message", "client_msg_id": client_id, "body": body})
                    )
                    sent += 1
                    if sent in kill_after:
                        server.kill()  # mid-stream: the ack may or may not have left
                        server.start()
                        raise ConnectionError("killed")
                    while True:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                        if frame["type"] == "message":
                            seen.append(frame["message"]["seq"])
                        elif frame["type"] == "ack" and frame["client_msg_id"] == client_id:
                            outbox.remove((client_id, body))
                            break
        except (ConnectionError, OSError, websockets.ConnectionClosed, TimeoutError):
            await asyncio.sleep(0.2)
    # A final reconnect picks up anything still in flight.
    async with websockets.connect(url, origin=origin) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token, "after_seq": seen[-1]}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if frame["type"] == "message":
                seen.append(frame["message"]["seq"])
            elif frame["type"] == "ready":
                break
    return seen


def test_server_killed_between_messages_loses_and_duplicates_nothing(tmp_path):
    server = Server(database_url(tmp_path))
    server.start()
    try:
        started = server.http("POST", "/chat/api/start/")
        conversation, token = started["conversation"], started["token"]
        # Hand off first, so the rest is plain chat (the bot is tested elsewhere).
        server.http(
            "POST",
            f"/chat/api/{conversation}/messages/",
            token,
            {"client_msg_id": "h-0", "body": "позовите оператора"},
        )
        seen = asyncio.run(_visitor_run(server, conversation, token, total=12, kill_after={4, 9}))
        stored = server.http("GET", f"/chat/api/{conversation}/poll/?after_seq=0", token)
    finally:
        server.kill()
    stored_seqs = [m["seq"] for m in stored["messages"]]
    assert seen == stored_seqs  # zero loss, zero duplicates, order kept
    ids = [m["client_msg_id"] for m in stored["messages"] if m["sender"] == "visitor"]
    assert sorted(ids) == sorted(["h-0", *(f"r-{i}" for i in range(12))])  # each stored once

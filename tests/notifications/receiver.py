"""A local webhook receiver (http.server in a thread) that behaves like a gateway.

It checks the HMAC signature, deduplicates by the Idempotency-Key header (so `processed`
holds each key once however often it is delivered), and can fail or hang on purpose.
"""

import hashlib
import hmac
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    def __init__(self, *, secret: str = "", fail_first: int = 0, status: int = 500):
        self.secret = secret
        self.fail_first = fail_first
        self.fail_status = status
        self.requests: list[dict] = []  # every request, in arrival order
        self.processed: dict[str, dict] = {}  # key → payload, each key once
        self.hang_keys: set[str] = set()  # first request for these keys blocks
        self.hanging = threading.Event()  # set while a request is held
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver._handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def keys(self) -> Counter:
        with self.lock:
            return Counter(r["key"] for r in self.requests)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        key = handler.headers.get("Idempotency-Key", "")
        signature_ok = True
        if self.secret:
            ts = handler.headers.get("X-Otklik-Timestamp", "")
            expected = (
                "sha256="
                + hmac.new(
                    self.secret.encode(), ts.encode() + b"." + body, hashlib.sha256
                ).hexdigest()
            )
            signature_ok = hmac.compare_digest(
                expected, handler.headers.get("X-Otklik-Signature", "")
            )
        with self.lock:
            first_for_key = all(r["key"] != key for r in self.requests)
            self.requests.append({"key": key, "body": json.loads(body), "signed": signature_ok})
            failing = len(self.requests) <= self.fail_first
        if first_for_key and key in self.hang_keys:
            # Simulate a gateway that accepted the message but whose answer never reaches
            # the sender (the sender is killed meanwhile).
            with self.lock:
                self.processed.setdefault(key, json.loads(body))
            self.hanging.set()
            self.release.wait(30)
            status = 200
        elif not signature_ok:
            status = 401
        elif failing:
            status = self.fail_status
        else:
            with self.lock:
                self.processed.setdefault(key, json.loads(body))  # dedup by key
            status = 200
        try:
            handler.send_response(status)
            handler.send_header("Content-Length", "2")
            handler.end_headers()
            handler.wfile.write(b"{}")
        except OSError:
            pass  # the sender is gone

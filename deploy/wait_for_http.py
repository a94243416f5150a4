"""Wait until a URL answers (any HTTP status below 500), then exit 0; exit 1 on timeout.

Standard library only, so it costs nothing to start: `make run` uses it to start the worker
and print the logins once the server answers, not while the server is still booting on
the same two cores. Usage: wait_for_http.py URL [TIMEOUT_SECONDS]
"""

import sys
import time
import urllib.error
import urllib.request


def answered(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own URL)
            return response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


def main() -> int:
    url = sys.argv[1]
    deadline = time.monotonic() + float(sys.argv[2] if len(sys.argv) > 2 else 600)
    while time.monotonic() < deadline:
        if answered(url):
            return 0
        time.sleep(0.25)
    return 1


if __name__ == "__main__":
    sys.exit(main())

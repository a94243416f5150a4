"""A random secret created once per install in a file only its owner can read.

Used for development defaults of secrets that must not be in the repository nor derived
from another secret: the first process to start creates the file, every other process
(web server, worker) reads the same value.
"""

import os
import secrets
from pathlib import Path


def read_or_create_key(path: Path) -> str:
    """The key in `path`; created (0600, atomically, 32 random bytes) if absent."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    try:
        os.link(temporary, path)  # fails if another process created it first: keep theirs
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_text().strip()

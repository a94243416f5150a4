"""SQLite with writers queued on an OS file lock instead of SQLite's busy handler.

SQLite has one writer at a time. A second connection that wants to write sleeps in
SQLite's busy handler for 1, 2, 5, 10, 15 … ms between retries, so with two web
processes writing short transactions (an intake holds the lock for ~2 ms) the waiter
usually sleeps past the moment the lock became free. Here every write transaction
(`atomic` starts one with BEGIN IMMEDIATE) first takes an exclusive `flock` on a file
next to the database, polled every 0.2 ms, and releases it at COMMIT or ROLLBACK; SQLite's
own lock is then almost always free when BEGIN IMMEDIATE runs. The wait is bounded by the
database timeout, after which the caller gets SQLite's own "database is locked".
"""

import fcntl
import os
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

POLL_SECONDS = 0.0002


class DatabaseWrapper(base.DatabaseWrapper):
    writer_lock_fd: int | None = None
    writer_lock_held = False

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        self._close_writer_lock()
        if not self.is_in_memory_db():
            path = f"{self.settings_dict['NAME']}.writer-lock"
            self.writer_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return connection

    def _start_transaction_under_autocommit(self):
        self._acquire_writer_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._close_writer_lock()

    def _acquire_writer_lock(self) -> None:
        if self.writer_lock_fd is None or self.writer_lock_held:
            return
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self.writer_lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.writer_lock_held = True
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(POLL_SECONDS)

    def _release_writer_lock(self) -> None:
        if self.writer_lock_held and self.writer_lock_fd is not None:
            fcntl.flock(self.writer_lock_fd, fcntl.LOCK_UN)
        self.writer_lock_held = False

    def _close_writer_lock(self) -> None:
        self._release_writer_lock()
        if self.writer_lock_fd is not None:
            os.close(self.writer_lock_fd)
            self.writer_lock_fd = None

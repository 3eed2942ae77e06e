"""A lock on a run directory while a run trains, so two `repro run` processes never train one run.

``<run_dir>/.lock`` holds JSON naming its owner (host, pid, start time, command line). The lock
itself is an ``flock`` on that file: the kernel releases it when the owner exits, however it exits,
so a lock whose owner is dead is simply taken over by the next process. A running owner refreshes
the file's mtime every `HEARTBEAT_S` seconds; on a file system shared by several machines (where
flock may not reach across hosts), a lock written by another host is honoured while its heartbeat
is younger than `STALE_S`, and taken over after that.

    lock = try_lock(run_dir)
    if lock is None:           # a live process holds it: skip this run
        ...
    with lock:                 # released (and the file removed) on exit
        ...train...

`holder(run_dir)` describes the current owner for the "skipped" message.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

LOCK_NAME = ".lock"
HEARTBEAT_S = 60.0
STALE_S = 600.0  # a foreign host's lock without a heartbeat for this long is taken over


def _owner() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "argv": sys.argv}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def read_owner(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class RunLock:
    """A held lock; a context manager that releases it."""

    def __init__(self, path: Path, fd: int):
        self.path, self.fd = path, fd
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True, name=f"runlock {path.parent.name}")
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def release(self) -> None:
        import fcntl

        if self.fd < 0:
            return
        self._stop.set()
        with contextlib.suppress(OSError):
            if os.fstat(self.fd).st_ino == os.stat(self.path).st_ino:
                self.path.unlink()  # unlink before unlocking: a waiter that got our inode sees it is gone
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = -1

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def try_lock(run_dir: str | os.PathLike) -> RunLock | None:
    """Take the run directory's lock, or return None when a live process holds it."""
    import fcntl

    path = Path(run_dir) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(5):  # the file can be replaced between open and flock: retry on a fresh one
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same_file = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same_file = False
        if not same_file:  # the owner released and removed it meanwhile
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            continue
        previous = read_owner(path)
        if previous and previous.get("host") != socket.gethostname():
            age = time.time() - os.fstat(fd).st_mtime
            if age < STALE_S:  # another machine's run, heartbeat fresh: flock does not reach across hosts
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
                return None
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(_owner()) + "\n").encode(), 0)
        return RunLock(path, fd)
    return None


def holder(run_dir: str | os.PathLike) -> str:
    """Who holds a run directory's lock, in words (for the message of the process that skips)."""
    owner = read_owner(Path(run_dir) / LOCK_NAME)
    if not owner:
        return "another process"
    alive = "" if owner.get("host") != socket.gethostname() or _pid_alive(int(owner.get("pid", 0))) else " (exiting)"
    return f"pid {owner.get('pid')} on {owner.get('host')}{alive}, since {owner.get('started')}"

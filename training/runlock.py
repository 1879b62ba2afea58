"""One process per run folder: a lock file created exclusively, released when the run ends.

Two trainers writing one folder would interleave their metric rows and overwrite each other's
checkpoints, so `RunDir.start()` takes this lock before it looks at the folder (the checks that
decide "fresh or resume" then run under it: two runs started at the same instant cannot both
pass them) and releases it when the run ends, also on an error or KeyboardInterrupt::

    OUT/run.lock    {"pid": 4242, "host": "node7", "started": "2024-05-01T12:00:00Z",
                     "pid_start": 12345678, "token": "..."}

The file is created with O_CREAT | O_EXCL, which is atomic on local filesystems and on NFS v3
and later. A lock left by a process that died (SIGKILL, a crash, a power cut) is stale:

  * on the same host, its PID is not alive, is a zombie, or belongs to a younger process (the
    PID was reused: `pid_start`, the process's start time from /proc, differs): it is taken
    over silently;
  * on another host nothing can be checked from here: the run is refused with the host, the
    PID and the file to delete once that run is known to be dead.

Same-host acquirers are serialized by a flock(2) on the folder for the few microseconds of
check-and-create (where the filesystem supports it), so two processes cannot both take over
one stale lock. `RunLock.release()` removes the file only while it still holds this process's
token.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

from seli_exact.errors import SeliInputError, output_error

LOCK_NAME = "run.lock"
_READ_TRIES = 20  # a lock being written (another host, between create and write): 1 s at most


def _proc_start(pid: int) -> int | None:
    """The start time of process `pid` in clock ticks since boot (/proc/PID/stat field 22);
    -1 for a zombie, None when /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # after "pid (comm) ": state is fields[0]
    if fields and fields[0] in ("Z", "X"):
        return -1  # a zombie or dead process holds nothing
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def alive(pid: int, pid_start: int | None = None) -> bool:
    """Whether process `pid` (started at `pid_start` ticks, when known) is still running here."""
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    if os.name == "nt":  # os.kill would end the process there: nothing is known, so it lives
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    start = _proc_start(pid)
    if start == -1:
        return False
    if start is not None and pid_start is not None and start != pid_start:
        return False  # the PID now names another process
    return True


@contextlib.contextmanager
def _serialized(folder: Path):
    """flock(2) on the folder while the lock file is checked and created (best effort)."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            pass  # a filesystem without flock: O_EXCL alone still keeps two creators apart
        yield
    finally:
        os.close(fd)  # releases the flock


class RunLock:
    """The lock of one run folder (see the module docstring)."""

    def __init__(self, folder, name: str = LOCK_NAME):
        self.folder = Path(folder)
        self.path = self.folder / name
        self.held = False
        self._token = secrets.token_hex(8)

    def record(self) -> dict:
        return {"pid": os.getpid(), "host": socket.gethostname(),
                "started": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "pid_start": _proc_start(os.getpid()), "token": self._token}

    def read(self) -> dict | None:
        """The holder's record, or None when the file is gone; waits briefly for a lock that
        is being written, and gives {} for one that stays unreadable."""
        for _ in range(_READ_TRIES):
            try:
                text = self.path.read_text()
            except FileNotFoundError:
                return None
            except OSError:
                text = ""
            try:
                rec = json.loads(text)
                if isinstance(rec, dict) and "pid" in rec and "host" in rec:
                    return rec
            except ValueError:
                pass
            time.sleep(0.05)
        return {}

    def acquire(self) -> None:
        """Take the lock, taking over a stale one of this host; SeliInputError when another
        live run holds it (nothing is changed then)."""
        with _serialized(self.folder):
            for _ in range(3):  # a holder may vanish between our create and our read
                try:
                    fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
                except FileExistsError:
                    holder = self.read()
                    if holder is None:
                        continue  # released meanwhile: try again
                    self._refuse_or_clear(holder)
                    continue
                except OSError as err:
                    raise output_error(self.path, err) from None
                try:
                    data = (json.dumps(self.record()) + "\n").encode()
                    while data:
                        data = data[os.write(fd, data):]
                    os.fsync(fd)
                except OSError as err:
                    os.close(fd)
                    self.path.unlink(missing_ok=True)
                    raise output_error(self.path, err) from None
                os.close(fd)
                self.held = True
                return
        raise SeliInputError(
            f"`--out` {self.folder}: its lock {self.path} keeps changing hands; another run is "
            "starting there. Wait for it, or pick another folder."
        )

    def _refuse_or_clear(self, holder: dict) -> None:
        here = socket.gethostname()
        if not holder:
            raise SeliInputError(
                f"`--out` {self.folder} holds a lock file {self.path} that cannot be read; if "
                f"no run is using the folder, delete {self.path} and start again."
            )
        pid, host, since = holder.get("pid"), holder.get("host"), holder.get("started", "?")
        if host == here:
            if alive(pid, holder.get("pid_start")):
                raise SeliInputError(
                    f"`--out` {self.folder} is in use by another run (PID {pid} on this host, "
                    f"started {since}); wait for it to end, or pick another folder."
                )
            self.path.unlink(missing_ok=True)  # stale: its process is gone
            return
        raise SeliInputError(
            f"`--out` {self.folder} is locked by a run on host {host} (PID {pid}, started "
            f"{since}); if that run is no longer alive, delete {self.path} and start again."
        )

    def release(self) -> None:
        """Remove the lock file if it is still ours (idempotent)."""
        if not self.held:
            return
        self.held = False
        try:
            rec = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if isinstance(rec, dict) and rec.get("token") == self._token:
            with contextlib.suppress(OSError):
                self.path.unlink()

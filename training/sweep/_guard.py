"""Run a command; kill it if the process that started this guard dies first.

Used as ``python _guard.py CMD ARGS...`` (run as a file, so nothing of the project is imported).
When an engine worker is killed outright its children would otherwise run on, orphaned, and
race the retry that the engine starts in the same folder. The guard polls its parent twice a
second and takes the command down with it; on Linux the command is also bound to the guard
(PR_SET_PDEATHSIG), so it dies even when the guard itself is killed (Ray kills a dead worker's
children, which would orphan the grandchild). The guard forwards SIGTERM and SIGINT, and exits
with the command's status (128 + signal number when a signal ended it).
"""

import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1


def _bind_to(guard_pid: int):
    """A preexec_fn (safe here: the guard has one thread) that kills the child with the guard."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def bind():
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != guard_pid:  # the guard died before the binding took hold
            os._exit(128 + signal.SIGKILL)

    return bind


def main(argv: list[str]) -> int:
    parent = os.getppid()
    child = subprocess.Popen(argv, preexec_fn=_bind_to(os.getpid()))

    def forward(signum, _frame):
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            rc = child.wait(timeout=0.5)
            return 128 - rc if rc < 0 else rc
        except subprocess.TimeoutExpired:
            if os.getppid() != parent:  # re-parented: whoever started us is gone
                child.kill()
                child.wait()
                return 128 + signal.SIGKILL


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The domain errors of the project.

`SeliInputError`: bad input anywhere. Every message is one sentence naming the argument, the
value seen and the fix, so the CLI can print it as it is and exit 2.

`SeliOutputError`: an output that could not be written (a full disk, a read-only or vanished
folder, a closed standard output). The work may have been done; what was already on disk is
left whole (every file is written atomically). The CLI prints the sentence and exits 1.
"""

from __future__ import annotations

import errno as _errno


class SeliInputError(ValueError):
    """An argument outside the domain of the paper's model (Definition 1, Section 2)."""


class SeliOutputError(RuntimeError):
    """An output could not be written; one sentence that names the file and the fix."""


_FIXES = {
    _errno.ENOSPC: "free some space or choose a folder on another disk",
    _errno.EDQUOT: "free some of your quota or choose a folder on another disk",
    _errno.EROFS: "choose a folder on a writable disk",
    _errno.EACCES: "choose a folder you may write to",
    _errno.EPERM: "choose a folder you may write to",
    _errno.ENOENT: "the folder was removed while the command ran; choose an existing folder",
    _errno.EIO: "check the disk, then run the command again",
    _errno.EBADF: "open it, e.g. redirect it to a file (> out.txt)",
}


def output_error(path, err: BaseException) -> SeliOutputError:
    """The SeliOutputError for a failed write of `path` (an OSError, or a library's wrapper).

    >>> import errno
    >>> str(output_error("out/fig1.png", OSError(errno.ENOSPC, "No space left on device")))
    'cannot write out/fig1.png: No space left on device; free some space or choose a folder on another disk (files written before are kept whole).'
    """
    code = getattr(err, "errno", None)
    text = str(err).strip()
    reason = getattr(err, "strerror", None) or (text.splitlines()[0] if text else "")
    reason = reason or type(err).__name__
    fix = _FIXES.get(code, "check the path and the disk, then run the command again")
    return SeliOutputError(f"cannot write {path}: {reason}; {fix} (files written before are "
                           "kept whole).")

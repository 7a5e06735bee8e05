"""The installation's secret key, created once and kept beside the data (0600), never logged.

Made with O_EXCL semantics (write a temp file, link it into place): two processes starting at
once agree on one key. A store kept in a shared database would keep the key there instead, so
that every node signs alike: it needs only a `message_id_key()` of its own.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from leakline.store.files import ensure_dir, fsync_dir, write_tmp

KEY_BYTES = 32


class SecretKeyError(OSError):
    """The key file exists but cannot be used (wrong size): refusing to make another.

    An OSError, as a damaged file is: the CLI prints it as one line."""


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`, created with fresh random bytes the first time."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    ensure_dir(path.parent)
    tmp = write_tmp(path, secrets.token_bytes(KEY_BYTES).hex().encode())
    try:
        os.link(tmp, path)  # fails if another process made the key first: use theirs
        fsync_dir(path.parent)
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return _read(path)


def _read(path: Path) -> bytes:
    text = path.read_bytes().strip()
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) < 16:
        raise SecretKeyError(f"{path}: not a usable key; restore it from a backup (a new key "
                             "would make every earlier Message-ID unrecognisable)")
    return key

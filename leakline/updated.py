"""The "updated" marker of a case: mail an officer has not seen yet (`cases list --updated`).

Stand-in for the officer's side of issue 12 (branch i12a), which ships
`leakline.listing.mark_updated(case, reason, at)` with this same signature and shape; when both
are merged this module should simply re-export that one.
"""

from __future__ import annotations


def mark_updated(case: dict, reason: str, at: str) -> None:
    """Flag a case for `cases list --updated`; the caller saves it with an audit event."""
    case["updated"] = {"at": at, "reason": reason}

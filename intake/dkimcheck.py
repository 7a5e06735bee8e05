"""leakline's own DKIM check, with DMARC's alignment, for mail that claims our domain.

dkimpy (maintained by Debian's DKIM maintainer, used by dkimpy-milter and authheaders) verifies
the signatures; alignment is DMARC's relaxed rule (RFC 7489 3.1.1) with the organisation's own
configured domains as the organizational domains, so no public-suffix list is needed: we only
ever verify claims to our own domains. DNS gets a budget (1 s per message by default); a
lookup past it, or one that fails, makes the result "temperror": not verified, not a forgery.
The resolver is injected: `resolver(name: bytes, timeout: float) -> bytes | None` (TXT).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

import dkim

from leakline.intake.headers import MAX_BLOCK, split_head

Resolver = Callable[..., "bytes | None"]
log = logging.getLogger("leakline.dkim")
MAX_SIGNATURES = 3


class _DnsTrouble(Exception):
    """A lookup that timed out, failed, or would exceed the budget."""


@dataclass(frozen=True)
class DkimResult:
    result: str  # "pass" | "fail" | "none" | "temperror"
    reason: str


def default_resolver(name: bytes, timeout: float = 1.0) -> bytes | None:
    from dkim.dnsplug import get_txt

    return get_txt(name, timeout=timeout)


class DkimChecker:
    def __init__(self, resolver: Resolver | None = None, budget: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.resolver = resolver or default_resolver
        self.budget = budget
        self.clock = clock

    def check(self, raw: bytes, aligned: Callable[[str], bool]) -> DkimResult:
        """Pass when an aligned signature (its d= aligned with the From domain) verifies."""
        if len(split_head(raw)[0]) > MAX_BLOCK:
            return DkimResult("none", "header block too large to verify")
        deadline = self.clock() + self.budget

        def lookup(name: bytes, timeout: float = 5) -> bytes | None:
            left = deadline - self.clock()
            if left <= 0:
                raise _DnsTrouble(f"DNS budget of {self.budget:g} s spent")
            try:
                answer = self.resolver(name, timeout=min(timeout, left))
            except Exception as exc:  # any resolver failure is temporary, never a forgery
                raise _DnsTrouble(f"DNS lookup failed: {type(exc).__name__}") from None
            if self.clock() > deadline:
                raise _DnsTrouble(f"DNS budget of {self.budget:g} s spent")
            return answer

        try:
            return self._verify(dkim.DKIM(raw, logger=log, timeout=self.budget), aligned, lookup)
        except _DnsTrouble as exc:
            return DkimResult("temperror", str(exc))
        except dkim.DKIMException as exc:
            return DkimResult("fail", f"DKIM: {exc}")

    def _verify(self, checker: dkim.DKIM, aligned, lookup) -> DkimResult:
        failed = None
        signatures = [v for k, v in checker.headers if k.lower() == b"dkim-signature"]
        for index in range(min(len(signatures), MAX_SIGNATURES)):
            prep = checker.verify_headerprep(index)
            domain = prep[0].get(b"d", b"").decode("ascii", "replace").lower() if prep else ""
            if not domain or not aligned(domain):
                continue  # a signature of another domain says nothing about our From
            if checker.verify(index, dnsfunc=lookup):
                return DkimResult("pass", f"DKIM signature of {domain} verified, aligned with From")
            failed = f"DKIM signature of {domain} did not verify"
        return DkimResult("fail", failed) if failed else DkimResult("none", "no aligned DKIM signature")

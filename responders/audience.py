"""Who may see case data: a sender inside the organisation's domains whose mail is not spoofed.

Only a "fail" from an upstream Authentication-Results header (RFC 8601) counts against a sender.
A forged "pass" gains an attacker nothing here, and a forged "fail" only hides case data from the
forger, so these headers can be read without knowing which MTA added them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from leakline.config import Config
from responders.guards import header_addresses, header_values

FAILING = {"spf": {"fail", "softfail"}, "dkim": {"fail"}, "dmarc": {"fail"}}
# Which property of each method names the domain it judged (RFC 8601 section 2.7).
IDENTITY_PROPS = {
    "spf": ("smtp.mailfrom", "smtp.helo"),
    "dkim": ("header.d", "header.i"),
    "dmarc": ("header.from",),
}
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)\s*(?:/\s*\d+)?\s*=\s*([a-z]+)", re.I)
_PROP = re.compile(r"([a-z0-9_-]+\.[a-z0-9_-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)", re.I)


@dataclass(frozen=True)
class Audience:
    """internal: may receive case details. flags go on the case; reasons say why, for the log."""

    internal: bool
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AuthResult:
    method: str
    result: str
    props: dict[str, str]


def parse_authentication_results(value: str) -> list[AuthResult]:
    """The method results of one Authentication-Results header value; the authserv-id is skipped."""
    text = value
    while _COMMENT.search(text):  # comments may nest: strip innermost first
        text = _COMMENT.sub(" ", text)
    results = []
    for resinfo in text.split(";")[1:]:
        match = _RESULT.match(resinfo)
        if not match:
            continue
        props = {k.lower(): v.strip('"').lower() for k, v in _PROP.findall(resinfo[match.end():])}
        results.append(AuthResult(match.group(1).lower(), match.group(2).lower(), props))
    return results


def _claims_domain(result: AuthResult, config: Config) -> bool:
    """Whether a failed check was about our domain; a check that names no domain is assumed to be."""
    identities = [result.props[p] for p in IDENTITY_PROPS.get(result.method, ()) if p in result.props]
    if not identities:
        return True
    return any(config.organization.is_internal(i if "@" in i else "@" + i) for i in identities)


def spoof_reasons(msg: Message, config: Config) -> list[str]:
    """Failed SPF/DKIM/DMARC results about our domain, from every Authentication-Results header."""
    reasons = []
    for value in header_values(msg, "Authentication-Results"):
        for result in parse_authentication_results(value):
            if result.result in FAILING.get(result.method, ()) and _claims_domain(result, config):
                reasons.append(f"Authentication-Results: {result.method}={result.result}")
    return reasons


def classify_sender(msg: Message, config: Config) -> Audience:
    """Internal iff the single From address is in org.domains and no upstream check failed for it."""
    senders = header_addresses(msg, "From")
    if len(senders) != 1:
        return Audience(False, ["external"], [f"From has {len(senders)} addresses; need exactly one"])
    sender = senders[0]
    if not config.organization.is_internal(sender):
        return Audience(False, ["external"], [f"{sender} is outside {', '.join(config.organization.domains)}"])
    spoofed = spoof_reasons(msg, config)
    if spoofed:
        return Audience(False, ["external", "spoof_suspected"],
                        [f"{sender} claims our domain but " + "; ".join(spoofed)])
    return Audience(True, [], [f"{sender} is in {', '.join(config.organization.domains)}"])


def reply_kind(audience: Audience, config: Config) -> str | None:
    """What the reporter may get: 'guidance' (case details), 'receipt' (none) or None (nothing)."""
    if audience.internal:
        return "guidance"
    return "receipt" if config.escalation.external_receipt else None

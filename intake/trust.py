"""Who is trusted: a sender is internal only when the From domain is ours AND something verified it.

Verified by one of, in this order (see the README, "Who is trusted"):
1. the message came from a host in `[service] trusted_relays` (or through `ingest` with
   `[service] ingest_trusted = true`): a relay that takes mail only from its own authenticated users;
2. the topmost Authentication-Results header whose authserv-id is `[mail] authserv_id`
   (RFC 8601) says dmarc=pass, or spf/dkim=pass aligned with the From domain; headers with any
   other authserv-id never verify anything;
3. leakline's own DKIM check (`[mail] verify_dkim`), never for a trusted relay.
A failing result about our domain, in any Authentication-Results header or from our own check,
makes the sender spoof_suspected: a forged "fail" only hides case data from the forger.
Anything else is external. Pure: the DKIM checker (and so DNS) is injected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from leakline.intake.dkimcheck import DkimChecker
from leakline.intake.headers import header_values
from leakline.intake.identity import Sender
from leakline.config import Config

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
class Trust:
    """internal: may see case data, change facts, acknowledge. verified_by: what proved it."""

    internal: bool
    verified_by: str | None = None  # "trusted_relay" | "authserv_id" | "dkim"
    flags: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {"internal": self.internal, "verified_by": self.verified_by,
                "flags": list(self.flags), "reasons": list(self.reasons)}

    @classmethod
    def from_dict(cls, value: dict | None) -> "Trust":
        """A stored trust; a record without one (stored before trust existed) is external."""
        if not value:
            return cls(False, None, ("external",), ("no trust recorded",))
        return cls(bool(value.get("internal")), value.get("verified_by"),
                   tuple(value.get("flags") or ()), tuple(value.get("reasons") or ()))


@dataclass(frozen=True)
class AuthResult:
    method: str
    result: str
    props: dict[str, str]


def _strip_comments(value: str) -> str:
    while _COMMENT.search(value):  # comments may nest: strip innermost first
        value = _COMMENT.sub(" ", value)
    return value


def authserv_id(value: str) -> str:
    """The authserv-id of one Authentication-Results value (its version, if any, dropped)."""
    return _strip_comments(value).split(";", 1)[0].split()[0].lower() if value.strip() else ""


def parse_authentication_results(value: str) -> list[AuthResult]:
    """The method results of one Authentication-Results header value; the authserv-id is skipped."""
    results = []
    for resinfo in _strip_comments(value).split(";")[1:]:
        match = _RESULT.match(resinfo)
        if not match:
            continue
        props = {k.lower(): v.strip('"').lower() for k, v in _PROP.findall(resinfo[match.end():])}
        results.append(AuthResult(match.group(1).lower(), match.group(2).lower(), props))
    return results


def org_domain(domain: str, config: Config) -> str | None:
    """Which of organization.domains `domain` is (or is under): DMARC's organizational domain."""
    domain = domain.lower().lstrip("@").rpartition("@")[2]
    return next((d for d in config.organization.domains
                 if domain == d or domain.endswith("." + d)), None)


def aligned(domain: str, from_address: str, config: Config) -> bool:
    """DMARC relaxed alignment, with our configured domains as the organizational domains."""
    ours = org_domain(from_address, config)
    return ours is not None and org_domain(domain, config) == ours


def _identities(result: AuthResult) -> list[str]:
    return [result.props[p] for p in IDENTITY_PROPS.get(result.method, ()) if p in result.props]


def spoof_reasons(msg: Message, config: Config) -> list[str]:
    """Failed SPF/DKIM/DMARC results about our domain, from every Authentication-Results header
    (a check that names no domain is taken to be about ours)."""
    reasons = []
    for value in header_values(msg, "Authentication-Results"):
        for result in parse_authentication_results(value):
            if result.result not in FAILING.get(result.method, ()):
                continue
            identities = _identities(result)
            if not identities or any(org_domain(i, config) for i in identities):
                reasons.append(f"Authentication-Results: {result.method}={result.result}")
    return reasons


def authserv_pass(msg: Message, sender: str, config: Config) -> str | None:
    """Why our own MTA's topmost Authentication-Results verifies `sender`, or None."""
    if not config.mail.authserv_id:
        return None
    ours = [v for v in header_values(msg, "Authentication-Results")
            if authserv_id(v) == config.mail.authserv_id]
    if not ours:
        return None
    for result in parse_authentication_results(ours[0]):
        if result.result != "pass" or result.method not in IDENTITY_PROPS:
            continue
        domains = [i.rpartition("@")[2] for i in _identities(result)]
        if result.method == "dmarc" and domains and domains[0] == sender.rpartition("@")[2]:
            return f"{config.mail.authserv_id}: dmarc=pass header.from={domains[0]}"
        if result.method != "dmarc" and any(aligned(d, sender, config) for d in domains):
            return f"{config.mail.authserv_id}: {result.method}=pass, aligned with {sender}"
    return None


def assess_trust(sender: Sender, msg: Message, raw: bytes, envelope: dict, config: Config,
                 dkim: DkimChecker | None = None) -> Trust:
    """Internal, external or spoof_suspected, with the reasons (see the module docstring)."""
    if sender.ambiguous:
        return Trust(False, None, ("external", "spoof_suspected"),
                     (sender.problem or "", *sender.readings))
    if not sender.address:
        return Trust(False, None, ("external",), (sender.problem or "no sender",))
    address = sender.address
    if not org_domain(address, config):
        return Trust(False, None, ("external",),
                     (f"{address} is outside {', '.join(config.organization.domains)}",))
    failed = spoof_reasons(msg, config)
    if failed:
        return Trust(False, None, ("external", "spoof_suspected"),
                     (f"{address} claims our domain but " + "; ".join(failed),))
    peer = envelope.get("peer")
    if config.service.is_trusted_relay(peer):
        return Trust(True, "trusted_relay", (), (f"{address} arrived from trusted relay {peer}",))
    passed = authserv_pass(msg, address, config)
    if passed:
        return Trust(True, "authserv_id", (), (passed,))
    checked = ()
    if dkim is not None:
        verdict = dkim.check(raw, lambda domain: aligned(domain, address, config))
        if verdict.result == "pass":
            return Trust(True, "dkim", (), (verdict.reason,))
        if verdict.result == "fail":
            return Trust(False, None, ("external", "spoof_suspected"),
                         (f"{address} claims our domain but {verdict.reason}",))
        checked = (f"DKIM {verdict.result}: {verdict.reason}",)
    return Trust(False, None, ("external",),
                 (f"{address} claims our domain, but nothing verified it (peer {peer or '?'})",
                  *checked))

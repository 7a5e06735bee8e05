"""Bounces: the one reader of delivery failures, whatever the MTA that wrote them.

flufl.bounce (Mailman's detectors: RFC 3464 DSNs, Exim, qmail, Postfix, Exchange, Yahoo, AOL,
SMTP32, Domino, ...) finds the recipients that failed, for good or for now. Around it, what
leakline needs and flufl does not give (bench/bounces.py measures both on tests/data/bounces):
- who sends a bounce: a program (From MAILER-DAEMON, postmaster or no-reply; a delivery-status
  report; a null envelope sender alone is not enough), or a person forwarding one as an attachment; never a mailing list
  (a digest quoting bounce texts is no bounce);
- the Message-IDs of what bounced, best first (the returned original, its returned headers,
  X-Original-Message-ID, In-Reply-To and References, a copy quoted in the text): its case;
- each failed recipient's DSN status and diagnostic (RFC 3464), for the person reading the case;
- where flufl names no address, a failure notice by its subject whose text names a recipient of
  the returned original (Lotus, GroupWise, OpenSMTPD, au/KDDI, Japanese ISP notices), or, with
  no original, the addresses the notice names that are not ours.
A success report (Action: delivered, relayed), a report of another type (a read receipt, an ARF
complaint: RFC 6522's report-type says what it is) or an auto-reply is no bounce.
Reads the bounded compat32 tree of intake.mime; never raises on what it reads.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email.message import Message

from leakline.intake.decode import decode_bytes, decode_header_value
from leakline.intake.headers import (header_addresses, header_values, safe_getaddresses,
                            system_local_part)
from leakline.intake.mime import parse_headers

log = logging.getLogger("leakline.bounce")
FAILURE_SUBJECT = re.compile(
    r"^\s*(undeliver|returned mail|mail delivery (failed|failure|problem)|failure (notice|delivery)"
    r"|delivery (status notification|failure|has failed)|mail system error|message status - undeliverable"
    r"|配信不能|配送エラー|送信エラー|メールエラー|エラーメール|メールを(配送|配信|送信)できません)", re.I)
_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_MSGID_LINE = re.compile(r"^message-id:\s*(<[^<>\s]+>)", re.I | re.M)
_HEADER_LINE = re.compile(r"^(received|return-path|from|to|subject|date|message-id|content-type):", re.I | re.M)
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
NOTICE_CHARS = 20_000  # of a notice's text read for addresses (the copy of the original follows)


@dataclass(frozen=True)
class Bounce:
    """What a bounce says failed. `failed`: permanent failures; `delayed`: still being retried
    (a warning: the mail may yet arrive). `message_ids`: of the message that bounced, best first."""

    failed: tuple[str, ...] = ()
    delayed: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()
    status: str | None = None
    diagnostic: str | None = None
    found_by: str = "flufl.bounce"
    forwarded: bool = False  # read from a bounce a person forwarded as an attachment
    blocks: list = field(default_factory=list, compare=False)

    @property
    def permanent(self) -> bool:
        return bool(self.failed)

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.failed + tuple(r for r in self.delayed if r not in self.failed)

    @property
    def original_message_id(self) -> str | None:
        return self.message_ids[0] if self.message_ids else None

    def details(self) -> dict:
        """For the audit trail (mail_bounced, mail_delayed)."""
        return {"original_message_id": self.original_message_id,
                "final_recipient": (self.recipients or (None,))[0], "failed": list(self.failed),
                "delayed": list(self.delayed), "status": self.status,
                "diagnostic": self.diagnostic, "found_by": self.found_by}


def read_bounce(msg: Message | None, mail_from: str) -> Bounce | None:
    """The bounce `msg` is, or None. `mail_from`: the envelope sender ('' or '<>' for null), not
    decisive (see _machine_sent); kept so that callers hand over what the listener recorded."""
    if msg is None or _list_mail(msg) or _report_type(msg) not in ("", "delivery-status"):
        return None  # a list's mail; a read receipt or a complaint says what it is (RFC 6522)
    forwarded = False
    if not _machine_sent(msg):
        msg = _forwarded_bounce(msg)
        if msg is None:
            return None
        forwarded = True
    try:
        return _read(msg, forwarded)
    except Exception:  # a detector tripping over hostile structure: no bounce, never a lost report
        log.exception("bounce detection failed; the message is treated as no bounce")
        return None


def _list_mail(msg: Message) -> bool:
    return any(key.lower().startswith("list-") for key in msg.keys()) or \
        any(v.strip().lower().startswith("list") for v in header_values(msg, "Precedence"))


def _machine_sent(msg: Message) -> bool:
    """A delivery-status report, or mail From a program's mailbox. The null envelope sender
    alone is not enough: anyone may send with MAIL FROM:<>, and a person's words read as a
    bounce would never be escalated. Nor is a program's envelope required (AOL, Exchange 5.5
    bounce with one: tests/data/bounces)."""
    if any(system_local_part(a) for a in header_addresses(msg, "From")):
        return True
    return _report_type(msg) == "delivery-status"


def _report_type(msg: Message) -> str:
    if msg.get_content_type() != "multipart/report":
        return ""
    return str(msg.get_param("report-type") or "").lower()


def _forwarded_bounce(msg: Message) -> Message | None:
    """A bounce a person forwarded as an attachment (message/rfc822), one level down."""
    for part in _parts(msg):
        if part.get_content_type() == "message/rfc822":
            inner = _inner(part)
            if inner is not None and _machine_sent(inner) and not _list_mail(inner):
                return inner
    return None


def _read(msg: Message, forwarded: bool) -> Bounce | None:
    import flufl.bounce

    temporary, permanent = flufl.bounce.all_failures(msg)
    failed, delayed = _addresses(permanent), _addresses(temporary)
    found_by = "flufl.bounce"
    if not failed and not delayed:
        failed, found_by = _notice_recipients(msg), "failure notice"
        if not failed:
            return None
    blocks = dsn_blocks(msg)
    first = next((b for b in blocks if b["final_recipient"] in failed + delayed), None) or \
        (blocks[0] if blocks else {})
    return Bounce(failed, tuple(a for a in delayed if a not in failed), _original_ids(msg),
                  first.get("status"), first.get("diagnostic") or _diagnostic(msg, failed + delayed),
                  found_by, forwarded, blocks)


def _addresses(values) -> tuple[str, ...]:
    found = {(v.decode("ascii", "replace") if isinstance(v, bytes) else str(v)).strip().lower()
             for v in values}
    return tuple(sorted(a for a in found if "@" in a))


# -- the message that bounced ---------------------------------------------------------------------

def _parts(msg: Message):
    """Every part of `msg`, not descending into attached messages."""
    stack = [msg]
    while stack:
        part = stack.pop(0)
        yield part
        if part.is_multipart() and not part.get_content_type().startswith("message/"):
            stack[:0] = [p for p in part.get_payload() if isinstance(p, Message)]


def _inner(part: Message) -> Message | None:
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) and inner else inner
    return inner if isinstance(inner, Message) else None


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload[:NOTICE_CHARS * 4], part.get_content_charset())


def _returned_headers(msg: Message) -> list[Message]:
    """The header blocks of the returned original: an attached message, returned headers, or a
    copy quoted in a text part after the notice."""
    found = []
    for part in _parts(msg):
        ctype = part.get_content_type()
        if ctype == "message/rfc822" and _inner(part) is not None:
            found.append(_inner(part))
        elif ctype == "text/rfc822-headers":
            found.append(parse_headers(part.get_payload(decode=True) or b""))
    for part in _parts(msg):
        if part.get_content_type() == "text/plain":
            text = _text(part)
            start = _HEADER_LINE.search(text)
            if start:
                found.append(parse_headers(text[start.start():].encode("utf-8", "replace")))
    return found


def _original_ids(msg: Message) -> tuple[str, ...]:
    own = set(_MSGID.findall(" ".join(header_values(msg, "Message-ID"))))
    ids: list[str] = []
    for block in _returned_headers(msg):
        ids += _MSGID.findall(" ".join(header_values(block, "Message-ID")))
    for name in ("X-Original-Message-ID", "Original-Message-ID", "In-Reply-To"):
        ids += _MSGID.findall(" ".join(header_values(msg, name)))
    ids += reversed(_MSGID.findall(" ".join(header_values(msg, "References"))))
    for part in _parts(msg):
        if part.get_content_type() == "text/plain":
            ids += _MSGID_LINE.findall(_text(part))
    return tuple(dict.fromkeys(i for i in ids if i not in own))


# -- a failure notice flufl does not know ----------------------------------------------------------

def _notice_recipients(msg: Message) -> tuple[str, ...]:
    """The recipients a failure notice names: those of the returned original it mentions (by
    address or by local part), or, without an original, every address it names but the
    notice's own and programs' ones."""
    if not FAILURE_SUBJECT.search(decode_header_value(" ".join(header_values(msg, "Subject")))):
        return ()
    notice = _notice_text(msg)
    if not notice:
        return ()
    named = {a.lower().rstrip(".") for a in _ADDRESS.findall(notice)}
    words = set(re.split(r"[\s<>()\[\]:;,\"']+", notice.lower()))
    originals = [a for block in _returned_headers(msg) for a in _recipients_of(block)]
    if originals:
        return tuple(sorted({a for a in originals if a in named or a.rpartition("@")[0] in words}))
    theirs = {a for name in ("From", "To", "Cc", "Reply-To", "Sender") for a in header_addresses(msg, name)}
    return tuple(sorted(a for a in named if a not in theirs and not system_local_part(a)))


def _notice_text(msg: Message) -> str:
    """The notice itself: its first text part up to the copy of the original."""
    part = next((p for p in _parts(msg) if p.get_content_type() == "text/plain"), None)
    text = _text(part)[:NOTICE_CHARS] if part is not None else ""
    start = _HEADER_LINE.search(text)
    return text[:start.start()] if start else text


def _recipients_of(block: Message) -> list[str]:
    return [a.lower() for _, a in safe_getaddresses(header_values(block, "To") + header_values(block, "Cc"))
            if "@" in a]


def _diagnostic(msg: Message, recipients: tuple[str, ...]) -> str | None:
    """The notice's line that names a failed recipient: what the person reading the case sees."""
    for line in _notice_text(msg).splitlines():
        if any(r in line.lower() or r.rpartition("@")[0] in line.lower() for r in recipients):
            return " ".join(line.split())[:200] or None
    return None


# -- RFC 3464 per-recipient fields ------------------------------------------------------------------

def _typed(value: str | None) -> str | None:
    """'rfc822; a@b' -> 'a@b', 'smtp; 550 5.1.1 ...' -> '550 5.1.1 ...' (RFC 3464 address-type)."""
    if not value:
        return None
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else value.strip()


def dsn_blocks(msg: Message) -> list[dict]:
    """Every per-recipient block of the delivery-status parts: final_recipient, action, status,
    diagnostic (each str or None)."""
    blocks = []
    for part in _parts(msg):
        if part.get_content_type() != "message/delivery-status" or not part.is_multipart():
            continue
        for block in part.get_payload()[1:]:
            fields: dict[str, str] = {}
            for key, value in block.raw_items():
                fields.setdefault(key.lower(), re.sub(r"\s+", " ", str(value)).strip())
            recipient = _typed(fields.get("final-recipient") or fields.get("original-recipient"))
            blocks.append({"final_recipient": recipient.lower() if recipient else None,
                           "action": (fields.get("action") or "").lower() or None,
                           "status": fields.get("status"),
                           "diagnostic": _typed(fields.get("diagnostic-code"))})
    return blocks

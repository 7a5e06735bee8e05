"""The alert to an organisation's privacy officers about a message the outbox gave up on."""

from __future__ import annotations

from leakline.responders.alerts import render_deadletter_alert
from leakline.delivery.compose import compose
from leakline.delivery.mailer import Mailer


def alert_dead_letter(mailer: Mailer, item, attempts: int | None = None) -> None:
    """Queue the alert once (its Message-ID is stable per failed message), From, in the language
    of, and to the officers of the organisation `mailer` serves: the item's own."""
    config = mailer.config
    officers = [m.email for m in config.privacy_officers()]
    if not officers:
        return
    # The item may predate mark_failed, which counted the last attempt: the record has it.
    rendered = render_deadletter_alert(config, message_id=item.id, to=list(item.recipients),
                                       subject=item.subject, error=item.last_error or "",
                                       attempts=attempts if attempts is not None else item.attempts,
                                       case_id=item.case_id, first_tried=item.created_at)
    out = compose(kind="deadletter_alert", to=officers, subject=rendered.subject,
                  text=rendered.text, html=rendered.html, config=config, case_id=item.case_id,
                  now=mailer.now(), message_id=mailer.ids().stable("deadletter", item.id))
    mailer.outbox.enqueue_bytes(out.data, message_id=out.message_id,
                                envelope_from=out.envelope_from, envelope_to=list(out.envelope_to),
                                case_id=item.case_id, kind=out.kind, subject=out.subject,
                                org=config.org.id)

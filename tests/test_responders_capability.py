"""The capability rules in-process: who may acknowledge, who may change facts, by which reply."""

from leakline.config import Config, Manager, Organization
from leakline.msgid import MessageIds
from leakline.responders.capability import may_acknowledge, may_change_facts

OFFICER, DIRECTOR = "privacy@example.com", "director@example.com"
CONFIG = Config(organization=Organization(domains=("example.com",)),
                managers=(Manager("PO", OFFICER, "privacy_officer"),
                          Manager("Director", DIRECTOR, "executive")))
IDS = MessageIds(b"k" * 32, "example.com")
ESCALATION = IDS.stable("INC-2026-0001", "escalate:initial", OFFICER)
GUIDANCE = IDS.stable("INC-2026-0001", "reply:r1", "taro@example.com")
UNSIGNED = "<0123456789abcdef0123456789abcdef.leakline@example.com>"
CASE = {"messages": [
    {"message_id": "<r1@example.com>", "direction": "in", "kind": "report"},
    {"message_id": ESCALATION, "direction": "out", "kind": "escalation", "to": [OFFICER]},
    {"message_id": GUIDANCE, "direction": "out", "kind": "guidance", "to": ["taro@example.com"]},
    {"message_id": UNSIGNED, "direction": "out", "kind": "escalation", "to": [DIRECTOR]},
]}


def reply(sender: str, parent: str, internal: bool = True) -> dict:
    return {"from": sender, "in_reply_to": parent, "references": ["<r1@example.com>", parent],
            "trust": {"internal": internal}}


def test_only_the_manager_an_escalation_went_to_acknowledges_by_replying_to_it():
    assert may_acknowledge(CASE, reply(OFFICER, ESCALATION), IDS, CONFIG) is None
    assert "not verified" in may_acknowledge(CASE, reply(OFFICER, ESCALATION, False), IDS, CONFIG)
    assert "not a reply" in may_acknowledge(CASE, reply(DIRECTOR, ESCALATION), IDS, CONFIG)
    assert "not a reply" in may_acknowledge(CASE, reply(OFFICER, GUIDANCE), IDS, CONFIG)
    assert "not a manager" in may_acknowledge(CASE, reply("taro@example.com", ESCALATION), IDS, CONFIG)
    # An escalation recorded with an unsigned id (sent before issue 9): the CLI acknowledges it.
    assert "not a reply" in may_acknowledge(CASE, reply(DIRECTOR, UNSIGNED), IDS, CONFIG)
    other = MessageIds(b"j" * 32, "example.com")
    assert "not a reply" in may_acknowledge(CASE, reply(OFFICER, ESCALATION), other, CONFIG)


def test_facts_change_only_by_a_verified_reply_to_what_was_sent_to_that_sender():
    assert may_change_facts(CASE, reply("taro@example.com", GUIDANCE), IDS, CONFIG) is None
    assert may_change_facts(CASE, reply("taro@example.com", GUIDANCE, False), IDS, CONFIG)
    assert may_change_facts(CASE, reply("hanako@example.com", GUIDANCE), IDS, CONFIG)
    assert may_change_facts(CASE, reply(OFFICER, ESCALATION), IDS, CONFIG)
    assert may_change_facts(CASE, {"from": "taro@example.com", "trust": {"internal": True}}, IDS, CONFIG)

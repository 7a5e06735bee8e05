"""Behind the real Postfix (issue 15): Postfix relays incident@ to two leakline nodes on one
PostgreSQL database (the transport with a fallback next hop); one node is killed mid-load and
every message still becomes exactly one case. Outbound, the nodes' `smtp` transport relays the
replies through Postfix into a local mailbox, and the Japanese subject and body decode right
with a standard parser."""

from __future__ import annotations

import email
import email.policy
import time

import pytest

from conftest import free_port
from mailbuilders import iso2022jp_mail
from mta_helpers import send
from test_pg_nodes import kill_node, scalar, start_node, stop_node, wait_for
from test_pg_nodes import node_config as nodes_config

pytestmark = [pytest.mark.postgres, pytest.mark.postfix]
REPORTS = 16


def node_config(tmp_path, name: str, port: int, outbound_port: int, store: dict):
    """A node whose replies go out through the Postfix under test (its outbound listener)."""
    mail = f'[mail]\ntransport = "smtp"\nrelay_host = "127.0.0.1"\nrelay_port = {outbound_port}\n'
    return nodes_config(tmp_path, name, store, port, mail)[0]


def report(n: int) -> bytes:
    return iso2022jp_mail(f"【至急】顧客名簿の誤送信 {n:02d}", f"顧客{n}名分の名簿を誤送信しました。",
                          sender=f"staff{n}@sales.example.com",
                          message_id=f"<postfix{n}@sales.example.com>")


def test_two_nodes_behind_postfix_one_killed_every_message_one_case_replies_intact(
        relay_postfix, pg_migrated, tmp_path):
    ports = [free_port(), free_port()]
    postfix = relay_postfix(ports, mechanism="fallback_relay")
    store = pg_migrated.store_config()
    nodes = [start_node(node_config(tmp_path, f"node{i + 1}", port, postfix.outbound_port, store))
             for i, port in enumerate(ports)]
    try:
        for n in range(1, REPORTS + 1):
            send(postfix.port, report(n), sender=f"staff{n}@sales.example.com")
            if n == REPORTS // 2:
                kill_node(nodes[0])  # the first next hop dies mid-load: Postfix falls back
        wait_for(lambda: scalar(pg_migrated, "SELECT count(*) FROM cases") >= REPORTS, 120)
        wait_for(lambda: scalar(pg_migrated, "SELECT count(*) FROM spool") == 0, 60)
        time.sleep(2)  # anything Postfix still had for a node would make a case now
        subjects = scalar(pg_migrated, "SELECT array_agg(summary::json->>'subject') FROM cases")
        assert sorted(subjects) == [f"【至急】顧客名簿の誤送信 {n:02d}" for n in range(1, REPORTS + 1)]

        wait_for(lambda: scalar(pg_migrated, "SELECT count(*) FROM outbox WHERE state IN "
                                "('queued', 'sending')") == 0
                 or scalar(pg_migrated, "SELECT count(*) FROM outbox WHERE state = 'sent'")
                 >= REPORTS, 60)
        wait_for(lambda: len(postfix.delivered()) >= REPORTS, 60)
        mails = [email.message_from_bytes(raw, policy=email.policy.default)
                 for raw in postfix.delivered()]
        ids = [m["Message-ID"] for m in mails]
        assert len(ids) == len(set(ids))  # none delivered twice
        guidance = [m for m in mails if m["To"] == "staff3@sales.example.com"]
        assert len(guidance) == 1
        case_id = guidance[0]["Subject"].split("]")[0].lstrip("[")
        assert guidance[0]["Subject"] == f"[{case_id}] 受付しました: 【至急】顧客名簿の誤送信 03"
        body = guidance[0].get_body(("plain",)).get_content()
        assert "報告を受け付けました" in body and f"受付番号: {case_id}" in body
    finally:
        for node in nodes:
            if node.returncode is None:
                stop_node(node)

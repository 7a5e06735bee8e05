"""The Postfix configuration in front of leakline nodes, one named snippet each: what the MTA
tests (tests/mta_helpers.py) run, and what the deploy guide shows, so the two cannot drift.

    python -m tests.mta_config --print                 # the guide's snippets, example values
    python -m tests.mta_config --print --all           # and the test-only ones
    python -m tests.mta_config --check docs/deploy.md  # exit 1 unless each is there verbatim

Snippets are `str.format` templates; `EXAMPLE` fills them for the guide, the tests fill them
with temp folders and free ports. Standard library only: this runs without the test deps.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Snippet:
    name: str
    file: str      # where it goes (itself a template: "{conf}/leakline_transport")
    purpose: str
    text: str
    shipped: bool  # in the deploy guide; False: only the test instance needs it

    def render(self, **values: str) -> str:
        return self.text.format(**values)

    def where(self, **values: str) -> str:
        return self.file.format(**values)


# --- inbound: the MX relays incident@ to the nodes --------------------------------------------

INBOUND_MAIN = Snippet("inbound-main", "main.cf", "accept mail for the incident address only, "
                       "and route it by the table below (`postfix reload` after editing either "
                       "table)", """\
relay_domains = {domain}
relay_recipient_maps = texthash:{conf}/leakline_recipients
transport_maps = texthash:{conf}/leakline_transport
""", shipped=True)

RECIPIENTS = Snippet("recipients", "{conf}/leakline_recipients",
                     "the addresses leakline takes (every other one is refused at RCPT)", """\
{incident} OK
""", shipped=True)

# A list of next hops (Postfix 3.5 and later) is tried in order in each delivery attempt: the
# second node gets the mail when the first refuses the connection or answers 4xx (e.g. the 451 a
# node gives while its database is down). Both fail: the mail waits in the queue for the retry.
TRANSPORT = Snippet("transport", "{conf}/leakline_transport",
                    "relay to the leakline nodes, first listed first", """\
{incident} leakline-nodes:{nexthops}
""", shipped=True)

NODES_MASTER = Snippet("nodes-master", "master.cf",
                       "the SMTP client for the nodes, logged under its own name", """\
leakline-nodes unix -       -       n       -       -       smtp
  -o syslog_name=postfix/leakline-nodes
""", shipped=True)

# The other mechanism Postfix 3.7 has, tested too, not shipped: one primary next hop, and
# smtp_fallback_relay for the rest (a transport option, so it never touches other mail).
FALLBACK_TRANSPORT = Snippet("fallback-transport", "{conf}/leakline_transport",
                             "alternative: one node as the next hop", """\
{incident} leakline-nodes:{primary}
""", shipped=False)

FALLBACK_MASTER = Snippet("fallback-master", "master.cf",
                          "alternative: the other nodes as fallback relays",
                          NODES_MASTER.text + """\
  -o smtp_fallback_relay={fallback}
""", shipped=False)

# --- or: Postfix hands incident@ to `leakline ingest` on its own host (no node listens) --------

# With the inbound snippets above (relay_domains, relay_recipient_maps, transport_maps), this
# transport table instead of the one that names the nodes. Exit 75 from ingest defers the mail.
PIPE_TRANSPORT = Snippet("pipe-transport", "{conf}/leakline_transport",
                         "or: hand the incident address to the pipe below", """\
{incident} leakline:
""", shipped=True)

# `${{sender}}` and `${{recipient}}` each stay one argument, whatever the address holds;
# `--recipient` repeats per recipient; null_sender= keeps a bounce's sender empty (the default
# is MAILER-DAEMON). Never as root: the user that owns data_dir, as `leakline serve` runs.
PIPE_MASTER = Snippet("pipe-master", "master.cf",
                      "the pipe: `leakline ingest` for each message, as the service's user", """\
leakline  unix  -       n       n       -       -       pipe
  flags=Rq null_sender= user={user}
  argv={leakline} --config {config}
  ingest - --sender=${{sender}} --recipient=${{recipient}}
""", shipped=True)

# The alias form, where the incident domain is one of this host's mydestination: local(8) runs
# the command as the owner of the alias database, so it has a file of its own that the service's
# user owns (`postalias`, then chown both files), beside the system's aliases.
ALIAS_MAIN = Snippet("alias-main", "main.cf",
                     "or, for a domain in mydestination: an alias file the service's user owns", """\
alias_maps = hash:{system_aliases}, hash:{conf}/leakline_aliases
alias_database = hash:{system_aliases}, hash:{conf}/leakline_aliases
""", shipped=True)

ALIAS = Snippet("alias", "{conf}/leakline_aliases",
                "the alias (local(8) passes the envelope in $SENDER and $RECIPIENT)", """\
incident: "|{leakline} --config {config} ingest -"
""", shipped=True)

# --- outbound: leakline's replies (`[mail] transport = "smtp"`) go out through Postfix --------

# Like the stock submission service: the nodes send to anyone, so recipients are not checked
# against this host's tables (relay_recipient_maps lists incident@ only).
OUTBOUND_MASTER = Snippet("outbound-master", "master.cf",
                          "a listener for the nodes' replies; only the nodes may relay through "
                          "it (leakline: relay_host and relay_port)", """\
{outbound_listen} inet n       -       n       -       -       smtpd
  -o syslog_name=postfix/leakline-out
  -o mynetworks={node_networks}
  -o smtpd_client_restrictions=permit_mynetworks,reject
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_reject_unlisted_recipient=no
""", shipped=True)

# --- test-only: a private instance whose outbound mail lands in a Maildir ---------------------

# On top of the paths and names of tests/postfix_helpers.py's instance (mta_helpers adds them).
TEST_MAIN = Snippet("test-main", "main.cf", "a private instance: a relay, no local domain", """\
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
# Nothing leaves this test: what would go out (bounces included) lands in the test's Maildir.
# (Not the error transport: smtpd refuses a recipient that resolves to it, content_filter or not.)
default_transport = outbound-trap:
""", shipped=False)

FAST_RETRY_MAIN = Snippet("fast-retry", "main.cf", "retry deferred mail within seconds", """\
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
""", shipped=False)

# What the outbound listener accepted goes to virtual(8), which writes every recipient's copy
# into one Maildir, instead of out to the world.
TRAP_OPTION = Snippet("trap-option", "master.cf", "appended to the outbound listener", """\
  -o content_filter=outbound-trap:
""", shipped=False)

# Its settings are the agent's own options: in main.cf, virtual_mailbox_maps would make every
# domain a virtual one (virtual_mailbox_domains defaults to it) and take inbound mail too.
TRAP_MASTER = Snippet("trap-master", "master.cf", "the delivery agent of the trap", """\
outbound-trap unix -    n       n       -       -       virtual
  -o virtual_mailbox_base={root}
  -o virtual_mailbox_maps=static:mailbox/
  -o virtual_uid_maps=static:{uid}
  -o virtual_gid_maps=static:{gid}
""", shipped=False)

# The MX's listener: the test's clients are on loopback, in mynetworks, yet treated as the
# internet is (no relaying, unknown recipients refused).
TEST_LISTENER = Snippet("test-listener", "master.cf", "the inbound listener of the test", """\
{inbound_listen} inet n       -       n       -       -       smtpd
  -o smtpd_relay_restrictions=reject_unauth_destination
""", shipped=False)

# Services a stock master.cf has and tests/postfix_helpers.py's instance does not need: smtpd
# reads relay_recipient_maps through proxymap.
TEST_SERVICES = Snippet("test-services", "master.cf", "services beyond the pipe instance's", """\
proxymap  unix  -       -       n       -       -       proxymap
""", shipped=False)

SNIPPETS = (INBOUND_MAIN, RECIPIENTS, TRANSPORT, NODES_MASTER, PIPE_TRANSPORT, PIPE_MASTER,
            ALIAS_MAIN, ALIAS, OUTBOUND_MASTER,
            FALLBACK_TRANSPORT, FALLBACK_MASTER, TEST_MAIN, FAST_RETRY_MAIN, TRAP_OPTION,
            TRAP_MASTER, TEST_LISTENER, TEST_SERVICES)

# Which test instance runs which shipped snippets: the relay in front of nodes
# (tests/mta_helpers.py), the pipe and the alias (tests/postfix_helpers.py).
RELAY = (INBOUND_MAIN, RECIPIENTS, TRANSPORT, NODES_MASTER, OUTBOUND_MASTER)
PIPE = (INBOUND_MAIN, RECIPIENTS, PIPE_TRANSPORT, PIPE_MASTER)
ALIASED = (ALIAS_MAIN, ALIAS)

# The values the deploy guide shows: two nodes on a private network, Postfix on 10.0.0.10, the
# incident address on a subdomain of its own (MX: this Postfix), the staff's mail on
# example.co.jp (MX: the company's mail system), so leakline's replies to managers never come
# back through this relay.
EXAMPLE = {
    "domain": "privacy.example.co.jp",
    "incident": "incident@privacy.example.co.jp",
    "conf": "/etc/postfix",
    "nexthops": "[10.0.0.11]:8025, [10.0.0.12]:8025",
    "primary": "[10.0.0.11]:8025",
    "fallback": "[10.0.0.12]:8025",
    "outbound_listen": "10.0.0.10:10587",
    "node_networks": "10.0.0.11/32,10.0.0.12/32",
    "user": "leakline",
    "leakline": "/usr/local/bin/leakline",
    "config": "/etc/leakline/leakline.toml",
    "system_aliases": "/etc/aliases",
}


def shipped(snippets=SNIPPETS) -> list[Snippet]:
    return [s for s in snippets if s.shipped]


def printable(snippet: Snippet, values: dict) -> str:
    return f"# {snippet.where(**values)}: {snippet.purpose}\n{snippet.render(**values)}"


def missing_from(document: str, values: dict = EXAMPLE) -> list[str]:
    """The names of the shipped snippets that `document` does not contain verbatim."""
    return [s.name for s in shipped() if s.render(**values) not in document]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mta_config", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--print", action="store_true", help="print the snippets")
    action.add_argument("--check", metavar="FILE", type=Path,
                        help="exit 1 unless FILE contains every shipped snippet verbatim")
    parser.add_argument("--all", action="store_true", help="with --print: test-only ones too")
    args = parser.parse_args(argv)
    if args.check:
        missing = missing_from(args.check.read_text(encoding="utf-8"))
        for name in missing:
            print(f"{args.check}: snippet {name!r} is missing or differs", file=sys.stderr)
        return 1 if missing else 0
    chosen = SNIPPETS if args.all else shipped()
    values = dict(EXAMPLE, root="/tmp/leakline-mta", uid="999", gid="999",
                  inbound_listen="127.0.0.1:2525")
    print("\n".join(printable(s, values) for s in chosen), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Two organisations side by side (issue 14), for the test_orgs_* tests (no tests here).

ACME (株式会社アクメ): Japanese, Privacy Mark holder, three managers, ack within 30 minutes.
Globex (Globex Trading K.K.): English, no Privacy Mark, two managers, its own templates (a
marker line in its guidance and receipt), ack within 90 minutes. `OrgFlow` is the Flow harness
(tests/test_flow_harness.py) over a service of both: the real App, spool and Maildir, only time
injected; a message is spooled with the RCPT addresses the test gives.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path

from clock import Clock
from conftest import free_port
from leakline.app import App
from leakline.config import load
from leakline.templates import TEMPLATE_DIR
from test_flow_harness import Sent, read_maildir

ACME_IN, GLOBEX_IN = "incident@acme.example.jp", "incident@globex.example.com"
ACME_PO, ACME_BOSS, ACME_EXEC = "privacy@acme.example.jp", "boss@acme.example.jp", "exec@acme.example.jp"
GLOBEX_PO, GLOBEX_MD = "dpo@globex.example.com", "md@globex.example.com"
TARO = "taro@sales.acme.example.jp"
JANE = "jane@globex.example.com"
GLOBEX_TEMPLATE_MARK = "Globex incident desk: follow these steps"

# What names each organisation: none of it may ever reach the other's mail, CLI or export.
IDENTITY = {
    "acme": ("株式会社アクメ", "ACME-2026", "acme.example.jp", ACME_PO, ACME_BOSS, ACME_EXEC,
             "佐藤花子", "03-1111-1111", "丸の内"),
    "globex": ("Globex", "GLX-2026", "globex.example.com", GLOBEX_PO, GLOBEX_MD, "Grace Hopper",
               "045-222-2222", "Minato-mirai", GLOBEX_TEMPLATE_MARK),
}
# And what its reporters wrote (when each wrote only to their own organisation).
CONTENT = {"acme": ("taro@", "顧客名簿", "山田太郎"), "globex": ("jane@", "laptop", "Jane Doe")}
OTHER = {"acme": "globex", "globex": "acme"}


def write_config(tmp_path: Path, *, mail: str = 'transport = "maildir"') -> Path:
    """The two-organisation config file (and Globex's templates_dir beside it)."""
    templates = tmp_path / "globex-templates"
    for lang in ("en", "ja"):
        (templates / lang).mkdir(parents=True, exist_ok=True)
        for name in ("guidance.txt.j2", "receipt.txt.j2"):
            text = (TEMPLATE_DIR / lang / name).read_text(encoding="utf-8")
            head, _, rest = text.partition("{% set subject")
            line, _, rest = rest.partition("\n")
            (templates / lang / name).write_text(
                f"{head}{{% set subject{line}\n{GLOBEX_TEMPLATE_MARK}\n{rest}", encoding="utf-8")
    path = tmp_path / "leakline.toml"
    path.write_text(f'''
[service]
data_dir = "{tmp_path / 'data'}"
listen = "127.0.0.1:{free_port()}"

[mail]
{mail}

[[organizations]]
id = "acme"
name = "株式会社アクメ"
incident_address = "{ACME_IN}"
domains = ["acme.example.jp"]
language = "ja"
privacy_mark = true
case_prefix = "ACME"
ack_within_minutes = 30
legal_name = "株式会社アクメ"
address = "東京都千代田区丸の内1-1-1"
representative = "代表取締役 山田一郎"
industry = "情報通信業"

[organizations.contact]
name = "個人情報保護管理者 佐藤花子"
phone = "03-1111-1111"
email = "{ACME_PO}"

[[organizations.managers]]
name = "佐藤花子"
email = "{ACME_PO}"
role = "privacy_officer"

[[organizations.managers]]
name = "営業部長"
email = "{ACME_BOSS}"
role = "supervisor"
covers = ["*@sales.acme.example.jp"]

[[organizations.managers]]
name = "役員"
email = "{ACME_EXEC}"
role = "executive"

[[organizations]]
id = "globex"
name = "Globex Trading K.K."
incident_address = "{GLOBEX_IN}"
domains = ["globex.example.com"]
language = "en"
privacy_mark = false
case_prefix = "GLX"
ack_within_minutes = 90
templates_dir = "globex-templates"
legal_name = "Globex Trading K.K."
address = "2-2-2 Minato-mirai, Nishi-ku, Yokohama"
representative = "John Smith"

[organizations.contact]
name = "Grace Hopper"
phone = "045-222-2222"
email = "{GLOBEX_PO}"

[[organizations.managers]]
name = "Grace Hopper"
email = "{GLOBEX_PO}"
role = "privacy_officer"

[[organizations.managers]]
name = "Managing Director"
email = "{GLOBEX_MD}"
role = "executive"
''', encoding="utf-8")
    return path


def mail(subject: str, body: str, *, sender: str, to: list[str], message_id: str,
         extra: dict | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 26, 10, 0).astimezone())
    msg["Message-ID"] = message_id
    for name, value in (extra or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def acme_report(to: list[str] = (ACME_IN,)) -> bytes:
    return mail("顧客名簿の誤送信", "本日10時ごろ、顧客名簿（約1,200名分、氏名・住所）を社外に誤送信しました。",
                sender=f"山田太郎 <{TARO}>", to=list(to), message_id="<acme-1@sales.acme.example.jp>")


def globex_report() -> bytes:
    return mail("Lost laptop", "I lost a laptop this morning with 50 customer records "
                "(names and card numbers) on the train.",
                sender=f"Jane Doe <{JANE}>", to=[GLOBEX_IN], message_id="<globex-1@globex.example.com>")


class OrgFlow:
    """The App of a service of both organisations at a hand-driven clock."""

    def __init__(self, config_path: Path, clock: Clock):
        self.path = config_path
        self.config = load(config_path)
        self.clock = clock
        self.app = App(self.config, now=clock)
        self.app.prepare()
        for coroutine in self.app.background_tasks(asyncio.Event()):
            coroutine.close()
        self.data_dir = self.config.service.data_dir
        self._seen: set[bytes] = set()

    def receive(self, raw: bytes, rcpt: list[str], mail_from: str, peer: str = "127.0.0.1") -> None:
        """Spool one message as the listener does, `orgs` picked by the RCPT addresses."""
        orgs = [o for o in map(self.config.organizations.for_address, rcpt) if o]
        self.app.spool.write([(raw, {"mail_from": mail_from, "rcpt_tos": rcpt, "orgs": orgs,
                                     "peer": peer, "received_at": self.clock().isoformat()})])

    def run(self) -> list[Sent]:
        self.app.pipeline.drain()
        asyncio.run(self.app.sender.run_once())
        return self.new_mail()

    def tick(self) -> list[Sent]:
        from leakline.responders.scheduler import ServiceScheduler

        ServiceScheduler(self.app.schedulers).run_once()
        asyncio.run(self.app.sender.run_once())
        return self.new_mail()

    def delivered(self) -> list[Sent]:
        return read_maildir(self.data_dir / "mail-out")

    def new_mail(self) -> list[Sent]:
        fresh = [s for s in self.delivered() if s.raw not in self._seen]
        self._seen.update(s.raw for s in fresh)
        return fresh

    def store(self, org_id: str):
        return self.app.tenant(org_id).store

    def case_ids(self, org_id: str) -> list[str]:
        return [row["id"] for row in self.store(org_id).summaries("all")]


def org_of_mail(sent: Sent) -> str:
    """Which organisation a mail went out for, by its From."""
    address = getaddresses([str(sent.msg["From"])])[0][1].lower()
    return {ACME_IN: "acme", GLOBEX_IN: "globex"}[address]


def readable(sent: Sent) -> str:
    """Everything a recipient can read of a mail: every header decoded, every text part."""
    msg = email.message_from_bytes(sent.raw, policy=email.policy.default)
    parts = [f"{name}: {value}" for name, value in msg.items()]
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def leaks(text: str, org_id: str, *, content: bool = True, allow: tuple[str, ...] = ()) -> list[str]:
    """The other organisation's markers found in `text` (but those in `allow`)."""
    other = OTHER[org_id]
    markers = IDENTITY[other] + (CONTENT[other] if content else ())
    return [m for m in markers if m in text and m not in allow]


def copy_tree_text(folder: Path) -> str:
    """Every file under `folder` as text (undecodable bytes replaced), and each .eml decoded."""
    texts = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            texts.append(data.decode("utf-8", "replace"))
            if path.suffix == ".eml":
                texts.append(readable(Sent(data, "", ())))
    return "\n".join(texts)


"""Facts read from a report's subject and text, Japanese and English.

Precision over recall where the law is at stake: a fact the text does not clearly state is left
out (unknown), so the fact form asks for it; nothing here guesses a value that removes a duty.
Extraction never says the data was encrypted (only what the text claims, `encryption_claim`) and
never that it was recovered unread.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo

from . import counts as counts_
from . import dates, gates, headcount, kindmodel, kinds, uncounted
from .facts import FINANCIAL_ITEMS, SENSITIVE_ITEMS, WRONGFUL_CATEGORIES
from .lexicon import SENSITIVE_WORDS, Rule, affirmed, clause, data_items, find, hedged

ANALYSED_CHARS = 50_000  # a pasted 10 MB log need not be scanned whole
# A kind left unknown still says wrongful when the model gives the wrongful acts this much together,
# and so does the model's second head (a wrongful purpose, for a verbal disclosure to someone who
# lied or a misuse for private ends): the safe side (T3 stays open for an officer to close), never
# a guess that removes a duty. bench/kind_cv.py measured both.
WRONGFUL_MASS = 0.5
WRONGFUL_ACT = 0.4
# The kinds whose purpose the head is asked about: told data, data used, or a kind not known.
PURPOSE_ASKED = frozenset({"verbal", "misuse", "other", None})
TOKYO = ZoneInfo("Asia/Tokyo")

# Where quoted or forwarded mail starts; what follows is context, not the report.
QUOTE_START = gates.compile(
    r"^\s*(?:-{2,}\s*(?:original message|forwarded message|元のメッセージ|転送されたメッセージ|転送メッセージ)\s*-{2,}"
    r"|_{10,}|(?:from|差出人|送信者)\s*:.*\n\s*(?:sent|date|送信日時|日付|to|宛先)\s*:"
    r"|on .{5,80}wrote:|.{0,60}(?:のメッセージ|書きました)\s*:)", re.I | re.M)
OWN_TEXT_MIN = 120  # a shorter own text ("see below") is a forward: read the forwarded report too

WRONGFUL_WORDS = Rule("wrongful", (
    r"不正(?:な|の)?目的", r"悪用", r"なりすまし", r"なりすま", r"詐欺", r"偽って", r"を装", r"と名乗", r"名乗る", r"偽名",
    r"脅迫", r"恐喝", r"心当たりはない", r"phishing", r"extortion", r"wrongful", r"fraud", r"scam", r"impersonat",
    r"pretending to be", r"posing as", r"claimed to be", r"pretended", r"\blied\b"), negatable=True)
# Someone who said who they were, and the person they named says it was not them: a lie to get the
# data (SPEC: "someone obtaining data by lying"). Told as what each said, seldom as "a lie". A caller
# who speaks of their own kin (「うちのおじいちゃんの名前だけど…」) says who they are talking about, not who they are.
IMPERSONATION = Rule("wrongful", (
    r"「[^」\n]{0,30}(?<!うちの)(?<!私の)(?<!自分の)(?:息子|娘|兄|弟|姉|妹|夫|妻|家族|親戚|親族|友人|同僚|担任|先生|警察|本人|父|母|祖父|祖母|おじいちゃん|おばあちゃん)"
    r"[^」\n]{0,6}(?:です|だ|の者です|ですが)[^」\n]{0,40}」(?:と(?:いう|言う|名乗る)?)?(?:男性|女性|人|方|電話|お電話)",
    r"(?:息子|娘|兄|弟|姉|妹|夫|妻)(?:は|なんて)(?:い|おり)(?:ない|ません)", r"(?:昨日|その日|当日)は?(?:電話|連絡)(?:は|を)?して(?:い)?(?:ない|ません)",
    r"(?:電話|問い合わせ)(?:は|を|など)?(?:頼んで|依頼して)(?:い)?(?:ない|ません)", r"そのような電話", r"そんな電話", r"本人ではな", r"別人だった",
    r"(?:said|claimed) (?:he|she|they) (?:was|were) (?:a |an |the |her |his |their )?"
    r"(?:colleague|brother|sister|son|daughter|husband|wife|father|mother|relative|friend|police|officer|lawyer|doctor|teacher)",
    r"does(?:n'?t| not) (?:have (?:one|a (?:brother|sister|son|daughter|husband|wife))|know anyone)",
    r"(?:he|she|they) (?:did(?:n'?t| not)|never) (?:call|phone|ring)"))

# Encryption as the reporter tells it: a claim for the officer, never the fact itself.
ENCRYPTION_CLAIM = Rule("encryption_claim", (
    r"暗号化|パスワード(?:付き|付|つき)|パスワード(?:を|は|が)?(?:設定|かけ|かか|保護)|パスワードロック|bitlocker|filevault"
    r"|ロックがかか|ロック(?:を|は)?(?:かけ|設定)",
    r"encrypted|encryption|password[- ]protected|had a password|with a password|passcode|pin (?:lock|at start)"
    r"|locked with"), negatable=True)
UNENCRYPTED = Rule("encrypted", (
    r"未暗号化", r"非暗号化", r"平文", r"暗号化(?:は|も)?(?:されて|して|され)?(?:い)?(?:ない|なかった|ません|おらず)",
    r"パスワード(?:は|も|を)?(?:かけて|設定して|付けて|つけて)(?:い)?(?:ない|なかった|ません|おらず)",
    r"unencrypted", r"not encrypted", r"in plain ?text", r"(?:no|without (?:a|any)) (?:password|encryption)",
    r"wasn'?t (?:encrypted|password)", r"not password[- ]protected"))
# The key travelled with the data or leaked: the encryption protects nothing.
KEY_LEAKED = Rule("key_leaked", (
    r"パスワード(?:も|を)?(?:同じ|同一|同送)", r"パスワード(?:も|を)[^。\n]{0,25}(?:同じ|同一|同送|送って|送信|添付|記載|伝え|書いて)",
    r"(?:本文|同じメール|別メール)[^。\n]{0,10}(?:パスワード|pw)", r"パスワード[^。\n]{0,15}(?:漏えい|流出|盗まれ|付箋|貼|メモ)",
    r"(?:付箋|メモ)[^。\n]{0,15}(?:パスワード|暗証番号|pin)",
    r"password (?:was |were )?(?:also|in the same)", r"password[^.\n]{0,60}(?:same|one|next) (?:e-?mail|message|mail|address)",
    r"(?:key|password|pin) (?:was |were )?(?:also )?(?:leaked|lost|stolen|written)", r"(?:same|next) (?:e-?mail|mail)[^.\n]{0,40}password",
    r"password[^.\n]{0,30}(?:sticky note|post-it|attached to|taped|written on)", r"(?:sticky note|post-it)[^.\n]{0,30}(?:password|pin)",
    r"開けてしまう|開けられる状態|can open it|they can open"))

ENTRUSTED = Rule("entrusted", (
    r"委託元", r"受託", r"お預かり", r"預かって", r"預かり", r"取引先から(?:預|提供)", r"クライアント(?:企業)?(?:の|から)",
    r"client'?s (?:customer|data|personal)", r"on behalf of (?:our|a|the) client", r"entrusted to us",
    r"as (?:a|their|the) (?:data )?processor", r"our client", r"we are their processor"), negatable=True)
NOT_ENTRUSTED = Rule("entrusted", (r"(?:自社|当社|弊社)(?:の|が直接)(?:顧客|会員|取得)", r"our own (?:customers|data)"))
CLIENT_NAME = gates.compile(r"(?:委託元|クライアント|取引先|client)(?:である|は|の|様|:|：|,|\s)*"
                         r"(株式会社[^\s、。,()（）「」]{1,20}?|[^\s、。,()（）「」:：]{1,20}?株式会社"
                         r"|[a-z][\w&.\-]*(?: [a-z][\w&.\-]*){0,3},? (?:inc|ltd|corp|co|llc|k\.k)\b\.?)"
                         r"(?=から|より|の|に|へ|が|は|様|御中|、|。|,|\.|\s|$)", re.IGNORECASE)


class Extraction(NamedTuple):
    """What the text says: field values, and for each field the words that said it."""

    values: dict
    evidence: dict


def own_text(text: str) -> tuple[str, str]:
    """The writer's own words and the quoted or forwarded mail below them (`>` lines dropped)."""
    lines = [line for line in (text or "").splitlines() if not line.lstrip().startswith(">")]
    joined = "\n".join(lines)
    start = QUOTE_START.search(joined)
    if not start:
        return joined, ""
    return joined[:start.start()], joined[start.start():]


def normalize(subject: str, text: str) -> str:
    """One NFKC string of subject and the writer's own text (a forward keeps what it forwards)."""
    own, quoted = own_text(text[:ANALYSED_CHARS] if text else "")
    if len(re.sub(r"\s", "", own)) < OWN_TEXT_MIN:
        own = f"{own}\n{quoted}"
    return nfkc(f"{subject or ''}\n{own}")


def nfkc(text: str) -> str:
    """NFKC, line by line and only where a line needs it (a line break is a safe boundary: no
    character composes across it); a report is mostly lines that need nothing."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    return "\n".join(line if unicodedata.is_normalized("NFKC", line) else unicodedata.normalize("NFKC", line)
                     for line in text.split("\n"))


Said = tuple[object, str | None]  # a value and the evidence for it


def _flag(*words: str | None) -> Said | None:
    """True, with the words that said so, when any words were found."""
    found = [w for w in words if w]
    return (True, "matched " + ", ".join(found)) if found else None


def wrongful(text: str, decision: kindmodel.Decision) -> Said | None:
    """True when the kind is a wrongful act, the text says so (悪用, a caller who lied), or the kind
    stays unknown while the model makes a wrongful act likely; never False (an accident kind
    derives that in facts.py)."""
    category = decision.kind
    return _flag(f"category {category}" if category in WRONGFUL_CATEGORIES else None,
                 affirmed(WRONGFUL_WORDS, text), affirmed(IMPERSONATION, text),
                 f"a wrongful act is likely ({decision.why})"
                 if category is None and decision.wrongful >= WRONGFUL_MASS else None,
                 f"a wrongful purpose is likely (model {decision.act:.2f})"
                 if category in PURPOSE_ASKED and decision.act >= WRONGFUL_ACT else None)


def _encryption(text: str, category: str | None) -> dict[str, Said]:
    """encrypted false on a plain denial, key_leaked true, and the claim's words; hedges say nothing."""
    said: dict[str, Said] = {}
    key, _ = find(KEY_LEAKED, text)
    if key and not hedged(text, key):
        said["key_leaked"] = (True, f"matched {key.group(0)}")
    plain, _ = find(UNENCRYPTED, text)
    if plain and not hedged(text, plain):
        said["encrypted"] = (False, f"matched {plain.group(0)}")
    claim, denied = find(ENCRYPTION_CLAIM, text)
    # An attacker's encryption is the attack (malware, 毀損), never a protection of the data.
    if claim and not denied and category != "malware" and not hedged(text, claim) and "encrypted" not in said:
        words = clause(text, claim.start(), claim.end(), reach=40).strip(" 、,")[:80]
        said["encryption_claim"] = (words, f"matched {words}")
    return said


def _entrusted(text: str, original: str) -> dict[str, Said]:
    for rule, value in ((ENTRUSTED, True), (NOT_ENTRUSTED, False)):
        if words := affirmed(rule, text):
            said: dict[str, Said] = {"entrusted": (value, f"matched {words}")}
            client = CLIENT_NAME.search(original) if value else None  # names keep their letters
            if client:
                said["client"] = (client.group(1).strip(), f"matched {client.group(0)}")
            return said
    return {}


def _persons(text: str, category: str | None) -> dict[str, Said]:
    found, audience = headcount.choose(text, category)
    found = (found or uncounted.paired(text) or uncounted.named(text) or counts_.persons(audience)
             or uncounted.single(text, category))
    if not found:
        return {}
    why = f"matched {found.words}"
    facts = found.facts()
    said: dict[str, Said] = {}
    if facts["persons"] is not None:
        said["persons"] = (facts["persons"], why)
        said["persons_estimated"] = (facts["persons_estimated"], None)
    if facts["persons_over"]:
        said["persons_over"] = (True, why)
    if facts["persons_max"] is not None:
        said["persons_max"] = (facts["persons_max"], why)
    return said


def _discovered(text: str, received_at: datetime | str | None, tz: tzinfo) -> dict[str, Said]:
    if not received_at:
        return {}
    received = received_at if isinstance(received_at, datetime) else datetime.fromisoformat(received_at)
    if received.tzinfo is None:
        received = received.replace(tzinfo=tz)
    found = dates.discovery(text, received, tz)
    return {"discovered_at": (found[0], f"the report says {found[1]}")} if found else {}


def extract(subject: str, text: str, received_at: datetime | str | None = None,
            tz: tzinfo = TOKYO) -> Extraction:
    """The facts a report states. Fields it does not mention are left out (unknown).

    With `received_at`, a discovery date the text gives (昨日, 先週金曜, 3/5) before it is read
    relative to that moment, in `tz` (APPI days are Japanese days).
    """
    original = normalize(subject, text)
    lowered = original.lower()
    kind = kinds.read_kind(lowered)
    decision = kindmodel.decide(kindmodel.load(), lowered, kind)
    category = decision.kind
    items = data_items(lowered)
    said: dict[str, Said | None] = {
        "category": (category, decision.why) if category else None,
        "data_items": (list(items), "matched " + ", ".join(items.values())) if items else None,
        "sensitive": _flag(*(w for i, w in items.items() if i in SENSITIVE_ITEMS),
                           affirmed(SENSITIVE_WORDS, lowered)),
        "financial": _flag(*(w for i, w in items.items() if i in FINANCIAL_ITEMS)),
        "wrongful": wrongful(lowered, decision),
        **_encryption(lowered, category),
        **_entrusted(lowered, original),
        **_persons(lowered, category),
        **_discovered(lowered, received_at, tz),
    }
    found = {field: value for field, value in said.items() if value is not None}
    return Extraction({field: value for field, (value, _) in found.items()},
                      {field: why for field, (_, why) in found.items() if why})

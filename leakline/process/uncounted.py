"""Persons a report tells without a count: by name (A様, Ms. Sato), as a pair (申込者と連帯保証人), or as
the one person whose papers went astray (別の方のカード, another guest's folio).

Precision first: a list, a file, a device or "everyone" means more people than those told, and then
nothing is inferred (the number stays unknown and the fact form asks). Text is prepared (NFKC,
lower case) by the caller.
"""

from __future__ import annotations

import re

from . import gates
from .counts import Persons

# One or two identified persons told by name (A様, 田中様, Bくん, ○○様, Ms. Sato).
NAMED = gates.compile(r"(?<![一-龥ぁ-てな-んァ-ヴa-z])((?:[a-z]|[一-龥]{1,3}))(?:\s[一-龥ぁ-ん]{1,4})?\s?(?:様|さま)(?![方々])"
                   r"|(?<![a-z])([a-z])(?:さん|くん|君|ちゃん)"
                   r"|(?<![一-龥])([一-龥]{2,3})さんの"
                   r"|([〇○◯]{1,3})(?:様|さん|さま)"
                   r"|(?:患者|利用者|会員|生徒|児童|依頼者|申込者|応募者|顧客|入居者|受診者)(?:の)?\s?([a-z])(?![a-z])(?:さん|様)?"
                   r"|(?<![a-z])(?:mr|ms|mrs|miss|dr)\.?\s+([a-z][a-z\-]+(?:\s+[a-z][a-z\-]+)?)")
# 営業部様 is a department, 長谷部様 or 阿部様 a person.
DEPARTMENTS = frozenset("営業 総務 人事 経理 管理 企画 開発 技術 製造 本 支 事業 情報 法務 財務 広報 購買 学".split())
# Words after a title that are not a surname: "Mrs. Yamazaki to another client".
NOT_SURNAMES = frozenset("to in from and of the a an at on is was has had who with for by called said hasn".split())
NOT_NAMES = frozenset({"皆", "各", "先方", "客", "お客", "患者", "利用者", "会員", "保護者", "業者", "担当者", "店長", "社",
                       "管理者", "保証人", "契約者", "入居者", "申込者", "依頼者", "応募者", "受診者", "利用",
                       "貴社", "御社", "皆さ", "奥", "同", "神", "仏", "王", "殿", "ご家族", "家族", "相手", "方", "先",
                       "受取人", "受信者", "送信者", "事業者", "病院", "医院", "薬局", "会社", "取引先", "ご本人", "本人",
                       "店員", "職員", "社員", "先生", "担当", "皆さん", "同僚", "上司", "部長", "課長", "係長", "主任",
                       "荷主", "組合", "施主", "家主", "大家", "貸主", "借主", "株主", "健保", "顧問", "加盟店", "取引", "委託元"})
# A list, a file or "others" means more people than those named (not a list one looked a number up in).
MANY = gates.compile(r"(?<!品の)(?<!品)(?<!物の)(?<!日程の)(?:一覧|リスト)(?!から|で|の中|上|の隣|の次|を見)|名簿|台帳|データベース"
                  r"|全員(?!に?返信|へ返信)|全件|複数|多数|大量|エクセル|excel|csv"
                  r"|スプレッドシート|(?<![a-z])lists?\b(?! (?:i|we) (?:was|were|am|are) (?:working|looking))|database|roster|spreadsheet|everyone|several|multiple|\bmany\b|\ball (?:the |our )?"
                  r"(?:customers|members|students|patients|users|employees|staff|participants)"
                  r"|(?<!さんの)(?<!様の)(?<!さまの)(?:顧客|会員|患者|利用者|社員|従業員|生徒|学生|受講者|参加者)(?:の)?(?:情報|データ)(?:の)?(?:ファイル|一式)?(?:を|が|の入った|入りの)"
                  r"|(?:customer|member|patient|user|employee|student)s?'? (?:data|information|records|files?)\b")
# Papers swapped between two people leak both; otherwise one person's data went to another.
SWAPPED = gates.compile(r"お互い|互いに|互いの|逆に|入れ違|入れ替わ|入れ替え|swapped|each other|switched"
                        r"|each [a-z]+ (?:into|in|to|for) the other")
# The text says the number is not known: nothing is inferred.
UNKNOWN = gates.compile(r"何名|何人|何件|人数は(?:不明|調査中|確認中|分かって|わかって)|how many (?:people|customers|persons|users)"
                        r"|number of (?:affected )?(?:people|customers|persons|users) is (?:not|un|still)")
# Two persons told as a pair: 申込者の方と連帯保証人のお父様, the customer and his wife.
_ROLE = (r"(?:申込者|申請者|連帯保証人|保証人|連帯債務者|ご主人|奥様|夫|妻|配偶者|お父様|お母様|父親|母親|お兄様|お姉様|兄|姉|弟|妹"
         r"|息子|娘|相手方|運転者|契約者|被保険者|受取人|[a-z]様)")
_KIN = r"(?:wife|husband|spouse|son|daughter|father|mother|partner|guarantor|co-borrower)"
PAIR = gates.compile(rf"{_ROLE}(?:の方|様|さん)?(?:\([^)]{{0,12}}\))?\s*(?:と|及び|および|並びに)、?[^。、\n]{{0,12}}?{_ROLE}"
                     r"|新郎新婦|ご夫妻|ご夫婦"
                     # the policy names its beneficiary too: 死亡保険金受取人(奥様), the beneficiary (his wife)
                     r"|受取人\s*\(\s*(?:奥様|ご主人|妻|夫|配偶者|お子様|ご長男|ご長女|長男|長女|息子|娘)"
                     rf"|beneficiary \((?:his|her|their) {_KIN}\)"
                     rf"|(?:customer|applicant|borrower|patient|client|guest|tenant|employee|'s)\s+and\s+(?:his|her|their)\s+{_KIN}"
                     rf"|(?:same (?:details|information|data) for|and for|plus) (?:his|her|their) {_KIN}")
# The one person whose data it is, told without a count.
SINGLE = gates.compile(
    r"(?:別|他|前|隣|となり|ほか|次)の(?:お?客様|方|患者(?:様|さん)?|利用者(?:様)?|会員(?:様|さん)?|教習生|被保険者|入居者(?:様)?"
    r"|申請者|学生|生徒|児童|園児|保護者(?:様|の方)?|ご家庭|お宅|人|受講者|参加者|契約者|受給者|依頼者|お子様|お子さん|家族)"
    r"(?:の方)?(?:の|宛|あて)"
    r"|ご本人|その方の|当該の方|該当の方|他人の"
    r"|(?:another|the other|a different|the previous|the wrong|one) (?:[a-z\-]+ )?(?:customer|guest|patient|person|family"
    r"|policyholder|candidate|member|client|student|user|applicant|tenant|resident|passenger|employee|learner)'?s?\b"
    r"|\b(?:his|her) (?:name|address|phone|details|data|documents?|card|record|file|cv|profile|results?|application"
    r"|statement|invoice|e-?mail|slip|medicine|order)")
# A device or a system holds the data of an unknown number of people.
DEVICE = gates.compile(r"pc|パソコン|ノート|スマ(?:ート)?フォン|スマホ|携帯電話|iphone|usb|laptop|tablet|\bphone\b|サーバ|server"
                    r"|ハードディスク|hdd|ssd|nas|アカウント|account|mailbox|メールボックス|システム|system|database|クラウド|cloud")
ACCIDENTS_OF_ONE = frozenset({"misdirected_email", "misdirected_fax", "misdelivery", "wrong_entry", "wrong_display",
                              "verbal", "misuse"})


# Every name has an honorific after it or a title or role before it: names are read near these.
NAME_CORES = gates.compile(r"様|さま|さん|くん|君|ちゃん|患者|利用者|会員|生徒|児童|依頼者|申込者|応募者|顧客|入居者|受診者"
                           r"|mr|ms|mrs|miss|dr")


# The first line of a mail that only greets its reader (小池様, Dear Ms. Fujita,): a name there is the reader's.
GREETING = gates.compile(r"[ \t]*(?:(?:dear|hi|hello|to:?)\s[^\n]{0,40}|[^\n。]{0,24}(?:様|さま|さん|殿|先生)[,、]?)[ \t]*(?=\n|$)")
# Names enumerated as whose the data is (A様、B様、C様の結果; the results of Mr. Ito, Ms. Abe and Mr. Ueno).
_NAME = r"(?:[a-z]|[一-龥々]{1,3})\s?(?:様|さま|さん)"
_EN_NAME = r"(?:mr|ms|mrs|miss|dr)\.?\s+[a-z][a-z\-]+"
NAME_LIST = gates.compile(rf"(?<![一-龥ぁ-んァ-ヴa-z]){_NAME}(?:\s*(?:、|・|,|と|及び)\s*{_NAME})+(?=\s*(?:の(?!方)|分))"
                          rf"|(?:(?<=of )|(?<=for )){_EN_NAME}(?:,?\s+(?:and\s+)?{_EN_NAME})+")
NAME_ITEM = gates.compile(rf"{_NAME}|{_EN_NAME}")


def _without_greeting(text: str) -> str:
    """The text with the line after the subject blanked when it only greets the reader."""
    start = text.find("\n") + 1
    while text.startswith("\n", start):
        start += 1
    greeting = GREETING.match(text, start) if start else None
    return text if not greeting else text[:start] + " " * (greeting.end() - start) + text[greeting.end():]


def _names(text: str) -> set[str]:
    names = set()
    cores = [m.span() for m in NAME_CORES.finditer(text)]
    for match in gates.near(NAMED, text, cores, 16, 48):
        name = next(g for g in match.groups() if g)
        if " " in name:  # Ms. Emi Sato: the surname; Mrs. Yamazaki to ...: the first word
            first, last = name.split(None, 1)
            name = first if last in NOT_SURNAMES or last.endswith("ed") else last
        if name not in NOT_NAMES and not name.endswith(("社", "店", "院", "局", "課", "所", "室", "係")) and not (
                name.endswith("部") and name[:-1] in DEPARTMENTS):
            names.add(name)
    return names


# After a name: its papers went there (行き, 宛, へ, に); after the other name: whose they were (の).
SENT_TO = gates.compile(r"(?:様|さま|さん)?(?:の(?:封筒|箱|袋|荷物))?(?:行き|宛て?|あて|へ|に)[^。\n]{0,20}")
WHOSE = gates.compile(r"(?:様|さま|さん)?の")


def _crossed(text: str, names: set[str]) -> bool:
    """Each of two named persons got the other's papers: Aさま行きの箱にBさまの伝票、Bさま行きの箱にAさまの伝票."""
    def went(a: str, b: str) -> bool:
        at = text.find(a)
        while at >= 0:
            tail = SENT_TO.match(text, at + len(a))
            if tail:
                there = text.find(b, tail.start(), tail.end() + len(b))
                while there >= 0:
                    if WHOSE.match(text, there + len(b)):
                        return True
                    there = text.find(b, there + 1, tail.end() + len(b))
            at = text.find(a, at + 1)
        return False
    return any(went(a, b) and went(b, a) for a in names for b in names if a != b)


def named(text: str) -> Persons | None:
    """The persons a report names one by one, when it names few and lists nothing: one (whose papers went
    to another), each of those swapped, or each of those it enumerates (A様、B様、C様の結果)."""
    names = _names(_without_greeting(text))
    if not names or len(names) > 3 or MANY.search(text):
        return None
    number = len(names) if SWAPPED.search(text) or _crossed(text, names) else 1
    enumerated = max((len(NAME_ITEM.findall(m.group(0))) for m in NAME_LIST.finditer(text)), default=0) if len(names) > 1 else 0
    return Persons(max(number, min(enumerated, len(names))), False, False, None, "named: " + "、".join(sorted(names)))


def paired(text: str) -> Persons | None:
    """Two persons told as a pair (申込者と連帯保証人, the customer and his wife)."""
    match = PAIR.search(text)
    return Persons(2, False, False, None, f"a pair: {match.group(0)}") if match else None


def single(text: str, category: str | None) -> Persons | None:
    """One person, when the report tells of one person's papers and of no list, file or device.

    An accident of one item (a letter, a card, a form handed over, a mail) with no count is one
    person's data; for other kinds the text must say whose.
    """
    one = SINGLE.search(text)
    if category != "verbal" and MANY.search(text) or UNKNOWN.search(text):
        return None
    if category in ACCIDENTS_OF_ONE:
        return Persons(1, False, False, None, f"one person's data ({one.group(0) if one else category}, no count given)")
    if one and not DEVICE.search(text):
        return Persons(1, False, False, None, f"one person's data ({one.group(0)}, no count given)")
    return None

"""The words of facts (data items, hedges, denials), read the same in a report and a fact form.

(Ids and their labels live in vocabulary.py; this module holds the words that mean them.)

The extractor reads free text; the fact form reads a short answer ("氏名、住所、病歴"). Both call
`data_items` here, so "ログイン情報" is a login in both, and a password counts as financial (T2)
only next to a service where money can be spent. Text is NFKC-normalised and lower-cased first
(`prepare`), so patterns are written in lower case with half-width characters.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from . import gates
from .counts import prepare

__all__ = ["Rule", "prepare", "negated", "find", "affirmed", "hedged", "data_items", "DATA_ITEM_RULES"]


class Rule(NamedTuple):
    """A value that holds when any pattern matches.

    `negatable` rules skip denied mentions; `unless` skips a mention with those words close by.
    """

    value: str
    patterns: tuple[str, ...]
    negatable: bool = False
    unless: str | None = None


JA_NEGATION = gates.compile(r"(?:(?!こと|ため|ので|ところ|たが|だが|すが|けど|ものの|場合)[^、。,.!?\n]){0,14}?"
                         r"(?:ない|なく|なし|無し|ません|おらず|なかった|せず|含まず|ございません|不要)")
EN_NEGATION = frozenset({"no", "not", "nobody", "without", "never", "none", "nor", "neither", "excluding", "except"})
# "…かどうかは不明", "not sure whether": the writer does not know; neither yes nor no.
HEDGE = gates.compile(r"不明|わから|分から|わかりませ|分かりませ|かどうか|か否か|確認中|調査中|未確認|はっきりしない|定かでな"
                   r"|覚えていな|記憶が|かもしれ|not sure|unsure|unknown|unclear|don'?t know|do not know"
                   r"|not known|whether|can'?t tell|cannot tell|no idea|not certain|checking|to be confirmed|tbc")
CLAUSE_END = gates.compile(r"[。!?！？\n]|\.(?:\s|$)|、(?=[^、。\n]{0,4}(?:が|けど|ただ))")


def clause(text: str, start: int, end: int, reach: int = 120) -> str:
    """The sentence around a mention."""
    left = max((m.end() for m in CLAUSE_END.finditer(text, max(start - reach, 0), start)),
               default=max(start - reach, 0))
    right = CLAUSE_END.search(text, end)
    return text[left:right.start() if right else min(end + reach, len(text))]


def hedged(text: str, match: re.Match) -> bool:
    """Whether the sentence of a mention says the writer does not know."""
    return bool(HEDGE.search(clause(text, match.start(), match.end())))


# Verbs that deny something else than the mention: "名簿(氏名・住所)が見当たりません" lost the list.
OTHER_DENIALS = gates.compile(r"見当たら|見つから|わから|分から|つかな|つながら|届か|戻ら|取れ|開け|開か|でき|しれ|いけ|なら|知ら"
                           r"|気づか|気付か|返ってこ|出てこ|止まら|入って(?:い)?ませ|いない(?:こと)?に気")


# Denials that follow the mention: "card numbers are not in our system", "カード情報は…対象外".
EN_DENIED_AFTER = gates.compile(r"(?:\s+(?!who\b|which\b|that\b|whose\b)[a-z'\-]+){0,3}?\s+(?:(?:is|are|was|were)\s+(?:not|never)\b"
                                r"|isn'?t\b|aren'?t\b|wasn'?t\b|weren'?t\b)")
JA_DENIED_AFTER = gates.compile(r"(?:情報|番号|データ)?(?:は|も|や[^。、\n]{0,12}(?:は|も))[^。\n]{0,30}?(?:対象外|(?:保存|保持|記載|印字|表示)(?:されて|して)(?:い)?(?:ない|ません)"
                                r"|別の?(?:テーブル|システム|サーバ|管理))(?!か)")


def negated(text: str, match: re.Match) -> bool:
    """Whether a mention is denied: 暗号化されていない, 未暗号化, not encrypted, no medical data."""
    denial = JA_NEGATION.match(text, match.end())
    if denial and not OTHER_DENIALS.search(denial.group(0)):
        return True
    if EN_DENIED_AFTER.match(text, match.end()) or JA_DENIED_AFTER.match(text, match.end()):
        return True
    if text[max(match.start() - 1, 0):match.start()] in ("未", "非", "無"):
        return True
    before = re.findall(r"[a-z']+", text[max(match.start() - 40, 0):match.start()])[-4:]
    return any(word in EN_NEGATION or word.endswith("n't") for word in before)


@lru_cache(maxsize=None)
def _compiled(rule: Rule) -> tuple[re.Pattern, re.Pattern | None]:
    """All patterns of a rule as one expression (one pass over the text), compiled once."""
    return gates.compile("|".join(f"(?:{p})" for p in rule.patterns)), gates.compile(rule.unless) if rule.unless else None


def find(rule: Rule, text: str) -> tuple[re.Match | None, bool]:
    """The first mention of the rule and whether it was denied (a denial counts if nothing affirms)."""
    denial = None
    pattern, unless = _compiled(rule)
    for match in pattern.finditer(text):
        if unless and unless.search(text, max(match.start() - 25, 0), match.end() + 25):
            continue
        if not (rule.negatable and negated(text, match)):
            return match, False
        denial = denial or match
    return denial, denial is not None


def affirmed(rule: Rule, text: str) -> str | None:
    """The words of the first mention of the rule that is not denied."""
    match, denied = find(rule, text)
    return match.group(0) if match and not denied else None


def _item(value: str, *patterns: str, unless: str | None = None) -> Rule:
    """A data item: "病歴は含まれていません" does not mention it."""
    return Rule(value, patterns, negatable=True, unless=unless)


# Data items, in the order of facts.DATA_ITEMS. A sensitive item (要配慮個人情報) is often named
# only by what it is: a test, a drug, a check-up, a care record, a referral letter.
DATA_ITEM_RULES = (
    _item("name", r"氏名", r"名前", r"フルネーム", r"姓名", r"フリガナ", r"ふりがな", r"宛名", r"(?<!ファイル)(?<!会社)名簿",
          r"(?<!file )(?<!user )(?<!company )(?<!display )(?<!file)(?<!user)\bnames?\b", r"full names?"),
    _item("address", r"住所", r"(?<!メール)(?<!ip)所在地", r"(?<!メール)(?<!e-mail )(?<!email )(?<!ip )(?<!web )"
          r"(?:home|postal|mailing|street|shipping|delivery) address", r"郵便番号", r"配送先", r"届け先", r"送付先",
          r"(?<!e-mail )(?<!email )(?<!ip )\baddresses\b(?! (?:of|in) the (?:to|cc))"),
    _item("phone", r"電話番号", r"携帯番号", r"携帯電話", r"連絡先番号", r"(?<!会社の)(?<!代表)\btel\b(?!\s*[\d(])", r"phone numbers?",
          r"telephone numbers?", r"mobile numbers?", r"(?<![a-z])mobile(?! phone)(?= |,|、)", r"\bphones?\b(?=,| and|、)",
          r"携帯(?=[、,・ ])", r"電話(?=[、,・ ])"),
    _item("email", r"(?<!宛先の)(?<!送信先の)メールアドレス(?!を(?:誤|間違))", r"メアド", r"アドレス(?=[、,・ ])",
          r"(?<!wrong )(?<!recipient's )e-?mail address(?:es)?", r"\bemails?\b(?=,| and|、)"),
    _item("birthdate", r"生年月日", r"誕生日", r"dates? of birth", r"birth ?dates?", r"birthdays?", r"\bdob\b"),
    _item("gender", r"性別", r"\bgender\b", r"\bsex\b"),
    _item("employee_id", r"(?:社員|従業員|職員|スタッフ)(?:番号|コード|id)", r"employee (?:id|number|no)s?", r"staff (?:id|number)s?"),
    _item("customer_id", r"(?:顧客|会員|お客様|利用者|患者|契約者)(?:番号|id|コード)", r"診察券番号",
          r"(?:customer|member|membership|patient|account holder) (?:id|number|no)s?"),
    _item("photo", r"顔写真", r"写真", r"\bphoto(?:graph)?s?\b"),
    _item("salary", r"給与", r"給料", r"賞与", r"年収", r"月収", r"基本給", r"源泉徴収", r"支給額", r"salar(?:y|ies)", r"payroll",
          r"pay ?slips?", r"income", r"wages?"),
    _item("medical", r"病歴", r"既往歴", r"健康診断", r"健診", r"人間ドック", r"診断書", r"診断名", r"診断結果", r"診療", r"カルテ",
          r"病名", r"傷病", r"処方", r"服薬", r"投薬", r"お薬", r"薬剤", r"調剤", r"通院", r"入院", r"治療", r"検査(?:結果|値|データ)",
          r"血液検査", r"ストレスチェック", r"紹介状", r"診療情報提供書", r"介護記録", r"看護記録", r"ケアプラン", r"要介護",
          r"要支援", r"介護度", r"告知書", r"問診", r"抗うつ", r"睡眠薬", r"睡眠導入剤", r"精神科", r"心療内科", r"hba1c", r"うつ病",
          r"手術", r"透析", r"既往", r"けいれん", r"痙攣", r"座薬", r"坐薬", r"与薬", r"抗生(?:剤|物質)", r"咳止め", r"(?<![ぁ-ん])がん(?!ば)",
          r"癌", r"腫瘍", r"糖尿", r"ヘルニア", r"医療費控除", r"避妊", r"\bhiv\b", r"diabet", r"cancer", r"tumou?r", r"dialysis",
          r"chemo", r"insulin", r"surgery", r"medicines?\b",
          r"妊娠", r"アレルギー", r"レセプト", r"レセコン", r"電子カルテ", r"受診",
          r"medical", r"health (?:check|record|data|information|declaration|screening|condition)s?", r"check-?ups?",
          r"stress check", r"diagnos[ie]s", r"prescriptions?", r"medications?", r"test results?", r"blood tests?",
          r"lab results?", r"referral letters?", r"care (?:records?|plans?|notes?)", r"nursing records?",
          r"treatment", r"patient (?:records?|files?|notes?|charts?)", r"clinical", r"illness", r"pregnan",
          r"allerg", r"mental health", r"therapy|counsel+ing (?:notes?|records?)", r"medical history"),
    # "障害" alone is also a system failure (システム障害).
    _item("disability", r"障害者", r"障がい", r"障碍", r"(?:身体|精神|知的|発達)障害", r"療育手帳", r"障害(?:の|等級|年金|福祉|支援区分)",
          r"disabilit(?:y|ies)", r"special needs"),
    _item("criminal_record", r"犯罪歴", r"前科", r"逮捕歴", r"逮捕", r"起訴", r"criminal records?", r"convictions?", r"arrest"),
    _item("creed", r"信条", r"宗教", r"信仰", r"religio(?:n|us)", r"\bcreed\b", r"faith"),
    _item("race", r"人種", r"民族", r"\bracial\b", r"ethnic"),
    _item("social_status", r"社会的身分", r"被差別", r"social status"),
    _item("crime_victim", r"犯罪(?:の)?被害", r"被害(?:者)?(?:相談|記録)", r"(?:dv|ストーカー|性)被害", r"victims? of (?:a )?crime",
          r"crime victims?", r"domestic violence", r"stalking victim", r"被害届の(?:写し|控え|コピー)", r"ストーカー", r"暴行",
          r"保護命令", r"protection order", r"police report (?:she|he|they) (?:filed|made)"),
    # The last four digits of a card cannot take anyone's money (PPC guideline 通則編 3-5 and Q&A).
    _item("card_number", r"(?<!ポイント)(?<!会員)(?<!診察)(?<!保険)(?<!マイナンバー)(?<!ic)カード(?:番号|情報)",
          r"クレジットカード(?:番号)?", r"クレカ", r"セキュリティコード", r"credit card(?: numbers?)?",
          r"(?<!residence )(?<!id )(?<!member )(?<!membership )(?<!insurance )(?<!licence or )(?<!license or )card numbers?",
          r"card details", r"\bcvv\b", r"\bcvc\b", r"payment card", r"card (?:data|information)", r"security codes?",
          unless=r"(?:下|末尾|下一桁|下4|下四)(?:4|四)?桁|last (?:4|four) digits|マスク|masked|\*{4}|x{4}|伏せ"),
    _item("account", r"口座", r"bank account", r"account numbers?", r"bank details"),
    _item("pin", r"暗証番号", r"(?:card|bank|account) pins?\b", r"\bpin (?:codes?|numbers?)\b(?! (?:at|on) start)",
          r"pins? (?:for|of) (?:the |their )?(?:cards?|accounts?)",
          unless=r"画面ロック|ロック|キーボックス|端末|スマホ|設定前|未設定|screen|lock|door|key ?box|phone|tablet|laptop"),
    _item("my_number", r"マイナンバー", r"個人番号", r"my ?number", r"individual number"),
)
SENSITIVE_WORDS = Rule("sensitive", (r"要配慮個人情報", r"sensitive personal (?:data|information)"),
                       negatable=True)

# ID and password count as financial (T2) only for a service that can pay or move money.
CREDENTIALS = Rule("credentials", (
    r"id(?:・|と|/|及び|および|、)?(?:pw|パスワード)", r"ログイン(?:id|情報)", r"認証情報", r"アカウント情報",
    r"(?:user ?names?|ids?|logins?|e-?mail address(?:es)?) and passwords?", r"login credentials", r"log-?in details",
    r"passwords? (?:for|of) (?:their|the|customer|user)"), negatable=True)
PAYMENT_CONTEXT = gates.compile(r"バンキング|決済|ec ?サイト|通販|ショッピング|送金|ポイント|ネットショップ|オンラインショップ"
                             r"|banking|payment|checkout|online (?:shop|store)|e-?commerce|points|wallet")


def data_items(text: str) -> dict[str, str]:
    """Each data item the prepared text mentions (not what it denies), with the words that mention it."""
    found = {rule.value: words for rule in DATA_ITEM_RULES if (words := affirmed(rule, text))}
    credentials = affirmed(CREDENTIALS, text)
    if credentials:
        payment = PAYMENT_CONTEXT.search(text)
        found["id_password" if payment else "login"] = credentials + (f" + {payment.group(0)}" if payment else "")
    return found


def item_spans(text: str) -> list[tuple[str, int, int]]:
    """Every mention of a data item in prepared text that is not denied: (item, start, end)."""
    spans = []
    for rule in (*DATA_ITEM_RULES, CREDENTIALS):
        for pattern in rule.patterns:  # each pattern alone: a shorter one must not hide a longer
            for match in re.finditer(pattern, text):
                if rule.unless and re.search(rule.unless, text[max(match.start() - 25, 0):match.end() + 25]):
                    continue
                if not negated(text, match):
                    value = rule.value
                    if value == "credentials":
                        value = "id_password" if PAYMENT_CONTEXT.search(text) else "login"
                    spans.append((value, match.start(), match.end()))
    return spans

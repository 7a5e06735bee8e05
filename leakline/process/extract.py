"""Facts read from a report's subject and text by keywords and patterns, Japanese and English."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from .counts import counts
from .facts import FINANCIAL_ITEMS, SENSITIVE_ITEMS, WRONGFUL_CATEGORIES

# Patterns passed a start position use match(), which anchors there: no "^" in them.
# The text is NFKC-normalised (full-width digits and letters become ASCII) and lower-cased
# before matching, so patterns are written in lower case with half-width characters.


class Rule(NamedTuple):
    """A value that holds when any pattern matches.

    `negatable` rules skip denied mentions; `unless` skips a mention with those words close by.
    """

    value: str
    patterns: tuple[str, ...]
    negatable: bool = False
    unless: str | None = None


# Most specific first: the first rule that matches gives the category. A fax is also "sent";
# a ransomware report also says "不正アクセス"; papers discarded after a mix-up (取り違え) were
# discarded; a mistyped address ends in a misdirected email, so wrong_entry comes last.
CATEGORY_RULES = (
    Rule("misdirected_fax", (
        r"(fax|ファックス|ファクス)[^。\n]{0,30}(誤送信|誤って|間違|誤り|wrong)",
        r"(誤って|wrong|間違)[^。\n]{0,30}(fax|ファックス|ファクス)", r"faxed[^.\n]{0,80}(wrong|incorrect)")),
    Rule("malware", (
        r"ランサム", r"マルウェア", r"ウ[イィ]ルス(に|へ)?感染", r"ウ[イィ]ルスメール", r"emotet", r"エモテット",
        r"ransomware", r"malware", r"virus infection", r"infected with"), negatable=True),
    Rule("unauthorized_access", (
        r"不正アクセス", r"不正ログイン", r"乗っ取", r"sqlインジェクション", r"スキミング", r"フィッシング",
        r"不正に(取得|侵入)", r"unauthori[sz]ed access", r"hack(ed|er)", r"sql injection", r"skimming",
        r"credential stuffing", r"phishing", r"account takeover",
        r"unknown (ip|party|person|device)[^.\n]{0,40}log(ged)? ?in"), negatable=True),
    Rule("theft", (
        r"盗難", r"盗まれ", r"窃盗", r"車上(荒|あら)し", r"置き引き", r"ひったくり", r"空き巣",
        r"stolen", r"theft", r"burglar"), negatable=True),
    Rule("insider", (
        r"内部不正", r"(不正|無断)[^。\n]{0,6}持ち?出", r"無断で[^。\n]{0,30}(持ち?出|アップロード|転送|コピー)",
        r"元(従業員|社員)", r"退職[^。\n]{0,30}(持ち?出|ダウンロード|コピー)",
        r"(who|employee|rep|staff member|worker)[^.\n]{0,30}(left|leaving|resigned|quit)"
        r"[^.\n]{0,60}(downloaded|copied|took)",
        r"(downloaded|copied|took)[^.\n]{0,60}(before leaving|personal (drive|account|e-?mail))",
        r"insider", r"former employee", r"without (permission|authori[sz]ation)"), negatable=True),
    Rule("misdirected_email", (
        r"メール[^。\n]{0,20}誤送信", r"誤送信", r"宛先(を)?(間違|誤)", r"送信先(を)?(間違|誤)", r"bcc",
        r"一斉送信", r"(誤って|間違って)[^。\n]{0,20}(送信|転送)", r"添付(ファイル)?(を)?(間違|誤)",
        r"メール[^。\n]{0,30}(送って|送信して|送付して)しまっ",
        r"(sent|e-?mailed|forwarded) (it |this |them )?to the wrong", r"misdirected e-?mail",
        r"wrong (e-?mail )?recipient", r"wrong e-?mail address", r"autocomplete",
        r"(attached|sent) the wrong (file|attachment|document)",
        r"(accidentally|mistakenly|wrongly) (sent|e-?mailed|forwarded)")),
    Rule("wrong_disposal", (
        r"誤廃棄", r"誤って(廃棄|破棄|処分|捨て)", r"mistakenly (discarded|disposed|thrown)",
        r"(threw|thrown|discarded|disposed)[^.\n]{0,30}(by mistake|mistakenly|accidentally)")),
    Rule("misdelivery", (
        r"誤配達", r"誤配送", r"誤交付", r"誤送付", r"誤発送", r"誤封入", r"封入(ミス|誤り|間違)", r"同封",
        r"取り?違え", r"送り状[^。\n]{0,6}(間違|誤)", r"宛名[^。\n]{0,6}(間違|誤)",
        r"誤って(交付|配達|郵送|手渡|渡し)", r"別の(方|お客様|顧客)に(郵送|送付|発送|渡)",
        r"wrong enclosure", r"wrong envelope", r"misdeliver", r"misaddressed",
        r"(posted|mailed|delivered|handed|given) to the wrong", r"delivered[^.\n]{0,80}(instead of|wrong)")),
    Rule("wrong_display", (
        r"誤表示", r"(他|別)の(お客様|顧客|会員|利用者|方)の[^。\n]{0,15}表示", r"誤って公開",
        r"閲覧(できる|可能な)状態", r"公開状態", r"(visible|displayed|shown) to (other|another)",
        r"publicly (accessible|visible)")),
    Rule("misuse", (r"目的外", r"私的(に)?利用", r"beyond the purpose", r"for another purpose", r"misuse")),
    Rule("verbal", (r"口頭", r"口外", r"verbally", r"over the phone", r"told (a|an|the) ")),
    Rule("loss", (
        r"紛失", r"置き?忘れ", r"失くし", r"無くし", r"なくし", r"見当たら", r"所在不明", r"落とし",
        r"\blost\b", r"misplaced", r"cannot be found", r"can't find", r"missing")),
    Rule("wrong_entry", (
        r"誤登録", r"誤入力", r"登録(ミス|誤り)", r"入力(ミス|誤り)", r"entered (incorrectly|wrongly)",
        r"data entry error", r"wrong data entered")),
)


def _item(value: str, *patterns: str, unless: str | None = None) -> Rule:
    """A data item: "病歴は含まれていません" does not mention it."""
    return Rule(value, patterns, negatable=True, unless=unless)


# Data items; a sensitive item marks the report sensitive, a financial item financial.
DATA_ITEM_RULES = (
    _item("name", r"氏名", r"名前", r"フルネーム", r"(?<!file )(?<!user )(?<!company )\bnames?\b"),
    _item("address", r"住所", r"所在地", r"(home|postal|mailing|street) address",
          r"\baddresses\b(?! (of|in) the (to|cc))"),
    _item("phone", r"電話番号", r"携帯番号", r"連絡先番号", r"\btel\b", r"phone numbers?", r"telephone"),
    # A mistyped recipient address (宛先のメールアドレスを誤って) is how the mail went astray, not data.
    _item("email", r"(?<!宛先の)(?<!送信先の)メールアドレス(?!を(誤|間違))", r"メアド",
          r"(?<!wrong )e-?mail address(es)?"),
    _item("birthdate", r"生年月日", r"誕生日", r"dates? of birth", r"birth ?dates?", r"birthdays?"),
    _item("gender", r"性別", r"\bgender\b"),
    _item("employee_id", r"(社員|従業員|職員)番号", r"employee (id|number)s?"),
    _item("customer_id", r"(顧客|会員|お客様)(番号|id)", r"(customer|member|membership) (id|number)s?"),
    _item("photo", r"顔写真", r"写真", r"\bphoto(graph)?s?\b"),
    _item("salary", r"給与", r"給料", r"賞与", r"源泉徴収", r"salar(y|ies)", r"payroll", r"pay ?slips?"),
    _item("medical", r"病歴", r"既往歴", r"健康診断", r"健診", r"診断書", r"診断結果", r"診療", r"カルテ", r"病名",
          r"傷病", r"処方", r"服薬", r"通院", r"検査結果", r"ストレスチェック", r"medical",
          r"health (check|record|data|information)", r"stress check", r"diagnos[ie]s", r"prescriptions?"),
    # "障害" alone is also a system failure (システム障害).
    _item("disability", r"障害者", r"障がい", r"障碍", r"(身体|精神|知的|発達)障害", r"療育手帳",
          r"disabilit(y|ies)"),
    _item("criminal_record", r"犯罪歴", r"前科", r"逮捕歴", r"criminal records?", r"convictions?"),
    _item("creed", r"信条", r"宗教", r"信仰", r"religio(n|us)", r"\bcreed\b"),
    _item("race", r"人種", r"民族", r"\bracial\b", r"ethnic"),
    _item("social_status", r"社会的身分", r"social status"),
    _item("crime_victim", r"犯罪(の)?被害", r"victims? of (a )?crime", r"crime victims?"),
    # The last four digits of a card cannot take anyone's money (PPC guideline 通則編 3-5 and Q&A).
    _item("card_number", r"(?<!ポイント)(?<!会員)(?<!診察)カード(番号|情報)", r"クレジットカード", r"クレカ",
          r"セキュリティコード", r"credit card", r"card numbers?", r"card details", r"\bcvv\b", r"payment card",
          r"card (data|information)", r"security codes?", unless=r"(下|末尾)(4|四)桁|last (4|four) digits"),
    _item("account", r"口座", r"bank account", r"account numbers?"),
    _item("pin", r"暗証番号", r"(card|bank|account) pins?\b",
          r"pins? (codes?|numbers?) (for|of) (the |their )?(cards?|accounts?)"),
    _item("my_number", r"マイナンバー", r"個人番号", r"my ?number", r"individual number"),
)
SENSITIVE_WORDS = Rule("sensitive", (r"要配慮個人情報", r"sensitive personal (data|information)"),
                       negatable=True)

# ID and password count as financial (T2) only for a service that can pay or move money.
CREDENTIALS = re.compile(r"id(・|と|/|及び|および|、)?パスワード|ログインid|ログイン情報|認証情報"
                         r"|(user ?names?|ids?|logins?|e-?mail address(es)?) and passwords?"
                         r"|login credentials|log-?in details")
PAYMENT_CONTEXT = re.compile(r"バンキング|決済|ec ?サイト|通販|ショッピング|送金"
                             r"|banking|payment|checkout|online shop")

WRONGFUL_WORDS = Rule("wrongful", (r"不正(な|の)?目的", r"悪用", r"なりすまし", r"フィッシング", r"脅迫",
                                   r"phishing", r"extortion", r"wrongful"), negatable=True)

# A key that travelled with the data (or leaked) defeats the encryption: checked first.
KEY_LEAKED = Rule("encrypted", (
    r"パスワード(も|を)?(同じ|同一|同送)", r"パスワードも[^。\n]{0,15}(送|同|添付|記載|伝え)",
    r"(本文|同じメール)に(パスワード|pw)", r"パスワード[^。\n]{0,10}(漏えい|流出|盗まれ|付箋|貼)",
    r"password (was |were )?(also|in the same)", r"password[^.\n]{0,40}(same|one) (e-?mail|message)",
    r"(key|password) (was |were )?(also )?(leaked|lost|stolen)",
    r"password[^.\n]{0,20}(sticky note|attached to|taped)"))
UNENCRYPTED = Rule("encrypted", (r"未暗号化", r"非暗号化", r"平文", r"unencrypted", r"in plain ?text"))
ENCRYPTED = Rule("encrypted", (
    r"暗号化", r"パスワード(付き|付|つき)", r"パスワード(を|は|が)?(設定|かけ|保護)", r"パスワードロック",
    r"bitlocker", r"filevault", r"encrypted", r"encryption", r"password[- ]protected"), negatable=True)
# Ransomware "encrypts" files too; that is the attack, not a protection of the data.
RANSOM = re.compile(r"ランサム|ransom")

ENTRUSTED = Rule("entrusted", (
    r"委託元", r"受託", r"お預かり", r"預かって", r"預かり", r"取引先から(預|提供)", r"クライアント(企業)?(の|から)",
    r"client'?s (customer|data|personal)", r"on behalf of (our|a|the) client", r"entrusted to us",
    r"as (a|their|the) (data )?processor", r"our client"), negatable=True)
NOT_ENTRUSTED = Rule("entrusted", (r"(自社|当社|弊社)(の|が直接)(顧客|会員|取得)", r"our own (customers|data)"))
CLIENT_NAME = re.compile(r"(?:委託元|クライアント|取引先|client)(?:である|は|の|様|:|：|,|\s)*"
                         r"(株式会社[^\s、。,()（）「」]{1,20}?|[^\s、。,()（）「」:：]{1,20}?株式会社"
                         r"|[a-z][\w&.\-]*(?: [a-z][\w&.\-]*){0,3},? (?:inc|ltd|corp|co|llc|k\.k)\b\.?)"
                         r"(?=から|より|の|に|へ|が|は|様|御中|、|。|,|\.|\s|$)", re.IGNORECASE)

JA_NEGATION = re.compile(r"(?:(?!こと|ため|ので|ところ|たが|だが|すが|けど|ものの)[^、。,.!?\n]){0,12}?"
                         r"(ない|なく|なし|無し|ません|おらず|なかった|せず|含まず)")
EN_NEGATION = frozenset({"no", "not", "without", "never", "none", "nor", "neither"})


class Extraction(NamedTuple):
    """What the text says: field values, and for each field the words that said it."""

    values: dict
    evidence: dict


def normalize(subject: str, text: str) -> str:
    """One NFKC string of subject and body, without the quoted lines of earlier mail."""
    body = "\n".join(line for line in (text or "").splitlines() if not line.lstrip().startswith(">"))
    return unicodedata.normalize("NFKC", f"{subject or ''}\n{body}")


def negated(text: str, match: re.Match) -> bool:
    """Whether a mention is denied: 暗号化されていない, 未暗号化, not encrypted, no medical data."""
    if JA_NEGATION.match(text, match.end()) or text[max(match.start() - 1, 0):match.start()] in ("未", "非"):
        return True
    before = re.findall(r"[a-z']+", text[max(match.start() - 40, 0):match.start()])[-3:]
    return any(word in EN_NEGATION or word.endswith("n't") for word in before)


def find(rule: Rule, text: str) -> tuple[re.Match | None, bool]:
    """The first mention of the rule and whether it was denied (a denial counts if nothing affirms)."""
    denial = None
    for pattern in rule.patterns:
        for match in re.finditer(pattern, text):
            if rule.unless and re.search(rule.unless, text[max(match.start() - 20, 0):match.end() + 15]):
                continue
            if not (rule.negatable and negated(text, match)):
                return match, False
            denial = denial or match
    return denial, denial is not None


def affirmed(rule: Rule, text: str) -> str | None:
    """The words of the first mention of the rule that is not denied."""
    match, denied = find(rule, text)
    return match.group(0) if match and not denied else None


Said = tuple[object, str | None]  # a value and the evidence for it


def _category(text: str) -> Said | None:
    return next(((rule.value, f"matched {words}") for rule in CATEGORY_RULES
                 if (words := affirmed(rule, text))), None)


def _data_items(text: str) -> dict[str, str]:
    """Each data item mentioned, with the words that mention it."""
    found = {rule.value: words for rule in DATA_ITEM_RULES if (words := affirmed(rule, text))}
    credentials = CREDENTIALS.search(text)
    if credentials:
        payment = PAYMENT_CONTEXT.search(text)
        found["id_password" if payment else "login"] = credentials.group(0) + (
            f" + {payment.group(0)}" if payment else "")
    return found


def _flag(*words: str | None) -> Said | None:
    """True, with the words that said so, when any words were found."""
    found = [w for w in words if w]
    return (True, "matched " + ", ".join(found)) if found else None


def _wrongful(text: str) -> Said | None:
    rules = (*(rule for rule in CATEGORY_RULES if rule.value in WRONGFUL_CATEGORIES), WRONGFUL_WORDS)
    return _flag(next((words for rule in rules if (words := affirmed(rule, text))), None))


def _encrypted(text: str) -> Said | None:
    for rule, protects in ((KEY_LEAKED, False), (UNENCRYPTED, False), (ENCRYPTED, True)):
        match, denied = find(rule, text)
        if not match or (protects and not denied and RANSOM.search(text)):
            continue
        reason = "key or password not protected:" if rule is KEY_LEAKED else "matched"
        return protects and not denied, f"{reason} {match.group(0)}" + (" (denied)" if denied else "")
    return None


def _entrusted(text: str) -> Said | None:
    for rule, value in ((ENTRUSTED, True), (NOT_ENTRUSTED, False)):
        if words := affirmed(rule, text):
            return value, f"matched {words}"
    return None


def _client(original: str) -> Said | None:
    client = CLIENT_NAME.search(original)  # not lower-cased: names keep their letters
    return (client.group(1).strip(), f"matched {client.group(0)}") if client else None


def extract(subject: str, text: str) -> Extraction:
    """The facts a report states. Fields it does not mention are left out (unknown)."""
    original = normalize(subject, text)
    lowered = original.lower()
    items = _data_items(lowered)
    said = {
        "category": _category(lowered),
        "data_items": (list(items), "matched " + ", ".join(items.values())) if items else None,
        "sensitive": _flag(*(w for i, w in items.items() if i in SENSITIVE_ITEMS),
                           affirmed(SENSITIVE_WORDS, lowered)),
        "financial": _flag(*(w for i, w in items.items() if i in FINANCIAL_ITEMS)),
        "wrongful": _wrongful(lowered),
        "encrypted": _encrypted(lowered),
        "entrusted": _entrusted(lowered),
    }
    if said["entrusted"] and said["entrusted"][0] is True:
        said["client"] = _client(original)
    # The largest count is the one that matters: smaller ones are usually mails or staff, and
    # the law counts the largest possible number anyway.
    stated = counts(lowered)
    if stated:
        number, estimated, words = max(stated)
        said["persons"], said["persons_estimated"] = (number, f"matched {words}"), (estimated, None)
    found = {field: value for field, value in said.items() if value is not None}
    return Extraction({field: value for field, (value, _) in found.items()},
                      {field: why for field, (_, why) in found.items() if why})

"""The words of the domain: categories of incident, data items, audiences, with ja/en labels."""

from __future__ import annotations

# Each id with its Japanese and English label; the order is the order reports list them in.
CATEGORY_LABELS = {
    "misdirected_email": ("メールの誤送信", "email sent to the wrong recipient"),
    "misdirected_fax": ("FAXの誤送信", "fax sent to the wrong number"),
    "misdelivery": ("誤配達・誤交付（封入ミスを含む）", "post or documents delivered or handed to the wrong person"),
    "wrong_display": ("誤表示", "shown to the wrong person"),
    "wrong_entry": ("誤登録", "wrong data entered"),
    "loss": ("紛失", "loss"),
    "theft": ("盗難", "theft"),
    "wrong_disposal": ("誤廃棄", "wrongly discarded"),
    "unauthorized_access": ("不正アクセス", "unauthorized access"),
    "malware": ("マルウェア感染", "malware"),
    "insider": ("内部不正（不正な持ち出し等）", "insider wrongdoing"),
    "verbal": ("口頭での漏えい", "verbal disclosure"),
    "misuse": ("目的外利用", "use beyond the purpose"),
    "other": ("その他", "other"),
}
CATEGORIES = tuple(CATEGORY_LABELS)

DATA_ITEM_LABELS = {
    "name": ("氏名", "name"),
    "address": ("住所", "postal address"),
    "phone": ("電話番号", "phone number"),
    "email": ("メールアドレス", "email address"),
    "birthdate": ("生年月日", "date of birth"),
    "gender": ("性別", "gender"),
    "employee_id": ("社員番号", "employee number"),
    "customer_id": ("顧客番号・会員番号", "customer or member number"),
    "photo": ("顔写真", "photograph"),
    "salary": ("給与情報", "salary"),
    "medical": ("病歴・健康診断結果等", "medical history or health check results"),
    "disability": ("障害に関する情報", "disability"),
    "criminal_record": ("犯罪歴", "criminal record"),
    "creed": ("信条", "creed or religion"),
    "race": ("人種", "race"),
    "social_status": ("社会的身分", "social status"),
    "crime_victim": ("犯罪により害を被った事実", "having been a victim of crime"),
    "card_number": ("クレジットカード番号", "credit card number"),
    "account": ("銀行口座情報", "bank account details"),
    "pin": ("暗証番号", "PIN"),
    "id_password": ("決済・銀行サービスのID・パスワード", "ID and password for payment or banking"),
    "login": ("ログインID・パスワード（決済機能なし）", "login ID and password (no payment function)"),
    "my_number": ("個人番号（マイナンバー）", "My Number (individual number)"),
    "other": ("その他", "other"),
}
DATA_ITEMS = tuple(DATA_ITEM_LABELS)

# 要配慮個人情報 (sensitive personal information), APPI Art. 2(3) and Cabinet Order Art. 2.
SENSITIVE_ITEMS = frozenset({"medical", "disability", "criminal_record", "creed", "race",
                             "social_status", "crime_victim"})
# Enforcement Rules Art. 7(2): data whose misuse can take someone's money. A bank account
# number alone is not enough (PPC guideline 3-5-3-1), so `account` is not in this set.
FINANCIAL_ITEMS = frozenset({"card_number", "id_password", "pin"})
# Art. 7(3): acts that may have a wrongful purpose.
WRONGFUL_CATEGORIES = frozenset({"unauthorized_access", "malware", "theft", "insider"})
# Mistakes by our own people; nobody acted with a wrongful purpose unless someone says so.
# Not "verbal": data told over the phone is as often obtained by a caller who lied about who
# they were (acquisition by deception, GL 3-5-3-1 (3)) as let slip, so the kind alone decides
# nothing about T3 there.
ACCIDENT_CATEGORIES = frozenset({"misdirected_email", "misdirected_fax", "misdelivery",
                                 "wrong_display", "wrong_entry", "wrong_disposal"})

# Who the persons are: the notice to them is worded for them, and a financial firm's sector
# report covers individual customers' data (PPC/FSA 金融機関Q&A Q4-12).
AUDIENCE_LABELS = {
    "customers": ("お客様", "customers"),
    "members": ("会員の皆様", "members"),
    "users": ("ご利用者の皆様", "users"),
    "patients": ("患者の皆様", "patients"),
    "students": ("学生・生徒の皆様", "students"),
    "employees": ("従業員の皆様", "employees"),
    "applicants": ("応募者の皆様", "applicants"),
    "others": ("関係者の皆様", "persons concerned"),
}
AUDIENCES = tuple(AUDIENCE_LABELS)
NOT_CUSTOMERS = frozenset({"employees", "applicants"})
MEDIA = ("paper", "electronic", "both")
CAUSED_BY = ("us", "processor", "third_party")

# The triggers of Enforcement Rules Art. 7 as the PPC's form and an officer name them (never
# the internal T1-T4): Japanese, then English.
TRIGGER_WORDS = {
    "T1": ("規則第7条第1号（要配慮個人情報の漏えい等）",
           "Enforcement Rules Art. 7(1) (sensitive personal information)"),
    "T2": ("規則第7条第2号（財産的被害が生じるおそれがある漏えい等）",
           "Enforcement Rules Art. 7(2) (data whose misuse may cause financial loss)"),
    "T3": ("規則第7条第3号（不正の目的をもって行われたおそれがある漏えい等）",
           "Enforcement Rules Art. 7(3) (possibly an act with a wrongful purpose)"),
    "T4": ("規則第7条第4号（1,000人を超える漏えい等）",
           "Enforcement Rules Art. 7(4) (more than 1,000 persons)"),
}


def trigger_words(trigger: str, lang: str) -> str:
    """A trigger id in legal words, in `lang` (ja or en); an unknown id as it is."""
    words = TRIGGER_WORDS.get(trigger)
    return words[0 if lang == "ja" else 1] if words else trigger

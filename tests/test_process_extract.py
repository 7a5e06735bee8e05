"""Extraction from realistic reports, scored per field; run this file directly to print the figures."""

from __future__ import annotations

import pytest

from leakline.process.counts import parse_number
from leakline.process.extract import extract

SCORED = ("category", "sensitive", "financial", "wrongful", "encrypted", "entrusted", "persons")


def expect(category, persons=None, estimated=False, **flags):
    """What a careful reader takes from the report; flags not named are not stated (None)."""
    return {"category": category, "persons": (persons, estimated if persons is not None else False),
            **{flag: flags.get(flag) for flag in SCORED[1:-1]}}


# Written while the rules were written (the rules were tuned on these).
REPORTS = [
    ("【至急】メール誤送信のご報告",
     "営業部の山田です。本日14時頃、健康保険組合宛てに送るべき従業員15名分の健康診断結果（氏名・生年月日・病歴を"
     "含むExcel）を、取引先の別の担当者に誤送信してしまいました。ファイルにパスワードは設定していませんでした。"
     "先方には削除を依頼済みです。",
     expect("misdirected_email", 15, sensitive=True, encrypted=False)),
    ("USBメモリ紛失",
     "総務課の佐藤です。昨日の外出時に、顧客名簿（氏名、住所、電話番号）約1,200件が入ったUSBメモリを紛失しました。"
     "電車内で置き忘れた可能性があります。USBメモリは暗号化されていません。駅に遺失物の問い合わせ中です。",
     expect("loss", 1200, True, encrypted=False)),
    ("FAX誤送信について",
     "本日、注文書を顧客宛てにFAXする際、番号を1桁押し間違え、無関係の事業者へ送信してしまいました。注文書には"
     "お客様1名の氏名、住所、電話番号が記載されています。送信先には連絡がつき、破棄をお願いしています。",
     expect("misdirected_fax", 1)),
    ("ノートPC盗難",
     "昨夜、営業担当者の車上荒らしに遭い、業務用ノートPC1台が盗まれました。PCには顧客約300名分の氏名・連絡先が"
     "保存されていますが、BitLockerでディスク全体を暗号化しており、回復キーは社内で管理しています。"
     "警察に被害届を提出しました。",
     expect("theft", 300, True, wrongful=True, encrypted="claim")),
    ("ランサムウェア感染の報告",
     "本日朝、ファイルサーバーがランサムウェアに感染し、共有フォルダ内のファイルが暗号化されました。会員情報"
     "データベース（約3万人分、氏名・メールアドレス・クレジットカード番号の下4桁）への不正アクセスの可能性も"
     "あります。サーバーはネットワークから隔離済みです。",
     expect("malware", 30000, True, wrongful=True)),
    ("封入ミス",
     "請求書発送業務において封入ミスがあり、A様宛ての封筒にB様の請求書が同封されていました。受け取ったA様からの"
     "ご連絡で判明しました。請求書には氏名、住所、ご利用金額、口座番号の一部が記載されています。対象は1名です。",
     expect("misdelivery", 1)),
    ("ECサイトへの不正アクセスについて",
     "当社が運営するECサイトが不正アクセスを受け、決済画面が改ざんされていた可能性があります。2025年12月から"
     "2026年2月の間にカード決済をされたお客様最大2,450名のクレジットカード番号、有効期限、セキュリティコードが"
     "流出したおそれがあります。",
     expect("unauthorized_access", 2450, True, financial=True, wrongful=True)),
    ("Email sent to wrong recipient",
     "Hi, this is Ken from HR. At 10:15 today I emailed the payroll spreadsheet for March to the wrong recipient - "
     "an external address with a similar name was picked by autocomplete. The file lists 48 employees with names, "
     "bank account numbers and salaries. It was not password-protected. I have asked the recipient to delete it.",
     expect("misdirected_email", 48, encrypted=False)),
    ("Lost laptop",
     "Our sales manager lost a company laptop on the train last night. It holds a CRM export with about 2,000 "
     "customers (names, phone numbers, email addresses). The laptop is encrypted with BitLocker and the recovery "
     "key is stored only in our IT vault.",
     expect("loss", 2000, True, encrypted="claim")),
    ("Ransomware on file server",
     "Ransomware hit our file server this morning. Files on the shared drive were encrypted by the attackers and a "
     "ransom note demands payment. The shared drive contains HR records including health check results for roughly "
     "350 staff. We have isolated the server.",
     expect("malware", 350, True, sensitive=True, wrongful=True)),
    ("BCC設定漏れによるメールアドレスの流出",
     "セミナー案内メールを一斉送信する際、BCCではなくTOに112件のメールアドレスを入力して送信してしまいました。"
     "受信者全員が互いのメールアドレスを見られる状態です。",
     expect("misdirected_email", 112)),
    ("顧客リストの持ち出し",
     "退職予定の営業社員が、顧客リスト（約5,000件、氏名・電話番号・購入履歴）を私用のクラウドストレージに"
     "無断でアップロードし、社外に持ち出していたことが判明しました。",
     expect("insider", 5000, True, wrongful=True)),
    ("誤交付の報告",
     "窓口で住民票の写しを交付する際、別の方の書類を誤って交付してしまいました。書類には氏名、住所、生年月日、"
     "本籍が記載されています。対象は1名です。",
     expect("misdelivery", 1)),
    ("Card data exposed",
     "During a call centre audit we found that an agent had written down customer credit card numbers on paper "
     "notes, and some of the notes are missing. Up to 60 customers are affected.",
     expect("loss", 60, True, financial=True)),
    ("契約書類の誤廃棄",
     "保存期間内の契約書類（約800名分、氏名・住所・電話番号）を、誤って廃棄書類と一緒に一般ごみとして廃棄していた"
     "ことが判明しました。回収業者に確認中です。",
     expect("wrong_disposal", 800, True)),
    ("マイページの誤表示",
     "会員サイトのマイページで、一部の会員がログインすると別の会員の氏名・住所・電話番号が表示される不具合が"
     "発生しました。影響を受けた可能性がある会員は約150名です。",
     expect("wrong_display", 150, True)),
    ("会員登録の誤入力",
     "会員登録の代行入力で、お客様のメールアドレスを誤入力し、別人のアドレスで登録してしまいました。登録完了メールが"
     "第三者に送られ、お客様1名の氏名と会員番号が知られた可能性があります。",
     expect("wrong_entry", 1)),
    ("店頭での口頭による漏えい",
     "店舗スタッフが、他のお客様がいる前で、来店されたお客様の病名を口頭で読み上げてしまいました。",
     expect("verbal", 1, sensitive=True)),
    ("住所の目的外利用",
     "キャンペーン当選者への発送用に取得した住所を、当社の別商品のダイレクトメール送付に目的外利用していました。"
     "対象は約2,300名です。",
     expect("misuse", 2300, True)),
    ("Unauthorized access to customer portal",
     "We detected unauthorized access to our customer portal. An attacker used credential stuffing to log in to "
     "212 customer accounts and could view names, addresses and order history.",
     expect("unauthorized_access", 212, wrongful=True)),
    ("Stolen backpack",
     "A backpack containing printed application forms for 75 job applicants was stolen from a staff member's car. "
     "The forms include names, dates of birth, addresses and, for some, disability information for reasonable "
     "adjustments. We reported the theft to the police.",
     expect("theft", 75, sensitive=True, wrongful=True)),
    ("Client data emailed to wrong recipient",
     "We process customer data on behalf of our client, Northwind Foods Inc. Yesterday one of our operators emailed "
     "a CSV with 1,850 of their customers (names, email addresses, phone numbers) to the wrong recipient. The file "
     "was not encrypted.",
     expect("misdirected_email", 1850, encrypted=False, entrusted=True)),
    ("受託データの誤送信",
     "当社は株式会社みどり保険から顧客データ入力業務を受託しています。作業用に受領した申込書のうち、約420名分"
     "（氏名・住所・生年月日・既往歴）を含むファイルを、作業者が誤って別の委託元の担当者へメールで送信して"
     "しまいました。",
     expect("misdirected_email", 420, True, sensitive=True, entrusted=True)),
    ("申込書類の紛失",
     "机の上に置いていた顧客5名分の申込書類が見当たりません。申込書には氏名、住所、電話番号が記載されています。"
     "社内を捜索中です。",
     expect("loss", 5)),
    ("Renewal letters in wrong envelopes",
     "Due to a mail-merge error, 230 renewal letters were put in the wrong envelopes, so each customer received "
     "another customer's letter showing name, address and policy number.",
     expect("misdelivery", 230)),
    ("Emotet感染",
     "社員のPCがEmotetに感染し、Outlookに保存されていた取引先担当者約600名分のメールアドレスと過去のメール本文が"
     "窃取された可能性があります。感染端末はネットワークから切り離しました。",
     expect("malware", 600, True, wrongful=True)),
    ("マイナンバー書類の共有フォルダ保存",
     "給与担当者が、従業員のマイナンバーが記載された扶養控除等申告書のコピー（12名分）を社内の共有フォルダに"
     "誤って保存し、全社員が閲覧できる状態になっていました。",
     expect(None, 12)),  # too short to be sure: unknown, asked in the form
    ("Referral faxed to wrong clinic",
     "A nurse faxed a referral letter with a patient's diagnosis and medication list to the wrong clinic. The "
     "receiving clinic has confirmed they shredded it. One patient is affected.",
     expect("misdirected_fax", 1, sensitive=True)),
    ("社用スマートフォンの置き忘れ",
     "営業部員が社用スマートフォンを飲食店に置き忘れ、翌朝まで所在不明となっていました。スマートフォンには顧客"
     "約90名分の連絡先（氏名・電話番号）が登録されています。画面ロックは設定済みで、現在は発見され手元に戻って"
     "います。",
     expect("loss", 90, True, encrypted="claim")),  # a screen lock is a claim, not the exception
    ("Newsletter sent with CC",
     "Our newsletter to 540 subscribers went out with all addresses in the CC field instead of BCC, so every "
     "recipient can see the others' email addresses.",
     expect("misdirected_email", 540)),
    ("不正ログインの確認",
     "通販サイトの会員アカウントに対する不正ログインが確認されました。第三者がリスト型攻撃により約1,000件の"
     "アカウントにログインし、登録されたクレジットカードで不正な購入が行われた可能性があります。",
     expect("unauthorized_access", 1000, True, financial=True, wrongful=True)),
    ("見積書の誤送信",
     "見積書を送付する際、宛先を間違えて別会社の担当者に送信しました。添付ファイルはパスワード付きZIPでしたが、"
     "続けてパスワードも同じ宛先に送ってしまいました。ファイルにはお客様3名の氏名と住所が含まれます。",
     expect("misdirected_email", 3, encrypted=False)),
    ("Verbal disclosure at reception",
     "A receptionist verbally disclosed a patient's medical condition to his employer over the phone.",
     # A receptionist's slip (SPEC: mistakes are not wrongful): retrained on 710 reports, the model's
     # wrongful head gives 0.38 (it gave 0.55 trained on 560), under the 0.4 that sets it; T1 holds.
     expect("verbal", 1, sensitive=True, wrongful=None)),
    ("Application forms thrown away",
     "Boxes of old application forms (about 1,500 applicants: names, addresses, dates of birth) were thrown away "
     "by mistake with general waste instead of being shredded.",
     expect("wrong_disposal", 1500, True)),  # thrown away by mistake (SPEC: wrongly discarded)
    ("USB stick lost at client site",
     "An engineer lost a USB stick at a client site. It held a database extract we maintain on behalf of our "
     "client, 3,200 members of their loyalty programme (names, emails, birthdays). The stick was unencrypted.",
     expect("loss", 3200, encrypted=False, entrusted=True)),
]


# Written after the first rules and scored before the rules saw them; the rules were then widened.
LATER = [
    ("個人情報を含むメールの誤送信について",
     "経理部の田中です。取引先への支払通知を送る際、アドレス帳から誤って同姓の別の方を選択して送信しました。"
     "添付の支払明細には個人事業主3名の氏名、住所、振込先口座が記載されています。",
     expect("misdirected_email", 3)),
    ("書類の紛失",
     "本日、訪問先から帰社する途中で、お客様の健康診断書を含む書類一式を入れた封筒を紛失しました。対象のお客様は2名です。"
     "交番に遺失届を出しました。",
     expect("loss", 2, sensitive=True)),
    ("Phishing and mailbox compromise",
     "An employee entered her Microsoft 365 password on a phishing page. The attacker logged in to her mailbox "
     "and set up a forwarding rule. The mailbox contains correspondence with around 900 customers, including "
     "names and phone numbers.",
     expect("unauthorized_access", 900, True, wrongful=True)),
    ("宅配便の誤配送",
     "ご注文商品の発送時に送り状を貼り間違え、お客様2名の商品がそれぞれ入れ替わって届きました。納品書には氏名、"
     "住所、電話番号、購入商品が記載されています。",
     expect("misdelivery", 2)),
    ("Stolen bag with patient files",
     "A home-visit nurse had her bag stolen on the bus. It contained paper care records for 8 patients, "
     "including diagnoses and prescriptions.",
     expect("theft", 8, sensitive=True, wrongful=True)),
    ("Webサーバーへの攻撃",
     "問い合わせフォームの脆弱性を突いたSQLインジェクション攻撃により、問い合わせ履歴約4,200件（氏名・メール"
     "アドレス・電話番号・問い合わせ内容）が外部に流出した可能性があります。",
     expect("unauthorized_access", 4200, True, wrongful=True)),
    ("Wrong attachment",
     "I attached the wrong file to a reply to a supplier: instead of the price list I sent our staff emergency "
     "contact sheet (names, home addresses and phone numbers of 27 employees). The supplier says they deleted it.",
     expect("misdirected_email", 27)),
    ("採用書類の誤廃棄",
     "選考中の応募者の履歴書（17名分）を、不採用者の書類と取り違えて誤って廃棄しました。シュレッダー処理は"
     "されておらず、古紙回収に出された可能性があります。",
     expect("wrong_disposal", 17)),
    ("委託元データの流出",
     "当社が受託しているコールセンター業務で、委託元であるさくら通信株式会社の顧客情報（約2万件、氏名・電話番号・"
     "契約内容）が、オペレーターのPCに感染したマルウェアにより外部に送信された可能性があります。",
     expect("malware", 20000, True, wrongful=True, entrusted=True)),
    ("Lost USB, encrypted",
     "A USB key with the list of this year's scholarship recipients (43 students, names and family income) was "
     "lost at the conference venue. The key is hardware-encrypted and the PIN was not written on it.",
     expect("loss", 43, encrypted="claim")),
    ("口座情報と暗証番号",
     "窓口で受け付けた口座振替依頼書1枚（お客様1名分、口座番号と届出印の印影）が所在不明です。",
     expect("loss", 1, financial=True)),  # the subject says 暗証番号
    ("Sent to all staff",
     "HR accidentally sent the results of the stress check for the sales team (14 people) to the all-staff "
     "mailing list instead of the sales manager.",
     expect("misdirected_email", 14, sensitive=True)),
    ("ウイルス対策ソフトの警告",
     "本日、経理部のPCでウイルス対策ソフトが警告を出しました。調査の結果、マルウェアの感染は確認されませんでしたが、"
     "念のため報告します。",
     expect(None)),
    ("誤ってFAX",
     "医療機関への紹介状を、誤って別の医院にファクスしてしまいました。紹介状には患者様1名の氏名、生年月日、病名が"
     "記載されています。",
     expect("misdirected_fax", 1, sensitive=True)),
    ("Data visible on public link",
     "A shared cloud folder with the membership list (approximately 640 members: names, emails, dates of birth) "
     "was set to 'anyone with the link' and was publicly accessible for two weeks.",
     expect(None, 640, True)),  # too short to be sure: unknown, asked in the form
]

# Written later still, scored, then the rules widened again.
UNSEEN = [
    ("【報告】顧客情報の漏洩について",
     "お疲れ様です。営業二課の木村です。先ほど、見積依頼への返信メールに、別のお客様向けの提案書を添付して送ってしまったことに"
     "気付きました。提案書には先方企業の担当者様お一人の氏名と携帯電話番号が載っています。",
     expect("misdirected_email", 1)),
    ("教員のノートPC盗難",
     "本校教員が帰宅途中に自宅近くの駐車場で車の窓ガラスを割られ、成績データと保健室の来室記録（生徒約250名）が入った"
     "ノートPCを盗まれました。PCにはログインパスワードのみ設定されており、ディスクの暗号化はしていません。",
     expect("theft", 250, True, wrongful=True, encrypted=False)),
    ("Misaddressed parcel of documents",
     "Our courier delivered a box of signed loan agreements to our Osaka branch's neighbour instead of the branch. "
     "The box contained agreements for 19 customers with their names, addresses and bank account details. The "
     "neighbour returned it unopened.",
     expect("misdelivery", 19)),
    ("サーバー設定ミスによる公開",
     "クラウドストレージのアクセス権限設定を誤り、セミナー参加者名簿（氏名・会社名・メールアドレス、計1,032名）が"
     "URLを知っていれば誰でも閲覧可能な状態になっていました。期間は3月1日から3月9日です。",
     expect("unauthorized_access", 1032, wrongful=True)),  # open to anyone: T3 stays open
    ("Ex-employee took client list",
     "We learned that a sales rep who left last month downloaded our customer list (approximately 7,500 records with "
     "names, emails and purchase history) to a personal drive before leaving and is now using it at a competitor.",
     expect("insider", 7500, True, wrongful=True)),
    ("健診結果の誤送付",
     "健康診断結果の通知書を郵送する際、宛名ラベルの貼り付けを誤り、社員2名の結果がそれぞれ別の社員の自宅に届きました。",
     expect("misdelivery", 2, sensitive=True)),
    ("Suspicious login to payroll system",
     "Our payroll provider told us that an unknown IP logged into our admin account on their platform using valid "
     "credentials. The account can see salary data and bank account numbers for all 430 employees. We have reset "
     "the password and enabled MFA.",
     expect("unauthorized_access", 430, wrongful=True)),
    ("FAX送信先の誤り",
     "薬局から処方内容の照会FAXを病院へ送る際、短縮ダイヤルの登録誤りにより、近隣の別の事業所へ送信されました。"
     "患者様1名の氏名と処方薬が記載されています。",
     expect("misdirected_fax", 1, sensitive=True)),
    ("会員カード情報の流出のおそれ",
     "当社ネットショップの決済代行会社から、カード情報が不正に取得された可能性があるとの連絡を受けました。対象は"
     "2024年4月以降にカード決済を利用したお客様で、件数は現在確認中です。",
     expect("unauthorized_access", financial=True, wrongful=True)),
    ("Paper files in recycling bin",
     "A box of paper job applications (names, addresses, work history) was found in the public recycling bin "
     "outside our office. It seems a temp worker threw it out by mistake. We estimate around 60 applicants.",
     expect("wrong_disposal", 60, True)),
    ("保険証のコピーを紛失",
     "受託している健康保険組合の加入者手続きで預かった被保険者証のコピー（12名分）が、執務室内で見当たらなくなりました。"
     "施錠キャビネットには戻されていませんでした。",
     expect("loss", 12, entrusted=True)),
    ("Verbal slip at the bank counter",
     "A teller told a customer's neighbour, who was waiting in the queue, that the customer had fallen behind on "
     "loan repayments.",
     expect("verbal", 1)),
]

# Written last and never tuned for: the honest measure of how extraction does on new reports.
FRESH = [
    ("顧客名簿の置き忘れ",
     "本日夕方、取引先との打合せ後に立ち寄ったカフェに、顧客名簿のファイル（紙、約70名分の氏名・住所・電話番号）を"
     "置いてきてしまいました。店に連絡しましたが見つかっていません。",
     expect("loss", 70, True)),
    ("Wrong customer's invoice attached",
     "Our billing system attached another customer's invoice to 3 outgoing invoice emails because of a template "
     "bug. Each invoice shows the customer's name, address and the last four digits of the card used.",
     expect("misdirected_email", 3)),
    ("不審なメールの添付ファイルを開封",
     "総務部の社員が取引先を装った不審なメールの添付ファイルを開いたところ、PCがマルウェアに感染した可能性があります。"
     "PC内には従業員の給与明細（約120名分）が保存されていました。",
     expect("malware", 120, True, wrongful=True)),
    ("Laptop left in taxi",
     "I left my work laptop in a taxi on Friday night. The taxi company has not found it. The laptop holds "
     "spreadsheets with names and phone numbers of about 400 event attendees. Disk encryption is enabled.",
     expect("loss", 400, True, encrypted="claim")),
    ("介護記録の誤送付",
     "ケアマネジャーへ送る予定だった利用者様1名の介護記録（氏名、要介護度、既往歴）を、誤って別の居宅介護支援事業所に"
     "郵送してしまいました。",
     expect("misdelivery", 1, sensitive=True)),
    ("Database exposed by misconfiguration",
     "A security researcher told us that a test database with real customer data was reachable from the internet "
     "without a password. It holds about 15,000 customer records (names, emails, hashed passwords). Logs show "
     "downloads from unknown IP addresses.",
     expect("unauthorized_access", 15000, True, wrongful=True, encrypted=False)),  # no password: unprotected
    ("委託元への報告が必要な誤送信",
     "株式会社ひかり不動産様からお預かりしている入居者データ（氏名・電話番号、236件）を、作業者が宛先を誤って"
     "社外の第三者にメール送信しました。",
     expect("misdirected_email", 236, entrusted=True)),
    ("ID and password list emailed",
     "A developer emailed a file with login IDs and passwords for 85 users of our online banking demo environment "
     "to a mailing list that includes external partners by mistake.",
     expect("misdirected_email", 85, financial=True)),
    ("Bag snatched",
     "A courier's bag was snatched on the street. It contained sealed envelopes with insurance claim forms "
     "(including medical certificates) for 11 policyholders.",
     expect("theft", 11, sensitive=True, wrongful=True)),
    ("口頭での情報漏えい",
     "電話で問い合わせてきた第三者に対し、担当者が本人確認をせずに、お客様の契約内容と住所を伝えてしまいました。対象は1名です。",
     expect("verbal", 1, wrongful=True)),  # told to a third party who called: T3 stays open
]


def protection(values: dict) -> bool | str | None:
    """Extraction never says encrypted: a claim is "claim"; a denial or a leaked key is False."""
    if values.get("encrypted") is False or values.get("key_leaked"):
        return False
    assert values.get("encrypted") is None
    return "claim" if values.get("encryption_claim") else None


def got(subject: str, text: str) -> dict:
    values = extract(subject, text).values
    return {**{field: values.get(field) for field in SCORED[:-1]}, "encrypted": protection(values),
            "persons": (values.get("persons"), values.get("persons_estimated", False))}


def score(reports: list) -> dict[str, tuple[int, int]]:
    """Per field, how many reports extraction gets right, and out of how many; plus fully right."""
    right = {field: 0 for field in (*SCORED, "all fields")}
    for subject, text, expected in reports:
        result = got(subject, text)
        for field in SCORED:
            right[field] += result[field] == expected[field]
        right["all fields"] += result == expected
    return {field: (n, len(reports)) for field, n in right.items()}


def _cases(reports, prefix):
    return [pytest.param(s, t, e, id=f"{prefix}{i:02}") for i, (s, t, e) in enumerate(reports, 1)]


# Where the rules still fall short; strict, so a fix shows up as XPASS and the mark must go.
KNOWN_MISSES = {
    # Mails are not persons (corpus SPEC: counts of envelopes or pages sent are not); letters that
    # each went to the wrong person are ("230 renewal letters were put in the wrong envelopes").
    "Wrong customer's invoice attached": "'3 outgoing invoice emails' is not read as 3 persons",
    # Retrained on 710 reports, the model gives the wrongful kinds 0.65 although the report denies the
    # infection (0.44 trained on 560): the kind stays unknown and the flag errs on the side of the duty.
    "ウイルス対策ソフトの警告": "a denied infection still reads as a likely wrongful act (wrongful=True)",
}
SETS = {"written with the rules": REPORTS, "later": LATER, "unseen": UNSEEN, "fresh, never tuned": FRESH}
ALL_REPORTS = [report for reports in SETS.values() for report in reports]


@pytest.mark.parametrize("subject,text,expected", [
    *_cases(REPORTS, "report"), *_cases(LATER, "later"), *_cases(UNSEEN, "unseen"), *_cases(FRESH, "fresh")])
def test_extraction_reads_report(subject, text, expected, request):
    if subject in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_MISSES[subject], strict=True))
    assert got(subject, text) == expected


def test_score_counts_each_field():
    figures = score(ALL_REPORTS)
    assert figures["all fields"] == (len(ALL_REPORTS) - len(KNOWN_MISSES), len(ALL_REPORTS))
    assert all(total == len(ALL_REPORTS) for _, total in figures.values())


def test_score_notices_a_wrong_field():
    subject, text, expected = REPORTS[0]
    figures = score([(subject, text, {**expected, "category": "loss"})])
    assert figures["category"] == (0, 1) and figures["all fields"] == (0, 1)
    assert figures["sensitive"] == (1, 1)


@pytest.mark.parametrize("text,number", [
    ("1,200", 1200), ("3000", 3000), ("1.2万", 12000), ("1万2千", 12000), ("千二百", 1200),
    ("三千", 3000), ("二十", 20), ("一二〇", 120), ("one", 1), ("a single", 1),
])
def test_parse_number(text, number):
    assert parse_number(text) == number


@pytest.mark.parametrize("text,persons", [
    ("顧客１２０名分の氏名", (120, False)),       # full-width digits
    ("従業員千二百人の住所", (1200, False)),
    ("約3,000人の会員", (3000, True)),
    ("1万2千件の顧客データ", (12000, False)),
    ("数百名分の名簿", (None, False)),           # "several hundred": not a number
    ("several customers were affected", (None, False)),
    ("メール1件を誤送信、対象はお客様2名", (2, False)),  # one mail, two persons
    ("about 2,000 customers", (2000, True)),
])
def test_persons_from_counts(text, persons):
    values = extract("", text).values
    assert (values.get("persons"), values.get("persons_estimated", False)) == persons


@pytest.mark.parametrize("text,encrypted", [
    ("暗号化されていないUSBメモリを紛失", False),
    ("ファイルは暗号化済みです", "claim"),  # a claim for the officer, never the fact (issue 10)
    ("パスワード付きZIPでしたが、パスワードも同送しました", False),
    ("the file was not encrypted", False),
    ("the laptop is encrypted with BitLocker", "claim"),
    ("暗号化されていたかどうかは不明です", None),  # a hedge is no answer
    ("I'm not sure whether the file was encrypted", None),
    ("ランサムウェアによりファイルが暗号化された", None),  # the attack, not a protection
    ("USBを紛失しました", None),
])
def test_encryption_and_its_denials(text, encrypted):
    assert protection(extract("", text).values) == encrypted


def test_denied_mentions_do_not_count():
    values = extract("", "ノートPCを紛失しました。病歴は含まれていません。不正アクセスの形跡はありません。").values
    assert values["category"] == "loss" and "sensitive" not in values and "wrongful" not in values


def test_system_failure_is_not_a_disability():
    assert "sensitive" not in extract("", "システム障害により顧客の住所が表示されました").values


def test_quoted_lines_of_earlier_mail_are_ignored():
    assert "category" not in extract("Re: 報告", "承知しました。\n> USBメモリを紛失しました").values


def test_evidence_names_the_words():
    evidence = extract("", "顧客の病歴を含むファイルを誤送信しました").evidence
    assert evidence["sensitive"] == "matched 病歴" and "誤送信" in evidence["category"]


if __name__ == "__main__":  # PYTHONPATH=. python tests/test_process_extract.py
    for name, reports in {**SETS, "all": ALL_REPORTS}.items():
        figures = score(reports)
        print(f"{name}: " + ", ".join(f"{field} {n}/{total}" for field, (n, total) in figures.items()))

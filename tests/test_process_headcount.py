"""The number of persons: which stated count it is, and persons told without a count."""

from __future__ import annotations

import pytest

from leakline.process.extract import extract


def persons(text: str, subject: str = "") -> int | None:
    return extract(subject, text).values.get("persons")


@pytest.mark.parametrize("text,number", [
    # readers of the mail are not the persons whose data it is
    ("社員1名の懲戒処分案を、国内全社員 約1,300名のdistribution listに送ってしまいました。", 1),
    ("健康診断の一覧を所長(社員のみ、8名)に送る予定が、MLに送りました。このMLには社外の方が約40名含まれています。"
     "添付の一覧には社員23名の氏名と判定が記載されています。", 23),
    # who saw, called or waited are witnesses
    ("お客様2名からのお問い合わせで判明しました。表示された可能性があるのは17アカウント分です。", 17),
    ("前のお客様は1名様のご利用、画面を見たのはご家族3名様です。", 1),
    ("Those 3 learners' certificates were seen by 4 users in total.", 3),
    # the whole population is not the part that leaked
    ("3年生64人分の口座振替の一覧を送りました。全校412人のうち3年だけです。", 64),
    # a batch checked and found right
    ("H様の検査結果が別の患者様に郵送されていました。ほかに同じ日の取込分(42件)に誤りがないことは確認済みです。", 1),
    # corrections and sums
    ("参加者は延べ312名ですが、同じ方が複数の実験に参加しているため、実人数は271名です。", 271),
    ("14通すべてに一つ上の行の方の情報が入っていました。つまり、13名の方のお名前が別の組合員様に届いています。", 13),
    ("つまり、A様ご家族3名と、A様の年賀状の送り先118名の情報がB様に渡ったことになります。", 121),
    ("payroll files for two clients: Kaneda Logistics (312 staff) and Hoshi Foods (118 staff).", 430),
    ("申込書は2枚で、申込者様(1名)と連帯保証人様(1名)の氏名、住所が書かれています。", 2),
    ("Deduplicated, about 14,500 end-users. We have notified 0 customers so far.", 14500),
    # ranges written with a hyphen
    ("The list had roughly 40-45 customers with name and mobile number.", 45),
])
def test_the_count_of_the_persons_whose_data_leaked(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("text,number", [
    ("窓口で、別の方のカードを申請者の方にお渡ししてしまいました。カードには氏名、住所が記載されています。", 1),
    ("The staff printed the folio of another guest with a similar name and handed it to him.", 1),
    ("申込者の方と連帯保証人のお父様の 氏名 住所 電話番号 が書いてあります。FAXを誤送信しました。", 2),
    ("The pouch contained the loan application copy for the customer and his wife.", 2),
    ("Cさま行きの箱にDさまの伝票 Dさま行きの箱にCさまの伝票が貼られていました。", 2),   # each got the other's
    ("A様にお渡しする書類を、B様にお渡ししてしまいました。書類にはA様の氏名があります。", 1),  # one way only
    ("Inside: e-tickets and itinerary for a family of four (names, passport numbers).", 4),
    ("ブースに置いていた名刺回収ボックスが持ち去られました。名刺が約300枚入っていました。", 300),
])
def test_persons_told_without_a_count(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("text", [
    "顧客リストを添付したメールを誤送信しました。",              # a list: more than one, not known how many
    "I lost my company iPhone on Saturday night at a restaurant.",  # a device: unknown
    "several customers were affected",
    "顧客情報のファイルを誤送信しました。",                       # a file of customers' data: how many is not said
    "I emailed the customer data file to the wrong address.",
])
def test_no_count_is_guessed_for_a_list_or_a_device(text):
    assert persons(text) is None


@pytest.mark.parametrize("text,number", [
    ("The PDF covers two groups: Group A with 18 travellers and Group B with 14 travellers.", 32),
    ("The spreadsheet has results for 3 classes: 28, 31 and 25 students, with names.", 84),
    ("NASには顧客台帳(約4,800名、氏名・住所)と、従業員名簿(71名、社員番号・住所)が入っていました。", 4871),
    ("フォルダに入っていたのは評価シートで、1課が19名、2課が24名です。", 43),
    ("社員8名とその扶養家族 計21名 の氏名、生年月日が入っています。", 21),           # a total is no part
    ("取得された会員情報は約3,200名分、最大で 4,050名の可能性があります。", 4050),  # a bound is no part
    ("データベースには3,276件(同じ方が何度も問い合わせている分を除くと2,940名)が入っています。", 2940),
    ("It contains 3,412 customer records; some customers have two accounts, so it is 3,105 people.", 3105),
    ("c社様の受診者は86名で、ずれていたのは後半の41名です。", 41),
    ("入居者様二十七名分の契約書が綴じてあり、保証人の方を含めると50名程度の氏名・住所が載っています。", 50),
    ("名簿(約1万2千世帯、二万六千人分)を使っていました。", 26000),              # households are not persons
    ("偽ログイン画面に2名がIDとパスワードを入力していました。1,000件を超える予約者データが見られた可能性があります。", 1000),
    ("He copied the names of \"around 60\" of the registrants. 214 people registered for the seminar.", 60),
    ("担当者が直近の入出金3件を口頭で回答してしまいました。ご本人様の口座です。", 1),  # transactions are not persons
])
def test_parts_totals_and_what_is_not_a_person(text, number):
    assert persons(text) == number


def test_an_unknown_number_is_not_inferred():
    text = "アプリで別の方の調剤履歴が表示されました。何名分の履歴が表示されたのかはまだ分かっていません。"
    assert persons(text) is None


@pytest.mark.parametrize("text,number", [
    ("BCCに入れるべきアドレスを宛先欄に入れてしまい、ほかの方のメールアドレス38件が見える状態になりました。", 38),  # visible, not viewers
    ("The file is an Excel with 326 deliveries. Some recipients have 2 parcels; the actual number of people is 301.", 301),
    ("記載内容:直樹さん本人と扶養家族3名(配偶者、子2名)の氏名、生年月日、マイナンバー", 4),
    ("端末には本日分のお届け先120軒分(氏名・住所・電話番号)のデータが入っています。", 120),
    ("現在、1月に同じ手続きをした320件に同様のものがないか確認しています。A様の住所を誤って登録していました。", 1),
    ("見積書の内容:新郎新婦のお名前、挙式日、招待人数(82名)、プラン、金額", 2),
    ("The box holds the contracts of 28 buyers: name, address, phone and the price.", 28),
    ("I emailed the owner Ms. Sakamoto's application by mistake. The PDF has her name and the same details for her guarantor.", 2),
])
def test_more_ways_a_count_is_told_or_is_not(text, number):
    assert persons(text) == number


def test_those_contacted_with_misused_data_are_the_persons():
    text = ("会員様2名から「店長の個人のLINEから教室の案内が来た」とお問い合わせがありました。店長が会員管理システムで"
            "携帯番号を見て、23名に案内を送っていたことが分かりました。副業の教室の勧誘に使っていました。")
    assert extract("会員様からのご指摘", text).values.get("category") == "misuse"
    assert persons(text, "会員様からのご指摘") == 23


@pytest.mark.parametrize("text,number", [
    # a count "worth of" (分) is of persons' data whatever noun follows
    ("届いた枚数によって、少なくとも17名、最大で21名分のスタッフの氏名、勤務時間です。", 21),
    # お二人 before who they are
    ("お名前の似ているお二人(伊藤様・伊東様)のお薬袋を取り違えてお渡ししてしまいました。", 2),
    ("児童票には、園児1名と、その保護者お二人(お父様・お母様)の氏名、住所が記載されています。", 3),
    # a count that is the subject of its own clause is no part of the next one
    ("名簿は46行ありますが、2日間とも参加の2名が2回ずつ載っているため、対象は44名です。", 44),
    # the person and the family
    ("別の事業所の被保険者ご本人と、扶養家族2名の保険証(計3枚)が混入していました。", 3),
    ("通知書には、その組合員様ご本人(氏名、組合員番号)と、被扶養者として認定されたご家族3名の氏名が記載されています。", 4),
    ("その方の契約情報と、同居しているご家族2名の情報を閲覧していました。", 3),
    ("The envelope held the cards of another family: the parents and their two children, with full name.", 4),
    # dozens
    ("It was two dozen customer files from 2025: repair requests with names and addresses.", 24),
])
def test_counts_told_with_their_parts(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("text,over,bound", [
    ("The table in the sample has at least 8,000 customer accounts.", False, None),   # at least: not "more than"
    ("抜き取られた可能性があるのは、少なくとも1,000名以上、それを上回る見込みです。", True, None),
    ("リストは会員の千数百名分(氏名、住所)で、A4で38ページです。", False, 1999),          # 1,000 + several hundred
    ("They estimate a few dozen patients' appointments were visible.", False, 99),
    ("ログイン試行が数万件ありました。ログインに成功したアカウントが数十件あります。", False, 99),  # attempts are no persons
    ("窃取された可能性があるのは、過去のメール数千件とアドレス帳です。", False, None),             # nor are mails
])
def test_bounds_and_more_than(text, over, bound):
    values = extract("", text).values
    assert bool(values.get("persons_over")) is over and values.get("persons_max") == bound


@pytest.mark.parametrize("text,number", [
    # who saw it, on whose screens, who can read it, who came in, who rode along: not whose data it is
    ("画面を開いた会員は約400名です。表示された可能性のあるチケットは会員60名分と、その同伴者の家族会員12名分でした。", 72),
    ("特定の患者様お一人の氏名です。この方の画面が、同じ時間帯に予約された3名の患者様のアプリに表示されていました。", 1),
    ("Ms. Tanaka's booking details were shown on the screens of 7 other customers.", 1),
    ("So the vendor's team (about 25 people can read that inbox) got the two customers' names.", 2),
    ("5名のお客様から問い合わせがあり、調べたところ、120名分の情報が表示されていました。", 120),
    # the group it came from, the day's work, the batch sent with it
    ("成績表は3枚か4枚(3名分か4名分)です。クラスは22名です。", 4),
    ("It is one customer's passport page. The tour has 36 participants but only that one passport was attached.", 1),
    ("山口様の診断書を山本様にお渡ししました。本日の相談予約は8件です。", 1),
    # the count the leak reached; a later correction
    ("35名宛のお知らせのうち、26通は宛先不明で戻っており、第三者に届いたのは9通(9名分)です。", 9),
    ("会員約3万2千名のうち、子会社に提供したのは8,400名分です。", 8400),
    ("2025年度の応募者は412名、このうち不採用となった約300名全員に配信されています。", 300),
    ("持ち出されたのは約8千件で、同じお客様の重複を除くと約6千人です。", 6000),
    ("流出したのは会員1,200名と、退会者340名の情報です。", 1540),
    ("The number of individual customers is 212, not 300.", 212),
    ("The export has 1,020 rows; some customers appear twice, 980 people in all.", 980),
    # checking words apply to their own clause
    ("箱には患者様7〜8名分の指示書が入っていました(1名分は追加したかどうか、記録を確認中です)。", 8),
    # papers of two persons in one envelope: one is the addressee's own
    ("1通の封筒にお客様2名分の案内が入っていたと、受け取られたお客様から連絡がありました。", 1),
    # papers that are one per person, or that each went to the wrong person
    ("はがきは 1,180通(1名1通)、使ったのは患者さんの氏名と住所です。", 1180),
    ("The cage held more than 1,000 statements, one per customer (name, address).", 1000),
    ("The envelope held 14 payslips, one for each employee, with name and salary.", 14),
    ("About 60 reminders went to the wrong customers. Each one shows the customer's name.", 60),
    ("The box contained a dozen application forms: full name, address, phone.", 12),
    ("The three whose slips were exposed will be called today.", 3),
    # persons listed by role; a role list that restates a count is no part
    ("入居予定者として、世帯主 渡辺健一様、奥様 由美様、長男 翔太様、長女 美咲様のお名前が記載されています。", 4),
    ("申込書には契約者と奥様、お子様2名の氏名が記載されています。", 4),
    ("The form lists the applicant, his wife and their three children.", 5),
    ("The application is a joint one, so it covers two customers, husband and wife: names and address.", 2),
    ("It holds the payroll of our 240 employees and the dependants' forms, which add about 180 family members.", 420),
    # readers and staff
    ("19時すぎに工務店さん(CC6名)に、お客様3名分の現場情報を送りました。", 3),
    ("会員30名の一覧を、200名のメーリングリストに送ってしまいました。", 30),
    ("We are a company of 80 staff. The list had 25 customers.", 25),
    # a swap: who received the other's are whose it was; names in a swap
    ("On Sunday two customers wrote to support to say they had received each other's order.", 2),
    ("長谷部様と長谷川様の源泉徴収票を取り違えて封入し、お二人に互いの源泉徴収票が届いていました。", 2),
    # a list one looks a number up in is not a list that leaked; "listed" is no list
    ("患者の佐々木様の処方箋を、一覧の隣の行の薬局にFAXしてしまいました。", 1),
    ("A customer, Mrs. Hayashi, called: the page showed her full name. She had asked to be listed as H.Y. only.", 1),
])
def test_the_role_of_a_count_and_persons_told_by_role(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("text,number", [
    # letters that reached other persons are theirs; those that came back are not
    ("120名にお知らせを郵送しましたが、そのうち15通は宛先不明で返送され、残りの105通が別の方に届きました。", 105),
    ("Of the 240 letters, 18 went to the wrong address.", 18),
    # one person's data that many can see is one person's
    ("A様お一人の情報が、約50名の社員が見られる共有フォルダに置かれていました。", 1),
    ("One patient's chart was visible to about 40 staff.", 1),
    # お二人 before the papers they are on
    ("夫婦お二人の住民票が別の方に渡りました。", 2),
])
def test_letters_that_reached_others_and_data_seen_by_many(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("text,number", [
    # who could see it, who may have heard it, who was there
    ("同じ時間帯にログインしていた約30名の会員が、B様の注文履歴を閲覧できる状態でした。", 1),
    ("エレベーターに乗り合わせた4名ほどに、E様の件が聞こえていたかもしれません。", 1),
    # the whole a part comes from
    ("当院の患者数は約8,000名ですが、今回の対象は紹介状1通(H様)のみです。", 1),
    ("会員は全部で2,300名おり、そのうち誤配信の対象は145名でした。", 145),
    ("The school has 640 pupils. The lost folder held the reports of 28 pupils in one class.", 28),
    # 本人と奥様の2名: the number after の is both of them
    ("保険証の写しには、契約者ご本人と奥様の2名分の情報が載っています。", 2),
    ("The tax form covers the employee and four family members.", 5),
    ("The box had 60 customers' forms plus 15 guarantors' forms.", 75),
    # papers one per person, told before or after the number
    ("受験票は1人1枚で、50枚が入っていました。", 50),
    ("The binder held 35 CVs, each from a different applicant.", 35),
])
def test_more_roles_parts_and_papers(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("text,bound", [("十数名分の連絡先が書かれた手帳です。", 19), ("千数百名分", 1999), ("数十名", 99)])
def test_orders_of_magnitude_with_a_number_before_or_after(text, bound):
    values = extract("", text).values
    assert values.get("persons") is None and values.get("persons_max") == bound


def test_a_couple_is_two():
    assert persons("I faxed a couple of customers' application forms to the wrong branch.") == 2


@pytest.mark.parametrize("subject,text,number", [
    ("", "A様、B様、C様の健診結果を別の事業所に送付しました。", 3),                       # enumerated as whose the data is
    ("", "We sent the results of Mr. Ito, Ms. Abe and Mr. Ueno to the wrong company by email.", 3),
    ("invoices", "Dear Ms. Fujita,\n\nMr. Lee and Mr. Kim received each other's invoices: the envelopes were swapped.", 2),
    ("", "Ms. Oda and Mr. Hasegawa joined on the same day. Her receipts were emailed to him.", 1),  # named, not enumerated as owners
])
def test_named_persons_enumerated_and_the_reader_greeted(subject, text, number):
    assert persons(text, subject) == number

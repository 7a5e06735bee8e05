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

"""Conventions that reports written by other people follow (issue 11, fourth pass): each case is one
general reason a count is or is not of the persons whose data leaked, or a flag is or is not wrongful."""

from __future__ import annotations

import pytest

from leakline.process.extract import extract


def persons(text: str, subject: str = "") -> int | None:
    return extract(subject, text).values.get("persons")


@pytest.mark.parametrize("text,number", [
    # our own people at work are not persons whose data leaked
    ("受付で患者様の領収書を別の患者様にお渡ししてしまいました。当時受付は私を含め4名でした。", 1),
    ("We handed one guest's invoice to another guest by mistake. Two staff were on the desk at the time.", 1),
    ("The attached sheet lists 42 employees with their salaries (we are about 90 people in total).", 42),
    # a ratio is not a count: 1人1アカウント says the accounts are persons
    ("不正ログインされた会員アカウントは約2,400件です(1人1アカウント)。", 2400),
])
def test_own_staff_and_ratios_are_not_counts(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("text,number", [
    # who saw it, told with words between: they are witnesses, not persons whose data was shown
    ("表示された方は2名です。表示を見たのは、ご連絡いただいた方を含めて5名の会員です。", 2),
    ("別の会員の成績表が表示されました。表示された方は4名。実際に見たと申告しているのは現時点で2名です。", 4),
    # who was there, and our own staff who talked, are not the persons
    ("A様のローン延滞をロビーで大きな声で話してしまいました。ロビーには20名程度のお客様がいらしたと思います。", 1),
    ("当院の看護師3名が駅前の店で「302号室の患者さんは重い病気らしい」と話していたと苦情がありました。", 1),
    # what reached the right person is not the leak's count
    ("差し込みがずれ、送信は120件で、正しく届いたのは先頭の1件だけでした。119名分の氏名が別の会員様に届いています。", 119),
    # a recount or a contrast corrects, a doubt raises the bound; neither adds parts
    ("一覧は20名分です。\n→数え直したら22名分でした(20名と書いてしまいましたが22名が正しいです)。", 22),
    ("ほかの生徒のファイルに混ざっていたのは2名分、もしかすると3名分です。", 3),
    # family members or emergency contacts told far in the sentence are more persons
    ("メモには利用者様4名の氏名、住所、服薬の内容、認知症の程度についてのメモと、緊急連絡先としてご家族3名のお名前が書いてあります。", 7),
])
def test_witnesses_corrections_and_parts(text, number):
    assert persons(text) == number


def test_who_saw_a_wrong_display_bounds_it_when_nothing_else_does():
    text = ("キャッシュの設定ミスで、ある会員の画面に別の会員の氏名と住所が表示された可能性がある。"
            "その間にマイページを開いた会員は最大で百二十名。実際に他人の情報を見たと申告しているのは2名。")
    assert extract("マイページの表示", text).values.get("category") == "wrong_display"
    assert persons(text, "マイページの表示") == 120
    unknown = "別の方の履歴が表示されるというお問い合わせが2件ありました。何名分が表示されたのかはまだ分かっていません。"
    assert persons(unknown, "アプリの表示") is None


@pytest.mark.parametrize("text,number", [
    # one named person's record is no data set; a list of things is no list of people; reply-all is no list
    ("Bさんという患者様から知らない人の検査結果が届いたとお電話があり、Aさんの患者情報を登録した際に住所欄を誤入力していました。", 1),
    ("B様宅の被害品の一覧と報告書を、A様あての封筒に入れて郵送していました。", 1),
    ("打合せのメールに全員返信したところ、引用部分に山本さんの病名が残っていて、先方の3名に届いてしまいました。", 1),
])
def test_one_persons_papers_are_not_a_list(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("text,number", [
    # a list of roles restates the persons a count tells, before or after it
    ("添付はお客様ご夫婦(ご主人と奥様)の事前審査申込書で、お二人の氏名、住所、年収が載っています。", 2),
    # prospects are persons too, and parts joined by plus add up
    ("In the bag: a printed visit list: 6 customers plus 4 prospects, with names and phone numbers.", 10),
])
def test_restated_roles_and_prospects(text, number):
    assert persons(text) == number


def wrongful(subject: str, text: str):
    return extract(subject, text).values.get("wrongful")


def test_a_caller_speaking_of_their_own_kin_is_no_impersonation():
    text = ("ご利用者様のご家族から「うちのおばあちゃんの名前だけど、使っていないサービスの明細が届いた」とお電話がありました。"
            "同姓同名の別の利用者様のデータに上書き登録していたため、明細が以前の方のご住所に届いていました。")
    assert wrongful("明細の送付について", text) is not True
    lied = "「A様の息子です」という男性からお電話があり、ご住所をお伝えしました。A様に息子はいないとのことです。"
    assert wrongful("電話での回答", lied) is True


def test_a_denied_hack_is_no_wrongful_act():
    text = ("After the fair the events manager sent the full attendee list (name, company, email) to our sponsors. "
            "Nobody hacked anything, it was a business decision. The sign-up page only said the data was for running "
            "the event. Two attendees complained about sales mail.")
    assert extract("attendee list", text).values.get("category") != "unauthorized_access"


def test_former_employees_whose_data_it_is_are_no_insider():
    text = ("In October we sent 22 old laptops to the recycler. One was put on the cart before it was wiped, and the "
            "recycler refurbished and sold it. It had the HR folders synced: roughly 60 current and former employees, "
            "with name, home address and salary.")
    said = extract("old laptops - recycler", text).values
    assert said.get("category") != "insider" and said.get("wrongful") is not True
    took = "A former employee copied the customer list to his personal Gmail before leaving."
    assert extract("data taken", took).values.get("wrongful") is True


def test_the_whole_then_the_part_of_it():
    text = ("お客様の申込書の情報を、グループの代理店に見込み客リストとして渡しています。"
            "申込書は全部で二千件くらいありますが、これまでに代理店に渡したのはそのうち約300名分だと思います。")
    assert persons(text, "社内通報") == 300


@pytest.mark.parametrize("text,number", [
    # papers counted, then what each holds: one person's each
    ("I left my folder in a taxi. There were 12 forms from the weekend event. Each has name, address and phone.", 12),
    # organisations counted with the persons each gave
    ("添付をまちがえ、取引先95社の会社名、ご担当者さまのお名前と携帯番号の一覧を送りました。担当者は1社1名です。", 95),
])
def test_papers_and_organisations_counted_with_what_each_holds(text, number):
    assert persons(text) == number


def test_a_whole_system_taken_holds_its_population():
    text = ("受付PCとサーバーのファイルがすべて開けなくなり、画面にビットコインで払えというメッセージが出ています。ランサムウェアだと思います。"
            "サーバーには電子カルテのデータが入っていて、登録患者数はおよそ5千人です。")
    said = extract("週末のこと", text).values
    assert said.get("category") == "malware" and said.get("persons") == 5000


@pytest.mark.parametrize("text", [
    "住所の入力誤りで、保険証券が別の方に届きました。証券には契約者様の氏名、生年月日と、死亡保険金受取人(奥様)の氏名が載っています。",
    "The annual statement of another policyholder was mailed to the caller. It shows the policyholder's name and the "
    "name of the beneficiary (his wife).",
])
def test_a_policy_names_its_beneficiary_too(text):
    assert persons(text, "証券の誤送付") == 2


@pytest.mark.parametrize("text,number", [
    # a clause between the reader and the count: the count is of the attachment, not of who received it
    ("誤って送付したメールを受け取ったのは、A社のご担当者で、添付には顧客250名の氏名と住所が載っていました。", 250),
    ("当日は私を含め3名で対応し、お客様5名分の申込書を別の方にお渡ししました。", 5),
    ("取引先40社のご担当者の名刺情報が入ったUSBを紛失しました。担当者は各社2名です。", 80),
])
def test_the_new_conventions_do_not_overreach(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("subject,text,number", [
    # the same conventions told in English
    ("forms", "I lost a folder with 14 application forms. Each one has the applicant's name, address and phone.", 14),
    ("My Page", "Between 17:02 and 17:48 up to 240 members opened My Page and may have seen another member's name "
                "and address. 3 members have called us.", 240),
    ("agency", "We have about 1,500 application forms in total, and of those about 200 customers' details were "
               "handed to the insurance agency.", 200),
    ("file", "The file covers 30 customers. Sorry, I recounted: it is 32 customers.", 32),
    ("desk", "I handed Mr. Ito's prescription to another patient at the counter. There were 3 pharmacists on duty.", 1),
])
def test_the_conventions_in_english(subject, text, number):
    assert persons(text, subject) == number


@pytest.mark.parametrize("text,number", [
    # records listed twice: persons are the records less the duplicates, and the duplicates are no count
    ("顧客リスト(1,203件、うち重複3件)を誤って送信しました。", 1200),
    # a count of persons with a double registration may already be of persons: it stays
    ("名簿は120名分で、二重登録が2名あります。", 120),
    # the size of our own department is no count
    ("社員50名の部署で、1名の健康診断結果が共有フォルダに置かれていました。", 1),
])
def test_duplicates_and_our_own_departments(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("text,number", [
    # the part confirmed so far is no correction of the number that may have leaked (SPEC: not only the
    # confirmed part); a too-small count would drop the over-1,000 trigger
    ("不正アクセスを受けたサーバには約8万人分の顧客情報が保存されていました。現時点で流出が確認されたのは3名分です。", 80000),
    ("流出した可能性のある会員は最大12,345名、うち確認済み123名です。", 12345),
    # a correction still corrects
    ("参加者は延べ312名ですが、実人数は271名です。", 271),
])
def test_the_part_confirmed_so_far_is_no_correction(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("text,number", [
    # the text says the whole population leaked: the population is the count
    ("被害に遭ったのは、会員数約4,000名のサイトで、全会員の情報が閲覧可能でした。", 4000),
    ("The shop has 2,300 registered customers and all of our customers' addresses were visible on the page.", 2300),
    # a population with a part named stays the part
    ("3年生64人分の口座振替の一覧を送りました。全校412人のうち3年だけです。", 64),
])
def test_everyone_of_a_population(text, number):
    assert persons(text) == number


@pytest.mark.parametrize("text,number", [
    # letters that each went to another person are that many persons, never "one person's papers"
    ("請求書240通を、それぞれ別のお客様の封筒に入れて発送してしまいました。", 240),
    ("Yesterday 86 payslips were emailed to the wrong employees because the merge was shifted by one row.", 86),
    # a batch sent with the one that went astray is no count (SPEC: envelopes checked are not persons)
    ("同じ日に投函したのは全部で7通です。503号室の方あての通知が502号室に届いていました。", 1),
])
def test_letters_each_to_another_person(text, number):
    assert persons(text, "誤送付") == number


def test_whose_data_in_a_sentence_about_a_mailing_list():
    text = "The list was sent to 120 recipients on our mailing list; it contained the names of 14 children."
    assert persons(text, "list sent") == 14


@pytest.mark.parametrize("text,number", [
    # an English number word before a scale is never read as the word alone (three thousand was 3)
    ("About three thousand members' emails leaked.", 3000),
    ("Two hundred customers were affected.", 200),
    ("The file lists one hundred and twenty patients.", 120),
    ("Twelve hundred customers got the wrong statement.", 1200),
    ("Up to 1.5 million customers may be affected.", 1_500_000),
])
def test_english_numbers_with_a_scale(text, number):
    assert persons(text) == number


def test_english_scaled_numbers_are_parsed():
    from leakline.process.numbers import parse_number
    assert [parse_number(t) for t in ("two hundred fifty", "a hundred and fifty", "1.2 thousand", "three million")] == [
        250, 150, 1200, 3_000_000]


def test_the_head_count_in_a_signature_is_no_count():
    text = "I left one customer's contract on the train.\n\nBest,\nKen\nSample Corp. | 1,200 employees | Tokyo"
    assert persons(text, "contract") == 1

"""The number of persons whose data leaked: which stated count it is, and one or two persons told without one.

A report states many counts that are not that number: who received the mail (学生86名に送った, the
distribution list), who saw it or called (お客様2名からの問い合わせ, seen by 4 users), the whole
population (全校412人のうち), the batch that was checked and found correct (42件に誤りはない). It
corrects itself (延べ312名…実人数は271名, つまり13名), adds parts (A社(312 staff) and B社(118 staff)),
and often names no count at all when one person's papers went astray (別の方のカード, Bさんの連絡帳).
Counts are read by counts.py; this module gives each its role in its sentence and chooses.
Text is prepared (NFKC, lower case) by the caller.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import NamedTuple

from . import gates
from .counts import Count, Persons, counts, persons
from .othercounts import is_role_list
from .uncounted import SWAPPED, UNKNOWN

SENTENCE_END = gates.compile(r"[。!?\n]|\.(?:\s|$)")
# Who received the mail or is on the list: the readers, not the persons whose data it is.
AUDIENCE_AFTER = gates.compile(
    r"\s*\)?\s*(?:の方|様)?\s*(?:に|へ|宛て?に?)[^。\n]{0,8}?(?:送|配信|届|転送|返信|誤送信|メール|お知らせ|案内)"
    r"|\s*\)?\s*の?\s*(?:distribution list|メーリングリスト|mailing list|配信リスト|ml\b|dl\b)"
    r"|\s*(?:が|も)?\s*含まれ")
AUDIENCE_BEFORE = gates.compile(r"(?:全社員|全職員|全従業員|受信者|送信先の|フォロワー|followers?|recipients?|sent (?:it |this )?to(?: all)?|mailed to"
                             r"|\b(?:cc|bcc)\b\s*:?"
                             r"|e-?mailed to|distribution list of|(?:to|cc|bcc) field of)\s*\(?\s*(?:約|about|around)?\s*$")
# 会員30名の一覧, 30名分: a count of those whose data it is, even in a sentence about a mailing list.
DATA_AFTER = gates.compile(r"\s*(?:分|の(?:一覧|名簿|リスト|情報|データ|個人情報|氏名|住所|連絡先|ファイル|成績|結果))"
                           r"|'?s?'? (?:data|details|records|information|names|addresses|files)\b")
DATA_BEFORE = gates.compile(r"\b(?:names?|details|data|records|information|addresses|files|results|grades|scores|photos) of"
                           r"(?:\s+(?:the|our|all|all the))?\s*$")
AUDIENCE_SENTENCE = gates.compile(r"mailing list|distribution list|メーリングリスト|\bml\b|recipients")
# Mail to the persons themselves (an apology, a notice): they are the persons, not readers.
TO_THE_PERSONS = gates.compile(r"お詫び|おわび|謝罪|ご案内を送付予定|削除のお願い|apolog|notif|notice to")
# Who saw, heard, asked, called or was present: witnesses, not the persons whose data it is.
WITNESS_AFTER = gates.compile(
    r"\s*\)?\s*(?:の方|様|の(?:お?客様|会員様?|利用者様?|保護者の方|患者様?))?\s*から(?:「[^」\n]{0,120}」)?[^。\n]{0,20}?(?:問い?合|電話|連絡|申し?出|返信|苦情|指摘|メール|お叱り"
    r"|通報|相談|了承)"
    r"|\s*(?:の方|様)?\s*が\s*(?:見(?!え|られ)|閲覧(?!でき|可能|され)|ご覧|受け取|受信|聞|気づ)"
    r"|\s*(?:の方|様)?\s*に\s*(?:見|閲覧|ご覧|表示)"
    # who can see it: 約50名の社員が見られる共有フォルダ
    r"|\s*(?:の[^。、\n]{0,6}?)?が\s*(?:見られる|見ることができ|閲覧でき|閲覧可能|アクセスでき|アクセス可能)"
    r"|\s*(?:の[^。、\n]{0,6}?)?が[、,]?[^。\n]{0,24}?を\s*(?:閲覧|見|確認|ご覧)(?:でき|られ|ることができ|可能)"
    # who may have heard or seen it: 4名ほどに、E様の件が聞こえていた
    r"|\s*(?:ほど|くらい|程度)?\s*(?:の方|様)?\s*に[、,]?[^。\n]{0,16}?(?:聞こえ|見え|知られ|伝わ)"
    # on whose screens it was shown: 3名の患者様のアプリに表示
    r"|\s*(?:の方|様)?\s*の[^。、\n]{0,10}?(?:アプリ|画面|端末|マイページ|スマホ|ページ)(?:上)?に(?:も)?(?:表示|出て|見え)"
    r"|\s*(?:くらい|ほど|程度)?\s*(?:が)?\s*(?:いらっしゃ|い(?:ました|た|る|ます|て)|おられ|お待ち|待って)"
    r"|[^。、\n()]{0,8}?(?:来られ|来店|来院|来庁|来館|いらっしゃ|いらし|お待ち|待って|並んで|乗車|同乗)"
    # who did something: 2名がIDとパスワードを入力, 常駐SE 1名がエクスポート
    r"|\s*(?:が|で)[^。\n「]{0,30}?(?:「[^」\n]{0,80}」[^。\n「]{0,12}?)?(?:エクスポート|持ち出|コピー|ダウンロード|入力し|入力して|クリック|開封し|撮影|話して|話し(?:た|ま)|しゃべ|喋|口外|漏らし)"
    r"|\s+(?:have |had |has |may have |might have |could have )?(?:already )?(?:saw|seen|viewed|opened|complained|called|phoned|wrote|written|emailed|contacted|replied"
    r"|reported|asked|noticed|told|were waiting|waiting|were talking|were chatting|in the (?:queue|line|room|waiting)"
    r"|can (?:read|see|view|open|access))\b"
    r"|\s+(?:[a-z]+\s+){0,4}?(?:were|was)\s+(?:waiting|present|in the (?:queue|line|room))")
WITNESS_BEFORE = gates.compile(
    r"(?:見た|閲覧した|開いた|受け取った|聞いた|気づいた|受信した|目にした)(?:の|人|方|[^。、\n]{0,4}?(?:会員|利用者|お客様|保護者"
    r"|ユーザー|患者|生徒|学生|社員)(?:様|さん)?)?(?:は|が)\s*(?:ご家族|お客様)?\s*(?:約|およそ)?\s*$"
    r"|(?:来店|来院|来場|来館|来庁)(?:客|者|数|された方)?(?:は|が)\s*(?:約|およそ)?\s*$"
    r"|(?:電話|返信|苦情|申し出|指摘|通報)(?:が|は)[^。、\n]{0,10}$|問い?合わせが[^。、\n]{0,10}$|うち\s*$|of (?:whom|them|these)\s*$"
    r"|(?:screens?|apps?|devices?|phones?|mailboxes|inboxes) of\s*$|(?:visible|accessible|available|shown|open|exposed|disclosed) to\s*$"
    r"|(?:seen|viewed|read|opened|received|noticed) by\s*(?:about|around)?\s*$|calls? from\s*$"
    r"|(?:chatting|talking|speaking|spoke|talked|chatted) (?:with|to)\s*$")
# Who saw it, told before with words between: 見たのは、お問い合わせいただいた方を含めて3名; 見たと申告しているのは3名.
WITNESS_LEAD = gates.compile(r"(?:見た|閲覧した|受け取った|聞いた|目にした)(?:と[^。、\n]{0,12}?)?のは[、,]?[^。、,\n]{0,30}?$"
                             r"|(?:問い?合わせ|連絡|電話|申し出|苦情)(?:を)?(?:いただいた|くださった|頂いた|された|してきた)\s*$")
# The whole population the leaked part comes from.
POPULATION_BEFORE = gates.compile(
    r"(?:全校|全学年|全学生|全生徒|全児童|全社員|全従業員|全職員|全会員|全戸|全体|(?:会員|社員|従業員|職員|生徒|学生|患者|利用者|顧客|登録者"
    r"|契約者|受講者|加入者|組合員|入居者|来場者)数"
    r"|在籍(?:者)?数?|定員|総数|out of)(?:では|は|が|で|:)?\s*(?:約|およそ|about|around)?\s*$"
    # the group it came from, the day's work, the batch sent with it: クラスは22名, 本日の相談予約は8件
    r"|(?:(?:クラス|学級|学年|ツアー|コース|講座|教室)(?:全体)?(?:は|が|の人数は)|(?:本日|当日|今日|その日|同日|この日)の[^。、\n]{0,8}?(?:は|が)"
    r"|(?:同時に|一緒に|同じ日に|同じ便で)[^。、\n]{0,6}?(?:発送|送付|郵送|配送|送信|出荷)[^。、\n]{0,4}?は"
    r"|\b(?:tour|class|course|group|trip|event|seminar|session|school|clinic|hospital|practice|pharmacy|shop|store|branch"
    r"|hotel|gym|club|site|service|app) (?:has|had|serves|served))\s*(?:全部で|合計|約|about|around)?\s*$")
POPULATION_AFTER = gates.compile(r"\s*(?:が)?在籍|\s*\)?\s*から[^。\n]{0,20}?(?:抽出|選|絞)"
                                 # 412名、このうち…約300名に配信: the part that the leak reached is the count
                                 r"|\s*(?:おり|いて|います|いる)?[、,]?\s*(?:この|その)?うち(?!\s*(?:重複|二重|ダブ))(?=[^。\n]{0,30}?(?:配信|送信|送付|提供|流出|漏え?い|漏洩"
                                 r"|届|表示され|閲覧され|持ち出|対象|誤))"
                                 # 全部で1,500件ありますが、…そのうち約200名分: the whole, then the part
                                 r"|\s*(?:あります|あり|ある|おります|います|いる)(?:が|けど|けれど(?:も)?)?[、,]?[^。\n]{0,30}?(?:この|その)うち"
                                 r"|\s+(?:registered|signed up|enrolled)\b")
# 1通の封筒に2名分: papers of N persons in one person's envelope; the addressee's own did not leak (N - 1).
ONE_ENVELOPE = gates.compile(r"(?:1|一)\s*通(?:の封筒)?に[^。、\n\d]{0,8}$")
# A sentence that says a batch was checked and found right: its counts are not of the leak.
CHECKED = gates.compile(r"確認|照合|チェック|点検|調べ|調査|checked|verified|reviewed|compared|went through")
# A sentence that says a batch is being checked for the same fault: its count is not (yet) of the leak.
CHECKING = gates.compile(r"(?:ないか|かどうか)[^。\n]{0,10}(?:確認|調査|チェック|照合)|(?:checking|check) (?:whether|if) ")
FOUND_RIGHT = gates.compile(r"(?:問題|異常|誤り|ミス|間違い)(?:は|が)?(?:なし|ありません|ない|なかった|見つかりません)|正しい|正常"
                         r"|\bcorrect\b|no (?:other|further|more)\b|all (?:correct|fine|ok)|only this|no problem")
# A sentence that sums up or corrects: its count is the one meant.
TOTAL = gates.compile(r"つまり|すなわち|要するに|in total|in all|altogether|so \d"
                      r"|(?:合計|合わせて|あわせて|総計)(?=\s*(?:で)?\s*(?:約)?[\d〇一二三四五六七八九十百千万]+\s*(?:名|人|件))")
CORRECTED = gates.compile(r"数え直|recount|実人数|実際の人数|実数|正しくは|訂正|重複を除|名寄せ|除くと|を除いた|を除き|含めると|を含めて"
                          r"|(?:漏え?い|漏洩|流出|ずれ)[^。、\n]{0,8}のは"
                          r"|(?<!正しく)(?<!正常に)(?<!問題なく)(?:届い|提供し|渡っ|送付し|送信し|発送し|表示され|閲覧され|持ち出され)た(?:もの)?の?は"
                          r"|deduplicated|de-duplicated|unique (?:persons|people|customers|individuals|users)"
                          r"|so (?:it|that)(?: is|'s| makes)|which (?:is|makes|means)|i\.e\.|actual number")
# The part confirmed so far, which can only grow: never the correction of a larger number told before.
SO_FAR = gates.compile(r"現時点|現在の?ところ|今のところ|これまでに|確認(?:でき|され)た|判明した|so far|to date|confirmed")
WHOLE_OR_BOUND = gates.compile(r"計|合計|総計|全|総|最大|最低|少なくとも|多くて|up to|at least|a total|total|all\b|as many as")
# The employees' family members or dependents are more persons, however far in the sentence they are told.
FAMILY_PART = gates.compile(r"family members|dependents|dependants|ご?家族|扶養|緊急連絡先")
EACH_OF_THEM = gates.compile(r"\s*(?:それぞれ|全員|ともに|各々|each\b|all\b)")
# Counts of one sentence joined as parts of one whole: 1課が19名、2課が24名; A社(312名)とB社(118名).
JOINED = gates.compile(r"^(?=[^。\n]{0,32}$)[^。\n]*?(?:と|、|,|and|plus|\+|及び|および)")
NOT_JOINED = gates.compile(r"^\s*[がはをに]|うち|of (?:whom|them|these)|including|除|から|〜|~|\bto\b|\bor\b|または|もしくは|最大|最低|少なくとも"
                           r"|up to|at least|実|正しくは|訂正|so\b|つまり|確認|confirmed|but\b|instead|however|only|計|total"
                           r"|ではなく|ですが|ましたが|たが|しかし|ただし|もしかすると|もしかしたら|あるいは|perhaps|possibly|maybe|この|these\b|^[^)]*\((?![^()]*\))|もう|other|another")


# Records listed twice: 1,203件、うち重複3件 is 1,200 persons (SPEC: one person listed twice is one).
DUPLICATE_BEFORE = gates.compile(r"(?:重複|二重(?:登録)?|ダブり)(?:して(?:いる|いた)(?:もの)?|分)?(?:が|は|:)?\s*$|duplicates?:?\s*$")


class Role(NamedTuple):
    count: Count
    role: str  # subject, audience, witness, population, checked
    sentence: tuple[int, int]


def _sentence(marks: tuple[list[int], list[int]], size: int, start: int, end: int) -> tuple[int, int]:
    """The sentence around start..end, given where the text's sentence ends start and end (at most
    200 characters back)."""
    starts, ends = marks
    i = bisect_right(ends, start)
    j = bisect_left(starts, end)
    return max(ends[i - 1] if i else 0, start - 200), starts[j] if j < len(starts) else size


class Says(NamedTuple):
    """What a sentence says of all its counts."""

    checked: bool  # a batch was checked and found right
    checking: tuple[int, ...]  # where it says a batch is being checked for the same fault
    to_the_persons: bool  # mail went to the persons themselves
    about_a_list: bool


def _sentence_says(text: str, sentence: tuple[int, int]) -> Says:
    a, b = sentence
    checked = bool(CHECKED.search(text, a, b) and FOUND_RIGHT.search(text, a, b))
    checking = tuple(m.start() for m in CHECKING.finditer(text, a, b))
    return Says(checked, checking, bool(TO_THE_PERSONS.search(text, a, b)), bool(AUDIENCE_SENTENCE.search(text, a, b)))


def _same_clause(text: str, count: Count, at: int) -> bool:
    """No bracket opens or closes between a count and a place in its sentence: (1名分は…確認中) is its own clause."""
    between = text[count.end:at] if at >= count.end else text[at:count.start]
    return not any(c in between for c in "()「」")


def _role(text: str, count: Count, sentence: tuple[int, int], says: Says) -> str:
    low, (_, end) = max(count.start - 16, sentence[0]), sentence
    if DUPLICATE_BEFORE.search(text, low, count.start):
        return "duplicate"
    worth = count.words.endswith("分")  # 200名分: a count of whose data it is, never of who saw it
    if not worth and (WITNESS_AFTER.match(text, count.end, end) or WITNESS_BEFORE.search(text, low, count.start)
                      or WITNESS_LEAD.search(text, max(count.start - 48, sentence[0]), count.start)):
        # each got the other's: who received it are also whose it was
        return "subject" if SWAPPED.search(text, *sentence) else "witness"
    if POPULATION_BEFORE.search(text, low, count.start) or POPULATION_AFTER.match(text, count.end, end):
        return "population"
    if says.checked or any(_same_clause(text, count, at) for at in says.checking):
        return "checked"
    if says.to_the_persons:
        return "subject"
    if AUDIENCE_AFTER.match(text, count.end, end) or AUDIENCE_BEFORE.search(text, low, count.start) or (
            says.about_a_list and not DATA_AFTER.match(text, count.end, end) and not DATA_BEFORE.search(text, low, count.start)):
        return "audience"
    return "subject"


def roles(text: str) -> list[Role]:
    """Every count of the text with its role in its sentence."""
    found = []
    spans = [m.span() for m in SENTENCE_END.finditer(text)]
    marks = [start for start, _ in spans], [end for _, end in spans]
    said: dict[tuple[int, int], Says] = {}
    for count in counts(text):
        if count.number and count.number > 1 and "通" in text[max(count.start - 16, 0):count.start] and ONE_ENVELOPE.search(
                text, max(count.start - 16, 0), count.start):
            count = count._replace(number=count.number - 1, words=f"{count.words} in one envelope, one of them its addressee's")
        sentence = _sentence(marks, len(text), count.start, count.end)
        if sentence not in said:
            said[sentence] = _sentence_says(text, sentence)
        found.append(Role(count, _role(text, count, sentence, said[sentence]), sentence))
    return found


def _summed(parts: list[Count], why: str) -> Persons:
    total = sum(c.number for c in parts)
    return Persons(total, any(c.estimated for c in parts), parts[-1].over, None,
                   f"{why}: " + " + ".join(c.words for c in parts))


def _joined(text: str, parts: list[Count]) -> bool:
    """Counts of one sentence joined by と / 、 / and, of one kind (persons or records): parts of one whole.
    A count that says it is the whole or a bound (計21名, 最大で4,050名, 3名それぞれ) is no part, nor is a list of
    roles that restates them (two customers, husband and wife), nor a polite count after a list of roles
    (ご主人と奥様…お二人の氏名)."""
    return len(parts) > 1 and len({c.strength for c in parts}) == 1 and all(
        (JOINED.match(text[a.end:b.start]) or a.end < b.start and FAMILY_PART.search(text, max(b.start - 10, a.end), b.end)
         and not SENTENCE_END.search(text, a.end, b.start))
        and not NOT_JOINED.search(text[a.end:b.start])
        and not WHOLE_OR_BOUND.match(b.words) and not EACH_OF_THEM.match(text, b.end)
        and not is_role_list(b.words) and not (is_role_list(a.words) and b.words.startswith("お"))
        for a, b in zip(parts, parts[1:]))


def _corrected(text: str, subjects: list[Role], sentence: tuple[int, int]) -> Persons | None:
    """The first count after the last word of correction in a sentence that has one after it (a later
    correction supersedes: 持ち出されたのは約8千件で、重複を除くと約6千人)."""
    for corrected in reversed(list(CORRECTED.finditer(text, *sentence))):
        if SO_FAR.search(text, max(corrected.start() - 12, sentence[0]), corrected.end()):
            continue  # 現時点で流出が確認されたのは3名分: the part confirmed so far, not a correction of the whole
        after = [r.count for r in subjects if r.sentence == sentence and r.count.start >= corrected.start()
                 and r.count.number is not None]
        if after:
            whole = _whole(_run(text, after))[0]  # 流出したのは会員1,200名と、退会者340名: the parts summed
            return Persons(whole.number, whole.estimated, whole.over, None, f"{corrected.group(0)} {whole.words}")
    return None


def _run(text: str, counts: list[Count]) -> list[Count]:
    """The first count and those joined to it as parts of one whole."""
    run = counts[:1]
    for count in counts[1:]:
        if not _joined(text, [run[-1], count]):
            break
        run.append(count)
    return run


def _total(text: str, subjects: list[Role]) -> Persons | None:
    """The count a sentence corrects to (実人数は271名) or sums up to (つまり13名, 4 customers in total)."""
    for sentence in dict.fromkeys(role.sentence for role in subjects):
        if corrected := _corrected(text, subjects, sentence):
            return corrected
    for role in subjects:
        if TOTAL.search(text, role.sentence[0], role.sentence[1]):
            parts = [r.count for r in subjects if r.sentence == role.sentence and r.count.number is not None]
            if _joined(text, parts):
                return _summed(parts, "in total")
            if parts:
                best = max(parts, key=lambda c: (c.strength, c.number))  # 1,020 rows…, 980 people in all
                return Persons(best.number, best.estimated, best.over, None, best.words)
    return None


def _merged(text: str, subjects: list[Role]) -> list[Count]:
    """The subjects' counts with the parts of one whole summed (A社(312名)とB社(118名): 430)."""
    merged: list[Count] = []
    run: list[Count] = []
    for role in subjects:
        count = role.count
        if run and count.number is not None and _joined(text, [run[-1], count]):
            run.append(count)
            continue
        merged += _whole(run)
        run = [count] if count.number is not None else []
        if count.number is None:
            merged.append(count)
    return merged + _whole(run)


def _whole(run: list[Count]) -> list[Count]:
    if len(run) < 2:
        return run
    whole = _summed(run, "the parts")
    return [Count(whole.persons, whole.estimated, whole.over, None, whole.words, run[0].strength, run[0].start,
                  run[-1].end)]


# Kinds where those the data reached are those whose data it is: a list used to contact them.
READERS_ARE_PERSONS = frozenset({"misuse"})
# Kinds where an attacker held the whole system: with no count of a part, the persons it holds (登録患者数は8千人)
# are the largest number the text supports.
WHOLE_SYSTEM_KINDS = frozenset({"malware", "unauthorized_access"})
# The text says the whole population leaked (全会員の情報が閲覧可能, all our customers' data).
_DATA = r"(?:個人)?(?:情報|データ|氏名|名前|住所|メールアドレス|連絡先|電話番号|名簿|記録)"
EVERYONE = gates.compile(rf"(?:全(?:会員|顧客|利用者|登録者|患者|生徒|学生|児童|契約者)|(?:すべて|全て)の(?:会員|顧客|お客様|利用者|登録者|患者"
                         rf"|生徒|学生))(?:様)?の{_DATA}"
                         r"|\ball (?:of )?(?:our|the) (?:[a-z]+ )?(?:customers|members|users|patients|students|clients)'?s? "
                         r"(?:data|details|records|names|addresses|information|e-?mail addresses|personal data)\b")
# Kinds where who saw another's data had theirs shown to the next: when nothing else counts or names the
# persons, the viewers bound them (as the readers do, see extract._persons).
VIEWERS_ARE_PERSONS = frozenset({"wrong_display"})


def choose(text: str, category: str | None = None) -> tuple[Persons | None, list[Count]]:
    """The persons a text's counts support, and the counts of its readers, or for a wrong display also its
    viewers (used when nothing else is)."""
    found = roles(text)
    readers = "audience" if category in READERS_ARE_PERSONS else "subject"
    subjects = [r for r in found if r.role in ("subject", readers)]
    audience = [r.count for r in found if r.role == "audience"]
    if category in VIEWERS_ARE_PERSONS and not UNKNOWN.search(text):
        audience += [r.count for r in found if r.role == "witness"]
    if not subjects and (category in WHOLE_SYSTEM_KINDS or EVERYONE.search(text)):
        subjects = [r for r in found if r.role == "population"]
    chosen = _total(text, subjects) or persons(_merged(text, subjects))
    return _deduplicated(chosen, found), audience


def _deduplicated(chosen: Persons | None, found: list[Role]) -> Persons | None:
    """The chosen count of records less the duplicates told right after it (1,203件、うち重複3件: 1,200); a count
    of persons (120名分、二重登録が2名) may already be of persons, and stays (never a guess too small)."""
    if not chosen or chosen.persons is None:
        return chosen
    for i, role in enumerate(found[1:], 1):
        before = found[i - 1].count
        if role.role == "duplicate" and role.count.number and before.words == chosen.words and before.number == chosen.persons \
                and before.strength == 1 and role.count.start - before.end < 16 and role.count.number < before.number:
            return chosen._replace(persons=chosen.persons - role.count.number,
                                   words=f"{chosen.words} less {role.count.words} listed twice")
    return chosen

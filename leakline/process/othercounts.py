"""Counts told another way than a number and a unit: お二人, a family of four, 本人と扶養家族3名, 名刺300枚,
320通すべて, and orders of magnitude (数百名, several thousand customers).

Text is prepared (NFKC, lower case) by the caller; counts.py reads these with the stated counts.
"""

from __future__ import annotations

import re

from . import gates
from .numbers import EN_NUMBER, EN_PERSONS, EN_REACH, JA_NUMBER, JA_REACH, MAGNITUDES, _DIGITS, Count, parse_number

# お一人, お二人様: a polite count of one or two persons, before their data or who they are (お二人(A様・B様)の).
JA_POLITE = gates.compile(r"(?<![a-zなほ])お(?P<num>一|二|ひと|ふた)(?:人|り)(?:様)?"
                          r"(?=\s*(?:分|の(?!方|お?客|時|際|場|間|ため|うち|中|前|後|よう)|\([^()]{1,24}\)))")
# 千数百名: a number before an order of magnitude adds to its bound (1,000 + 999).
JA_MAGNITUDE = gates.compile(r"(?P<pre>約|およそ|最大で?)?(?P<lead>[一二三四五六七八九]?[百千万]|\d+[百千万])?"
                             r"(?P<mag>数十万|数百万|数十|数百|数千|数万|十数|何十|何百|何千|何万)(?P<unit>名|人|件|世帯)")
# Counts told another way: a family of four, 名刺約300枚, 320通すべて (each letter another person's),
# 本人と扶養家族3名 or その方(...)と、同居のご家族2名 (the person and the family), the parents and their two children
# (four), "the actual number of people is 301".
OTHER_COUNTS = gates.compile(
    rf"(?:a |the )?family of (?P<num>{EN_NUMBER})\b"
    rf"|number of (?:(?:individual|unique|distinct|actual|affected|real) )?(?:people|persons|individuals|customers|patients"
    rf"|users|members) (?:is|was|comes to|:)\s*"
    rf"(?:about |around |approximately )?(?P<stated>{_DIGITS})"
    rf"|(?:本人|その方)(?:\([^()]{{0,40}}\))?(?:の[^。、\n]{{0,8}}?)?と、?(?:[^。、\n]{{0,8}}?"
    rf"|[^。\n]{{0,24}}?(?:家族|扶養|保証人|配偶者|お子|子ども|子供)[^。、\n]{{0,4}}?)(?<!の)(?P<plus>{JA_NUMBER})\s*(?:名|人)"
    rf"|名刺[^。\n]{{0,12}}?(?P<cards>{JA_NUMBER})\s*枚"
    rf"|全\s*(?P<every>{JA_NUMBER})\s*通(?:すべて|全て|全部)?(?=[^。\n]{{0,15}}(?:ずれ|誤|間違|違|別の|他人))")
# A household or a form's persons listed one by one (世帯主 渡辺健一様、奥様 由美様、長男 翔太様; 契約者と奥様、お子様2名;
# the applicant, his wife and their three children): one person per role, or the number a role gives.
_ROLE = (r"(?<![一-龥])(?:世帯主|奥様|主人|夫|妻|長男|長女|次男|次女|三男|三女|父|母|父様|母様|祖父|祖母|息子|娘"
         r"|契約者|申込者|被保険者|本人|連帯保証人|保証人|受取人|配偶者|子様|子さん|子ども|子供|夫婦|両親|夫妻)(?:様|さん)?")
_ITEM = rf"{_ROLE}(?:\s*[一-龥][一-龥ぁ-ん]{{0,5}}(?:様|さん))?(?:\s*(?P<n>{JA_NUMBER})\s*(?:名|人))?"
FAMILY_LIST = gates.compile(rf"{_ITEM}(?:\s*(?:、|・|,|と|及び|および)\s*{_ITEM.replace('?P<n>', '?:')})+(?!\s*(?:\d|の方々))")
KIN = gates.compile(_ITEM)
_EN_ROLE = (r"(?:(?:the|his|her|their|a) )?(?:(?P<n>" + EN_NUMBER + r") )?(?:applicant|customer|policyholder|employee|patient"
            r"|member|tenant|guest|wife|husband|spouse|partner|son|daughter|father|mother|children|kids|sons|daughters"
            r"|dependants|dependents|family members|guarantors?|parents|couple)\b")
EN_FAMILY_LIST = gates.compile(_EN_ROLE.replace("?P<n>", "?:") + r"(?:,? (?:and )?" + _EN_ROLE.replace("?P<n>", "?:") + r")+")
EN_KIN = gates.compile(_EN_ROLE)


def is_role_list(words: str) -> bool:
    """Whether a count's words are a list of roles (husband and wife), which restates persons told before."""
    return any((m := pattern.match(words)) and m.end() == len(words) for pattern in (FAMILY_LIST, EN_FAMILY_LIST))


def _listed(match: re.Match, item: re.Pattern) -> int | None:
    """The persons a list of roles names; None when a plural role gives no number (children)."""
    total = 0
    for one in item.finditer(match.group(0)):
        plural = one.group(0).endswith(("children", "kids", "sons", "daughters", "dependants", "dependents", "members",
                                        "guarantors"))
        two = one.group(0).endswith(("parents", "couple")) or any(w in one.group(0) for w in ("夫婦", "両親", "夫妻"))
        number = parse_number(one.group("n")) if one.group("n") else 2 if two else 1
        if plural and not one.group("n"):
            return None
        total += number
    return total if total > 1 else None


# "The three whose slips were exposed": a number that owns the data is of persons; so is a number of
# letters that each went to the wrong person ("about 60 reminders went to the wrong customers", "37 of them
# went to old addresses").
WHOSE = gates.compile(rf"\bthe (?P<whose>{EN_NUMBER}) whose\b")
MISSENT = gates.compile(rf"(?<![\w,.])(?P<missent>{EN_NUMBER}) (?:(?:[a-z\-]+ ){{0,2}}?(?:reminders|notices|letters|slips|statements"
                      rf"|e-?mails|messages|notifications|invoices|payslips) |of (?:them|these|those) )?"
                      rf"(?:went|were sent|were delivered|were mailed|were e-?mailed|were handed|were given|were put|ended up|reached)"
                      rf" (?:out )?(?:to |in |into )?(?:the )?"
                      rf"(?:wrong|someone else|other|another|old addresses)\b"
                      # 残りの105通が別の方に届きました: letters that reached others
                      rf"|(?P<missent_ja>{JA_NUMBER})\s*通(?:が|は|も)?[^。、\n]{{0,8}}?(?:別の方|別人|第三者|他の方|他人|誤った(?:宛先|住所))"
                      rf"(?:に|へ)[^。\n]{{0,4}}?(?:届|配達|渡)"
                      # 請求書240通を、それぞれ別のお客様の封筒に: each letter went to another person
                      rf"|(?P<each_ja>{JA_NUMBER})\s*通(?:を|が|は|とも)?[、,]?\s*(?:それぞれ|すべて|全て|全部)[^。\n]{{0,6}}?(?:別の|他の|違う|誤った)")
# Papers counted with what each holds ("a dozen application forms: full name, address"): one person's each.
PAPERS = gates.compile(rf"(?<![\w,.])(?P<papers>{EN_NUMBER}) (?:[a-z\-]+ ){{0,2}}?(?:forms|notes|slips|statements|letters"
                       rf"|invoices|payslips|certificates|applications|questionnaires|receipts|cards|files|folders|cvs|profiles"
                       rf"|contracts): (?:[a-z\-]+ ){{0,2}}?(?:full )?names?\b"
                       # "There were 17 forms from the event. Each has name, address": the next sentence says what each holds
                       rf"|(?<![\w,.])(?P<each_paper>{EN_NUMBER}) (?:[a-z\-]+ ){{0,2}}?(?:forms|slips|applications|questionnaires"
                       rf"|cvs|profiles|contracts|letters|statements|certificates)\b[^.\n]{{0,40}}\.\s+each (?:one )?(?:has|had|contains|contained"
                       rf"|shows|showed|lists|listed|includes|included|holds|held|carries|carried|with) (?:a |the |their |his |her )?"
                       rf"(?:[a-z\-]+'s )?(?:full )?names?\b")
# Persons counted per organisation: 取引先138社…担当者は1社1名 (138 persons), 各店舗2名.
PER_ONE = gates.compile(r"(?:(?<![\d,])(?:1|一)|各)\s*(?P<per>社|店舗|校|施設|事業所|法人|団体)\s*(?:につき|あたり|当たり)?\s*"
                        r"(?P<each>[1-9一二三四五])\s*(?:名|人)")
LETTERS = gates.compile(rf"(?P<all>{JA_NUMBER})\s*通\s*(?:すべて|全て|全部)(?=[^。\n]{{0,15}}(?:ずれ|誤|間違|違|別の|他人))")
EN_MAGNITUDE = gates.compile(r"(?P<mag>several tens of thousands|tens of thousands|hundreds of thousands"
                          r"|(?:several|a few) (?:thousand|hundred|dozen)|thousands|hundreds|dozens)"
                          r"(?: of)?\s+(?:[a-z'\-]+\s+){0,2}?(?:" + EN_PERSONS + r")\b")
# 件 of what is not a person's record: 5件の入出金明細 (transactions), 3件の電話 (calls), リポスト30件.
NOT_RECORDS_BEFORE = gates.compile(r"(?:入出金|取引|明細|注文|電話(?!番号)|メール(?!アドレス)|リポスト|リツイート|投稿|コメント|返信|アクセス"
                                   r"|忘れ物|荷物|商品|品物"
                                   r"|ログイン|ログ|エラー|ファイル|送信|着信|拡散|閲覧)[^。、\n\d]{0,4}$")
NOT_RECORDS_AFTER = gates.compile(r"\s*の(?:入出金|取引|明細|注文|商品|ファイル|書類|ページ|問い?合わせ|お問い?合わせ|電話|返信|苦情"
                               r"|エラー|ログ|アクセス|メール(?!アドレス))")


# A word each of these patterns cannot match without, found in one scan of the text, and how far before
# and after it a match can reach: the patterns run only there (gates.near).
CUES = gates.compile(
    r"(?P<MISSENT>\b(?:went|were (?:sent|delivered|mailed|e-?mailed|handed|given|put)|ended up|reached)\b"
    r"|(?:別の方|別人|第三者|他の方|他人|誤った(?:宛先|住所))(?:に|へ)|通(?:を|が|は|とも)?[、,]?\s*(?:それぞれ|すべて|全て|全部))"
    r"|(?P<PAPERS>(?:forms|notes|slips|statements|letters|invoices|payslips|certificates|applications"
    r"|questionnaires|receipts|cards|files|folders|cvs|profiles|contracts): "
    r"|\beach (?:one )?(?:has|had|contains|contained|shows|showed|lists|listed|includes|included|holds|held|carries|carried|with) )"
    r"|(?P<EN_FAMILY_LIST>\b(?:wife|husband|spouse|partner|sons?|daughters?|father|mother|children|kids"
    r"|dependants|dependents|family members|guarantors?|parents|couple)\b)"
    r"|(?P<ONE_EACH>[名人]様?\s*(?:につき)?\s*[1一]\s*[通枚部件]|\b(?:one|1) (?:per|for each|for every|for one)\b"
    r"|\beach (?:from|for|of|belonging to)\b)"
    r"|(?P<WHOSE>\bwhose\b)")
REACH = {"MISSENT": (60, 50), "PAPERS": (80, 40), "EN_FAMILY_LIST": (90, 70), "ONE_EACH": (60, 40), "WHOSE": (30, 10)}


def cues(text: str) -> dict[str, list[tuple[int, int]]]:
    """Where each of the patterns above can match: the spans of its words, by pattern name."""
    found: dict[str, list[tuple[int, int]]] = {}
    for match in CUES.finditer(text):
        found.setdefault(match.lastgroup, []).append(match.span())
    return found


def near(pattern, name: str, text: str, cued: dict):
    """The matches of a pattern read near its cue words (none when the text has none)."""
    return gates.near(pattern, text, cued[name], *REACH[name]) if name in cued else ()


def not_records(text: str, match: re.Match) -> bool:
    """5件の入出金明細, メール数千件: 件 of what is not a person's record."""
    return bool(NOT_RECORDS_AFTER.match(text, match.end())
                or NOT_RECORDS_BEFORE.search(text, max(match.start() - 10, 0), match.start()))


def _per_one(text: str):
    """取引先138社…1社1名: the organisations counted times the persons each gave (one ratio per text)."""
    ratio = PER_ONE.search(text) if "社" in text or "店舗" in text or "校" in text or "施設" in text or "法人" in text else None
    if not ratio:
        return
    for match in re.finditer(rf"(?P<n>{JA_NUMBER})\s*{ratio.group('per')}", text):
        if parse_number(match.group("n")) > 1:  # not the ratio's own 1社
            number = parse_number(match.group("n")) * parse_number(ratio.group("each"))
            yield Count(number, False, False, None, f"{match.group(0)} × {ratio.group(0)}", 2, match.start(), match.end())


def told(text: str, ja: list, en: list, cued: dict):
    """お二人, a family of four, 名刺300枚, 320通すべて, and orders of magnitude (数百名); `cued` is `cues(text)`."""
    for match in JA_POLITE.finditer(text):
        number = 1 if match.group("num") in ("一", "ひと") else 2
        yield Count(number, False, False, None, match.group(0), 2, match.start(), match.end())
    for match in (*OTHER_COUNTS.finditer(text), *(LETTERS.finditer(text) if "通" in text else ()),
                  *near(WHOSE, "WHOSE", text, cued), *near(MISSENT, "MISSENT", text, cued),
                  *near(PAPERS, "PAPERS", text, cued)):
        said = match.groupdict()
        number = parse_number(next(g for g in match.groups() if g)) + (1 if said.get("plus") else 0)
        strength = 1 if said.get("cards") or said.get("papers") or said.get("each_paper") else 2  # a letter or a family is a person; a card, a record
        if number:
            yield Count(number, False, False, None, match.group(0), strength, match.start(), match.end())
    yield from _per_one(text)
    for match, item in ((m, KIN) for m in FAMILY_LIST.finditer(text)):
        if number := _listed(match, item):
            yield Count(number, False, False, None, match.group(0), 2, match.start(), match.end())
    for match in near(EN_FAMILY_LIST, "EN_FAMILY_LIST", text, cued):
        if number := _listed(match, EN_KIN):
            yield Count(number, False, False, None, match.group(0), 2, match.start(), match.end())
    ja_magnitude = "数" in text or "何" in text
    en_magnitude = any(word in text for word in ("dozen", "hundred", "thousand"))
    for pattern, cores, reach in ((JA_MAGNITUDE, ja if ja_magnitude else (), JA_REACH),
                                  (EN_MAGNITUDE, en if en_magnitude else (), EN_REACH)):
        for match in gates.near(pattern, text, cores, reach) if cores else ():
            if match.groupdict().get("unit") == "件" and not_records(text, match):
                continue  # メール数千件, ログイン試行が数万件: not records of persons
            lead = match.groupdict().get("lead")
            bound = MAGNITUDES[match.group("mag")] + (parse_number(lead) if lead else 0)
            yield Count(None, True, False, bound, match.group(0), 2, match.start(), match.end())

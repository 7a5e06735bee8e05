"""The kind of incident (JIPDEC's classes) from what a report says happened, by weighted cues.

Reports seldom name the kind: a theft is told by a broken window, a misdelivery by which papers
went into which envelope, ransomware by a demand for bitcoin. Each cue adds weight to a kind; the
heaviest kind wins when it clearly leads. A tie between kinds, or a weak lead, is no answer: a
wrong accident kind would take the wrongful-purpose trigger (T3) away, so uncertainty stays
unknown and the fact form asks the reporter. Text is prepared (NFKC, lower case) and stripped of
quoted mail by the caller.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import NamedTuple

from . import gates
from .lexicon import negated

# (kind, weight, pattern). Weight 3: names the kind; 2: a strong trace; 1: a hint.
CUES = (
    # -- email to the wrong recipient
    ("misdirected_email", 3, r"誤送信(?!.{0,6}fax)|メール(?:の)?誤送信|誤添付|宛先(?:を|の)?(?:間違|誤|入れ間違)|送信先(?:を|の)?(?:間違|誤)"
                             r"|bccに(?:入れ|する|すべき|設定)|bccではなく|bcc(?:で|に)(?:送|入れ)るべき|ccに(?:入れ|して)|toに(?:入れ|全員)"
                             r"|宛先に全員|オートコンプリート|予測変換で|アドレス帳から(?:誤|間違)|添付(?:ファイル)?(?:を)?(?:間違|誤|取り違)"
                             r"|別の(?:ファイル|資料|データ)を添付|全員に返信|誤って.{0,15}(?:メール|転送)"
                             r"|(?:sent|e-?mailed|forwarded|replied)[^.\n]{0,40}to the wrong|misdirected e-?mail|wrong (?:e-?mail )?recipients?"
                             r"|wrong e-?mail address|autocomplete|auto-?complete|auto-?fill|filled in [^\n.]{0,40}@"
                             r"|(?:attached|sent|included) the wrong (?:file|attachment|document|spreadsheet)|wrong attachment"
                             r"|in the (?:to|cc) (?:field|line)|instead of bcc|(?:cc|to)'?d (?:all|everyone)|reply[- ]all"
                             r"|(?:accidentally|mistakenly|wrongly|by mistake) (?:sent|e-?mailed|forwarded|attached|cc)"
                             r"|(?:e-?mailed|sent|forwarded)[^.\n]{0,200}by mistake|別の[^。\n]{0,20}を添付|添付して送(?:って|信して)しま"
                             r"|attached (?:another|someone else'?s|the wrong)"),
    ("misdirected_email", 1, r"メール(?:で|を)?(?:送|送信|送付)|送信(?:して|しま)|添付|e-?mail(?:ed)?|attachment|outlook|gmail|mailing list"),
    # -- FAX to the wrong number
    ("misdirected_fax", 4, r"(?:fax|ファックス|ファクス)(?!\s*[\d(:：])[^。\n]{0,40}(?:誤|間違|違|別の|wrong|incorrect|mistake|another)"
                           r"|(?:誤|間違|wrong|another)[^。\n]{0,30}(?:fax|ファックス|ファクス)(?!\s*[\d(:：])"
                           r"|faxed|fax(?:ed)? (?:it |them )?to|ファクシミリ"),
    # -- post, parcels, papers handed or delivered to the wrong person
    ("misdelivery", 3, r"誤配達|誤配送|誤交付|誤送付|誤発送|誤封入|封入(?:ミス|誤り|間違)|入れ違|取り違え|入れ間違|同封(?:して|され)"
                       r"|(?:送り状|伝票|宛名|ラベル)[^。\n]{0,8}(?:貼り間違|間違|誤|取り違|逆)|貼り間違"
                       r"|別の(?:方|お客様|患者(?:様|さん)?|人|利用者|会員|生徒|保護者|家庭|住所)(?:の|に|へ|宛)[^。\n]{0,20}"
                       r"(?:渡し|交付|郵送|送付|発送|届|入って|入れ|お渡し)"
                       r"|(?:封筒|箱|荷物|郵便|書類|納品書|請求書|通知書|明細)[^。\n]{0,30}(?:別の|他の|違う)[^。\n]{0,15}(?:方|人|お客様)"
                       r"|自分の(?:じゃ|では)ない|知らない人の|他人の(?:書類|請求書|明細|結果|通知)"
                       r"|wrong envelopes?|misdeliver|misaddressed|mis-?sent by post|(?:posted|mailed|delivered|handed|given|shipped)"
                       r"[^.\n]{0,30}to the wrong|wrong (?:customer|person|patient|address) (?:at|received)"
                       r"|someone else'?s (?:letter|documents?|papers|items|invoice|results?|statement)"
                       r"|another (?:customer|patient|person|member)'?s (?:letter|documents?|papers|items|invoice|results?|statement|delivery note)"
                       r"|mix-?up|swapped|put in the wrong"),
    ("misdelivery", 1, r"郵送|発送|封筒|窓口|手渡|宅配|配送|送付|parcel|envelope|courier|counter|post(?:ed|al)?\b|letters?\b"),
    # -- shown to another person (screens, pages, shared folders)
    ("wrong_display", 3, r"誤表示|(?:他|別)の(?:お客様|顧客|会員|利用者|方|人|患者|生徒)の[^。\n]{0,25}(?:表示|見え|閲覧)"
                         r"|閲覧(?:できる|可能な?)(?:状態|設定)|公開(?:状態|設定)に|誰でも(?:見|閲覧|アクセス)|見える状態|表示されて"
                         r"|(?:visible|displayed|shown|viewable) to (?:other|another|anyone|all)|publicly (?:accessible|visible)"
                         r"|anyone with the link|could see (?:another|other|someone)|saw (?:another|other) (?:customer|user|member)s?'?"),
    ("wrong_display", 1, r"表示|画面|マイページ|共有(?:フォルダ|設定|リンク)|キャッシュ|displayed|screen|portal|page|cache|shared (?:folder|drive|link)"),
    # -- wrong data registered
    ("wrong_entry", 3, r"誤登録|誤入力|登録(?:ミス|誤り|間違)|入力(?:ミス|誤り|間違)|(?:間違|誤)(?:って|えて)(?:登録|入力)"
                       r"|登録(?:する|した)(?:とき|際)[^。\n]{0,30}(?:コピ|間違|誤)|(?:住所|アドレス|番号)を[^。\n]{0,10}(?:間違|誤)って(?:登録|入力)"
                       r"|entered (?:incorrectly|wrongly|the wrong)|data entry error|wrong data entered|registered (?:with|under) the wrong"
                       r"|wrong (?:address|e-?mail|number) (?:on file|in (?:the|our) (?:system|database|master))|typo in"),
    ("wrong_entry", 3, r"取り込(?:む|んだ)(?:際|とき)|インポート|(?:1|一)行ずれ|行(?:が|だけ)?ずれ|列(?:が|だけ)[^。\n]{0,10}ずれ"
                       r"|ずれて(?:登録|取り込)|(?:rows?|columns?) (?:were |was )?(?:shifted|misaligned|offset)|off by one row"
                       r"|imported [^.\n]{0,40}(?:wrong|shifted)|merge(?:d)? (?:job|records)|duplicate-merge"),
    # -- lost or left somewhere
    ("loss", 3, r"紛失|置き?忘れ|失くし|無くし|なくし(?:た|て|ま)|見当たら|所在不明|行方不明|落とし(?:た|て|ま)|どこかに(?:置|落)"
                r"|(?:\blost\b|misplaced|cannot be found|can'?t find|cannot find|could not find|missing)"
                r"|left (?:it|them|my|the|a|our)\b[^.\n]{0,40}\b(?:in|on|at) (?:a|the) (?:taxi|train|bus|cab|restaurant|cafe|bar|shop|station)"),
    ("loss", 1, r"見つから|探し|捜し|遺失|なくなっ|search|looked for"),
    ("loss", 3, r"couldn'?t find|can no longer find|not (?:sure|know) where|came off|fell out|落ち(?:た|て)|どこに(?:置|やっ)"
                r"|left (?:it|them|my|the|a|our)\b[^.\n]{0,40}\b(?:in|on|at|under) (?:a|the) (?:shelf|seat|bench|table|counter|copier"
                r"|copy machine|plane|flight)"),
    # -- stolen by an outsider
    ("theft", 4, r"盗難|盗まれ|盗ま|窃盗|車上(?:荒|あら)し|置き引き|ひったくり|空き巣|窓(?:ガラス)?(?:が|を)割ら|こじ開け|荒らされ"
                 r"|stolen|theft|burglar|break-?in|broken into|snatched|pickpocket|smashed|robbed|mugged"),
    ("theft", 2, r"被害届|割られ|鍵が壊|police report|reported (?:it )?to the police"),
    ("theft", 3, r"曲げられ|こじ開け|(?:鍵|錠|扉|ドア|窓|ロッカー|ケース|シール|封)(?:が|の部分が|を)?[^。\n]{0,6}(?:壊され|曲げ|こじ|割ら|切ら|破ら|外され)"
                 r"|立ち去っ(?:た|て)[^。\n]{0,30}(?:なくな|ない|見当たら)|目を離した(?:隙|すき|間)|持ち去|盗難届|物色"
                 r"|seal (?:was |had been )?(?:cut|broken)|taped back|tampered|pried|forced open|walked off with"
                 r"|(?:turned|looked) (?:round|around|away)[^.\n]{0,60}(?:gone|missing)|someone took|(?:lock|latch) (?:was )?(?:broken|bent|forced)"),
    # -- wrongly discarded
    ("wrong_disposal", 3, r"誤廃棄|誤って(?:廃棄|破棄|処分|捨て)|(?:間違|誤)(?:って|えて)(?:廃棄|破棄|処分|捨て)|古紙回収|溶解(?:処理|証明)"
                          r"|廃棄(?:業者|予定|書類|箱)|(?:一般|資源|燃える)ごみ|ごみ(?:箱|置き場|として)|ゴミ(?:箱|置き場|として|に)"
                          r"|(?:thrown|threw) (?:away|out)|discarded|binned|recycling bin|(?:disposal|shredding|waste) (?:contractor|company|firm|bin)"
                          r"|put out (?:with|for) (?:the )?(?:trash|rubbish|garbage|recycling)|in the (?:trash|rubbish|garbage)"),
    ("wrong_disposal", 1, r"廃棄|破棄|処分|シュレッダー|shred|dispos"),
    ("wrong_disposal", 3, r"シュレッダー(?:に)?かけてしまっ|一緒にシュレッダー|誤って(?:シュレッダー|破砕)|産廃|産業廃棄物|廃棄業者|回収業者|古紙業者"
                          r"|古紙(?:用|の)?(?:ボックス|箱)|resold|refurbished|sold to a used|recycler|recycling (?:company|firm|contractor)"
                          r"|not (?:physically )?destroyed|accidentally shredded|shredded (?:by mistake|along with|together)"
                          r"|put through the shredder|(?:thrown|tossed) (?:away|out) by mistake"),
    # -- intrusion and account takeover
    ("unauthorized_access", 4, r"不正アクセス|不正ログイン|乗っ取|身に覚えの?ない(?:ログイン|アクセス)|sqlインジェクション|スキミング"
                               r"|フィッシング|偽(?:の)?(?:サイト|ページ|ログイン)|不正に(?:取得|侵入|ログイン)|ハッキング|リスト型攻撃"
                               r"|ブルートフォース|総当たり|改ざん|unauthori[sz]ed (?:access|login)|hack(?:ed|er|ing)|sql injection|skimm"
                               r"|credential stuffing|phish|account takeover|compromised|brute[- ]force|intrusion|intruder"
                               r"|(?:unknown|unfamiliar|foreign|suspicious) (?:ip|device)[^.\n]{0,40}log(?:ged)? ?(?:in|on)"
                               r"|(?:downloads?|downloaded|accessed|exported) (?:from|by) (?:unknown|outside|external|foreign)"),
    ("unauthorized_access", 2, r"(?:知らない|不審な|海外の?|身に覚えのない)(?:ip|端末|場所)|海外から(?:の)?(?:ログイン|アクセス)"
                               r"|(?:unknown|unfamiliar|foreign|suspicious) (?:ip|device|location|login)|new login|logged in from"
                               r"|reachable from the internet"
                               r"|ip address(?:es)? in|someone (?:logged|accessed|exported|downloaded)|脆弱性|vulnerab"),
    ("unauthorized_access", 2, r"検索エンジン|search engine|indexed|不明なユーザー|unknown (?:users?|visitors?)|downloaded \d+ times"
                               r"|ダウンロードが\d+回"),
    # -- malware and attacks that lock the data for a ransom
    ("malware", 4, r"ランサム|マルウェア|ウ[イィ]ルス(?:に|へ)?感染|ウ[イィ]ルスメール|emotet|エモテット|トロイ|ransom|malware"
                   r"|virus|trojan|infected|infection|身代金|ビットコイン|bitcoin|暗号資産で|\.locked|拡張子が(?:すべて|全部)?(?:変わ|変更)"
                   r"|勝手に(?:メール|送信)|(?:払え|支払え|支払うよう|連絡(?:しろ|するよう))|pay (?:us|to get|in|the)"
                   r"|(?:files?|data) (?:were |was |are )?(?:renamed|locked|scrambled)|sending (?:mails?|e-?mails?) by itself"),
    ("malware", 2, r"感染|開けな(?:い|く)|読めな(?:い|く)|can(?:not|'t) (?:be )?open|unreadable"),
    ("malware", 3, r"不正(?:な)?プログラム|スパイウェア|キーロガー|情報窃取|stealer|keylogger|spyware|backdoor|remote access (?:tool|trojan)"
                   r"|知らない(?:sms|メール)[^。\n]{0,20}送信|(?:sms|メール)が[^。\n]{0,10}大量|fake (?:browser |chrome )?update"
                   r"|(?:アプリ|app)[^。\n]{0,15}(?:インストールしてしま|入れてしま|installed)|拡張機能[^。\n]{0,30}(?:検出|不正)"),
    # -- insiders taking data (a former employee who took it; not "the files of former employees", whose data it is)
    ("insider", 4, r"内部不正|(?:不正|無断)[^。\n]{0,6}持ち?出|無断で[^。\n]{0,30}(?:持ち?出|アップロード|転送|コピー|ダウンロード|エクスポート)"
                   r"|(?<!現)(?<!及び)(?<!と)元(?:従業員|社員|職員)|退職[^。\n]{0,40}(?:持ち?出|ダウンロード|コピー|転送|エクスポート)|転職先|競合(?:他社|会社)"
                   r"|私用の(?:gmail|メール|アドレス|クラウド|usb|pc|スマホ)|個人の(?:gmail|メール|アドレス|クラウド)"
                   r"|insider|(?<!of )(?<!and )(?<!current )(?<!or )former (?:employee|staff)|before (?:leaving|he left|she left|they left)"
                   r"|(?:personal|private) (?:gmail|e-?mail|drive|account|dropbox|cloud)|to (?:his|her|their) own (?:e-?mail|account|drive)"
                   r"|(?:downloaded|copied|exported|took)[^.\n]{0,60}(?:before|after) (?:leaving|resigning|he|she|quitting)"
                   r"|(?:competitor|new employer)"),
    ("insider", 3, r"gave (?:her|his|their) notice|leaves on|(?:will|plans? to|going to) (?:join|open)|joining (?:a|another|the)"
                   r"|new (?:clinic|company|employer|job|firm)|開業(?:する|予定)|独立(?:する|予定)|退職予定|辞める予定"
                   r"|業務(?:と|に)(?:関係|関与)(?:の)?ない|(?:診療|業務)に関与していない|興味本位|のぞき見|覗き見"
                   r"|without (?:a )?(?:business|work) (?:need|reason)|no business reason|snoop|out of curiosity"),
    # -- told to someone
    ("verbal", 3, r"口頭|口外|口を滑ら|読み上げ|(?:電話|窓口|受付)で[^。\n]{0,30}(?:伝え|教え|答え|話し|お伝え|お答え)てしま"
                  r"|(?:伝え|教え|答え|話し|しゃべ)てしまい|お伝えしてしまい|お答えしてしまい|名乗る|と名乗|本人確認(?:を)?(?:せず|しない)"
                  r"|verbally|out loud|told (?:a|an|the|his|her|their|him|them)\b|(?:gave|disclosed|revealed|confirmed) [^.\n]{0,40}over the phone"
                  r"|over the phone[^.\n]{0,40}(?:gave|disclosed|told|confirmed|revealed)|mentioned [^.\n]{0,40}(?:in front of|to)"
                  r"|claimed to be|pretending to be|posing as"),
    ("verbal", 3, r"(?:who )?said (?:he|she|they) (?:was|were) |introduced (?:himself|herself|themselves) as|claiming to be"
                  r"|(?:の|だと)(?:名乗|称)|だと(?:言う|いう|おっしゃる)(?:男性|女性|方|人)|read (?:it |them )?(?:out|aloud)"),
    # -- use beyond the purpose
    ("misuse", 4, r"目的外|私的(?:に)?(?:利用|使用|使)|私用で(?:使|利用)|別の目的|他の目的|転用|流用|勧誘(?:に|の)(?:使|利用)"
                  r"|(?:営業|宣伝|選挙|副業|個人的な)[^。\n]{0,10}(?:に|で)(?:使|利用)"
                  r"|beyond the purpose|for another purpose|misuse|(?:private|personal|own) (?:business|purposes?|use)"
                  r"|used (?:it|them|the (?:list|data|addresses|numbers|details)) (?:for|to)"),
    ("misuse", 3, r"誘(?:う|い|われ|って)|招待|クーポン|親族|(?:夫|妻|家族|親戚)が(?:経営|営む|やって)"
                  r"|(?:husband|wife|relative|family|brother|sister)(?:'s)? (?:runs|owns|business|restaurant|shop|studio|clinic|company)"
                  r"|invit(?:ing|ation|ed)|coupon"),
)
# The label is the cause: a FAX "誤送信" is a FAX; papers mixed up (取り違え) and then thrown away
# were wrongly discarded; a wrong registration that ended in a misdelivery is a wrong entry; data
# stolen by malware is malware; a caller's lie in a phishing attack is the attack.
DOMINATES = (
    ("misdirected_fax", "misdirected_email"), ("misdirected_fax", "wrong_entry"), ("wrong_disposal", "misdelivery"), ("wrong_entry", "misdelivery"),
    ("wrong_entry", "misdirected_email"), ("theft", "loss"), ("malware", "theft"), ("malware", "unauthorized_access"),
    ("malware", "verbal"), ("unauthorized_access", "verbal"), ("insider", "misdirected_email"), ("insider", "verbal"),
    ("malware", "wrong_display"), ("unauthorized_access", "wrong_display"), ("misdirected_email", "misdelivery"),
)
COMPILED = tuple((kind, weight, gates.compile(pattern)) for kind, weight, pattern in CUES)

_MAIL = (r"メール|アドレス|返信|転送|添付|宛先|bcc|ml|メーリングリスト|差し込み|ショートメール|sms|line|チャット|e-?mail|mailed"
         r"|attach|repl(?:y|ied)|forward|newsletter|mailing list|mail merge|\bcc\b|outlook|inbox|thread|text messages?")
# Sending mail (not an e-mail address listed as data).
_SEND = (r"メール(?:を|で|に|が|の誤|送信|配信)|送信|返信|転送|添付|宛先|bcc|ml|メーリングリスト|差し込み|ショートメール|sms|一斉配信"
         r"|e-?mailed|e-?mail (?:to|with)|sent (?:the|a|an|it|them|our|my)|attach|repl(?:y|ied)|forward|newsletter|mailing list"
         r"|mail merge|\bcc\b|outlook|thread|text messages?")
_PAPER = (r"郵送|封筒|封入|同封|同梱|投函|ポスト|発送|宅配|配達|配送|置き配|伝票|納品書|送り状|手渡|お渡し|渡し|交付|窓口|受付で"
          r"|リュック|連絡帳|envelope|enclos|stuff|pouch|parcel|courier|deliver|by post|posted|counter|folio|handed|gave|given")
_SCREEN = (r"表示|見え|閲覧|画面|ページ|アプリ|サイト|マイページ|ログインしたら|開いたら|displayed|shown|visible|saw|see|screen"
           r"|page|app\b|portal|tab\b|dashboard|opened")
_OTHER = (r"別の|他の|違う|ちがう|他人|間違|まちが|誤|ずれ|隣|となり|前の(?:人|方|お客様)|じゃない|ではない|知らない|取り違|入れ違"
          r"|another|wrong|someone else|other (?:guest|customer|patient|family|student|user|member|learner|attendee)s?"
          r"|neighbou?r|previous (?:customer|person|guest)|instead of|each other|by mistake|accidentally|mistakenly")
# Two cues in one sentence: a channel and a mix-up. (kind, weight, channel, mix-up, not with)
PAIRS = (
    ("misdirected_email", 3, _SEND, _OTHER + r"|送ってしま|送信してしま|送ってま|送るつもり|返信してしま|転送してしま|選ばれ|選んでしま"
                                   r"|meant to|should have|visible|all (?:the )?recipients", _PAPER + r"|fax|ファックス"),
    ("misdelivery", 3, _PAPER, _OTHER + r"|まざ|混ざ|入って(?:い)?た|入れてしま|一緒に入", _MAIL + r"|fax|ファックス|表示|画面"),
    ("wrong_display", 3, _SCREEN, r"別の|他の|他人|知らない|誰でも|外部から|第三者|ほかの|前の|another|other (?:users?|customers?|members?"
                                  r"|patients?|learners?|attendees?|people)|anyone|someone else|each other", _MAIL + r"|封筒|郵送"),
    ("wrong_entry", 3, r"登録|入力|マスタ|コード|番号を|\bregistered|\btyped|\bentered|\brecords?\b|\bmaster\b|on file|\bcrm\b",
     r"間違|まちが|誤|違|別の|ずれ|コピペ|instead of|wrong|typo|mistake|another", r"fax|ファックス|表示|画面|添付|attach"),
    ("loss", 3, r"網棚|置いたまま|置いてき|忘れ|ない(?:こと)?に気づ|なくな|見つから|入って(?:い)?ませ|ありませんでした|gone|left (?:it|my|the)",
     r"電車|タクシー|バス|駅|店|公園|ベンチ|会議室|ホテル|新幹線|机|棚|キャビネット|バッグ|カバン|train|taxi|bus|station|cafe|hotel",
     r"割ら|壊|こじ開|盗|broken|forced|stolen|snatch"),
    ("theft", 4, r"鍵が(?:こわ|壊)|ドア(?:が|を)(?:こじ|壊)|切られ|持っていかれ|ひったく|forced|broken|smashed|searched|snatched"
     r"|grabbed|ransacked", r"なくな|ない|盗|gone|missing|stolen|taken|持っていかれ|現金|カバン|バッグ|laptop|bag", None),
    ("unauthorized_access", 3, r"ログイン|アクセス|エクスポート|ダウンロード|管理画面|アカウント|login|logged|access|export|download|account"
     r"|api|rdp|admin", r"見覚えのない|身に覚えのない|知らない|不審|海外|第三者|外部|unknown|unusual|suspicious|foreign|don'?t use"
     r"|not (?:ours|us)|outside", r"表示|画面に(?:別|他)"),
    ("unauthorized_access", 3, r"リンク|ページ|sms|url|link|page|site", r"(?:id|パスワード|カード)[^。\n]{0,20}入力|re-?confirm|enter(?:ed)? "
     r"(?:their|his|her|the)|偽|fake|pretending|装|altered|改ざん|outside server|外部(?:の)?サーバ", None),
    ("misuse", 3, r"営業|dm|ダイレクトメール|メルマガ|勧誘|誘|newsletter|marketing|sales|campaign|model|train|私用|個人的",
     r"使(?:い|っ|う)|利用|流用|転用|use|used|took", r"誤送信|間違|wrong"),
    ("verbal", 3, r"電話|窓口|受付|待合|口頭|大きな声|声で|同窓会|発言|話|phone|call|in person|said|told|aloud",
     r"伝え|教え|答え|話し|言って|言っ|呼|回答|disclos|told|gave|revealed|confirmed|said", r"メール|送信|fax|郵送|e-?mail"),
    ("insider", 3, r"撮影|写真|スマ(?:ート)?フォン|usb|私物|持ち出|照会|photos?|smartphone|usb|copied|copy",
     r"無断|許可なく|業務(?:と関係|外)|本人に確認|退職|his own|her own|without|personal|contractor|operator|staff", None),
)
COMPILED_PAIRS = tuple((kind, weight, gates.compile(a), gates.compile(b), gates.compile(c) if c else None)
                       for kind, weight, a, b, c in PAIRS)
SENTENCES = gates.compile(r"[^。!?\n]+(?:[。!?]|$)|[^.\n]+")
# A kind is named when its weight is at least this and leads the next by LEAD.
MIN_WEIGHT, LEAD = 3, 2


# Names of the cues (kind:weight, numbered when a kind has several of one weight): model features.
def _names(keys: list[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    names = []
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
        names.append(key if seen[key] == 1 else f"{key}.{seen[key]}")
    return tuple(names)


CUE_NAMES = _names([f"{kind}:{weight}" for kind, weight, _ in CUES])
PAIR_NAMES = _names([f"pair:{kind}" for kind, *_ in PAIRS])


class Kind(NamedTuple):
    """The kind read, its weight, the runner-up's weight, and the words that weighed most."""

    category: str | None
    weight: int
    runner_up: int
    words: str
    scores: dict
    denied: frozenset = frozenset()
    hits: tuple = ()  # the names of the cues that were found (CUE_NAMES, PAIR_NAMES)


class Cues(NamedTuple):
    weights: dict[str, int]
    words: dict[str, str]
    hits: list[str]


def _single_cues(text: str, found: Cues, denied: set | None) -> None:
    for (kind, weight, pattern), name in zip(COMPILED, CUE_NAMES):
        for match in pattern.finditer(text):
            if weight >= 3 and negated(text, match):
                if denied is not None:
                    denied.add(kind)
                continue
            found.weights[kind] = found.weights.get(kind, 0) + weight
            found.words.setdefault(kind, match.group(0))
            found.hits.append(name)
            break


def _pair_cues(text: str, found: Cues) -> None:
    """A channel and a mix-up in one sentence: the sentences with a mix-up word are found once, and
    the channel is looked for in those only."""
    spans = [m.span() for m in SENTENCES.finditer(text)]
    starts = [a for a, _ in spans]

    def sentences(pattern: re.Pattern) -> set[int]:
        found, pos = set(), 0
        while (match := pattern.search(text, pos)) is not None:
            index = bisect_right(starts, match.start()) - 1
            found.add(index)
            pos = max(spans[index][1], match.start() + 1)  # one mention says the sentence has it
        return found

    for (kind, weight, channel, mixup, unless), name in zip(COMPILED_PAIRS, PAIR_NAMES):
        if channel.search(text) is None:
            continue
        for index in sorted(sentences(mixup)):  # the mix-up words are the rarer: look for the channel there
            a, b = spans[index]
            if not channel.search(text, a, b) or unless and unless.search(text, a, b):
                continue
            found.weights[kind] = found.weights.get(kind, 0) + weight
            found.words.setdefault(kind, text[a:b].strip()[:40])
            found.hits.append(name)
            break


def cues(text: str, denied: set | None = None) -> Cues:
    """The weight of each kind in prepared text, the first words that gave it and the cues found;
    kinds whose naming words are all denied ("不正アクセスの形跡はありません") go into `denied`."""
    found = Cues({}, {}, [])
    _single_cues(text, found, denied)
    _pair_cues(text, found)
    for strong, weak in DOMINATES:
        if found.weights.get(strong, 0) >= MIN_WEIGHT and weak in found.weights:
            found.weights[weak] = min(found.weights[weak], 1)
    return found


def scores(text: str, denied: set | None = None) -> tuple[dict[str, int], dict[str, str]]:
    """The weight of each kind and the words that gave it (see `cues`)."""
    found = cues(text, denied)
    return found.weights, found.words


def read_kind(text: str) -> Kind:
    denied: set = set()
    weights, words, hits = cues(text, denied)
    denied = frozenset(k for k in denied if weights.get(k, 0) < MIN_WEIGHT)
    ranked = sorted(weights.items(), key=lambda item: -item[1])
    if not ranked:
        return Kind(None, 0, 0, "", weights, denied, tuple(hits))
    (best, weight), runner = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0)
    if weight < MIN_WEIGHT or weight - runner < LEAD:
        return Kind(None, weight, runner, words.get(best, ""), weights, denied, tuple(hits))
    return Kind(best, weight, runner, words[best], weights, denied, tuple(hits))

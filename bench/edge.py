"""Benchmark: hostile structure costs little (issue 9): a Subject of 60,000 encoded words, and
reports nested 1,000 deep (multipart and message/rfc822), through a real `leakline serve`.

Usage: python bench/edge.py [--words 60000] [--depth 1000]
For each: the hostile message is sent, then at once an ordinary report behind it; the figures
are the seconds from the hostile message's 250 until (a) its own case is assessed and (b) the
report behind it is a case. Targets: (b) within 15 s for the encoded words; (a) within 40 s
for the nesting.
"""

from __future__ import annotations

import argparse
import base64
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from acceptance import free_port, start, stop  # noqa: E402
from benchinfo import header  # noqa: E402

HEAD = ("From: taro@example.com\r\nTo: incident@example.com\r\nMIME-Version: 1.0\r\n"
        "Date: Thu, 26 Nov 2026 10:00:00 +0900\r\n")
TEXT = "顧客1,200名分の名簿を入れたUSBメモリを紛失しました。"


def words(n: int) -> bytes:
    subject = " ".join(["=?UTF-8?B?44GC?="] * n)
    return (HEAD + f"Subject: {subject}\r\nMessage-ID: <words@example.com>\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\n\r\n" + TEXT + "\r\n").encode()


def nested(depth: int, kind: str) -> bytes:
    leaf = b"Content-Type: text/plain; charset=UTF-8\r\n\r\n" + TEXT.encode() + b"\r\n"
    if kind == "multipart":
        body = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                        for i in range(depth)) + leaf + b"".join(
            b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    else:
        body = leaf
        for i in range(depth):
            body = b"Content-Type: message/rfc822\r\n\r\nFrom: x@example.net\r\nSubject: %d\r\n" % i + body
    subject = "=?UTF-8?B?" + base64.b64encode("名簿紛失".encode()).decode() + "?="
    return (HEAD + f"Subject: {subject}\r\nMessage-ID: <deep-{kind}@example.com>\r\n").encode() + body


def ordinary(tag: str) -> bytes:
    return (HEAD + f"Subject: behind {tag}\r\nMessage-ID: <behind-{tag}@example.com>\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\n\r\n" + TEXT + "\r\n").encode()


def cases(data: Path) -> dict[str, dict]:
    from leakline.store.cases import Store

    store = Store(data)
    found = {}
    for row in store.summaries("all"):
        case = store.get(row["id"])
        found[case["messages"][0].get("message_id")] = case
    return found


def measure(name: str, raw: bytes, port: int, data: Path) -> dict:
    behind = ordinary(name)
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
        client.sendmail("taro@example.com", ["incident@example.com"], raw)
        accepted = time.monotonic()
        client.sendmail("taro@example.com", ["incident@example.com"], behind)
    own_id = raw.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode()
    result = {"case": name, "bytes": len(raw)}
    while time.monotonic() - accepted < 300 and len(result) < 4:
        found = cases(data)
        now = time.monotonic() - accepted
        if "assessed_s" not in result and (found.get(own_id) or {}).get("assessment"):
            result["assessed_s"] = round(now, 2)
        if "behind_s" not in result and f"<behind-{name}@example.com>" in found:
            result["behind_s"] = round(now, 2)
        time.sleep(0.1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=60_000)
    parser.add_argument("--depth", type=int, default=1000)
    args = parser.parse_args()
    header()
    with tempfile.TemporaryDirectory(prefix="leakline-edge-") as tmp:
        work, port = Path(tmp), free_port()
        config = work / "leakline.toml"
        config.write_text(f'[service]\ndata_dir = "{work / "data"}"\nlisten = "127.0.0.1:{port}"\n')
        proc = start([sys.executable, "-m", "leakline", "--config", str(config), "serve"])
        try:
            for name, raw in ((f"{args.words}-encoded-words", words(args.words)),
                              (f"{args.depth}-deep-multipart", nested(args.depth, "multipart")),
                              (f"{args.depth}-deep-rfc822", nested(args.depth, "rfc822"))):
                print(measure(name, raw, port, work / "data"))
        finally:
            stop(proc)


if __name__ == "__main__":
    main()

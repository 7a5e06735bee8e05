"""A light asyncio SMTP load generator: M sessions, each sending its share of N messages."""

from __future__ import annotations

import asyncio
import time


async def _expect(reader: asyncio.StreamReader, code: bytes) -> bytes:
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("server closed the connection")
        if line[3:4] != b"-":
            if not line.startswith(code):
                raise RuntimeError(f"expected {code!r}, got {line!r}")
            return line


def envelope_of(mail: bytes | tuple[str, bytes]) -> tuple[str, bytes]:
    """A mail is raw bytes (envelope sender bench@example.com) or (envelope sender, raw bytes)."""
    return mail if isinstance(mail, tuple) else ("bench@example.com", mail)


async def session(host: str, port: int, messages: list, latencies: list[float],
                  sent_at: dict | None = None) -> int:
    """Send `messages` [(index, mail), ...] in one SMTP session; `sent_at[index]` gets the
    wall-clock time (time.time()) at which that message's MAIL FROM was written."""
    reader, writer = await asyncio.open_connection(host, port)
    await _expect(reader, b"220")
    writer.write(b"EHLO bench.localhost\r\n")
    await _expect(reader, b"250")
    sent = 0
    for index, mail in messages:
        mail_from, raw = envelope_of(mail)
        started = time.perf_counter()
        if sent_at is not None:
            sent_at[index] = time.time()
        writer.write(b"MAIL FROM:<%s>\r\n" % mail_from.encode())
        await _expect(reader, b"250")
        writer.write(b"RCPT TO:<incident@example.com>\r\n")
        await _expect(reader, b"250")
        writer.write(b"DATA\r\n")
        await _expect(reader, b"354")
        writer.write(raw.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
        await _expect(reader, b"250")
        latencies.append(time.perf_counter() - started)
        sent += 1
    writer.write(b"QUIT\r\n")
    await writer.drain()
    writer.close()
    return sent


async def load(host: str, port: int, mails: list, sessions: int,
               sent_at: dict | None = None) -> dict:
    """Send every mail over `sessions` concurrent sessions; per-message SMTP latency (MAIL FROM
    to the 250 after DATA) and messages/s. `sent_at`, when given, collects send times by index."""
    latencies: list[float] = []
    indexed = list(enumerate(mails))
    shares = [indexed[i::sessions] for i in range(sessions)]
    started = time.perf_counter()
    counts = await asyncio.gather(*(session(host, port, share, latencies, sent_at)
                                    for share in shares))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "messages": sum(counts), "seconds": round(elapsed, 3),
        "per_second": round(sum(counts) / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
    }


def make_mail(i: int, size: int = 2048, tag: str = "bench", sender: str | None = None) -> bytes:
    """A 2 KB Japanese report; From staff{i % 50}@example.com unless `sender` is given."""
    head = (f"From: {sender or f'staff{i % 50}@example.com'}\r\nTo: incident@example.com\r\n"
            f"Subject: =?UTF-8?B?6Kqk6YCB5L+h?= {tag} {i}\r\nMessage-ID: <{tag}-{i}-{time.time_ns()}@example.com>\r\n"
            "Date: Thu, 26 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode()
    line = "本日、顧客名簿を誤送信しました。約120名分の氏名と住所が含まれます。\r\n".encode()
    body = (line * (size // len(line) + 1))[: max(0, size - len(head))]
    return head + body.rsplit(b"\r\n", 1)[0] + b"\r\n"

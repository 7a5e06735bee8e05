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


async def session(host: str, port: int, messages: list[bytes], latencies: list[float]) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    await _expect(reader, b"220")
    writer.write(b"EHLO bench.localhost\r\n")
    await _expect(reader, b"250")
    sent = 0
    for raw in messages:
        started = time.perf_counter()
        writer.write(b"MAIL FROM:<bench@example.com>\r\n")
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


async def load(host: str, port: int, mails: list[bytes], sessions: int) -> dict:
    latencies: list[float] = []
    shares = [mails[i::sessions] for i in range(sessions)]
    started = time.perf_counter()
    counts = await asyncio.gather(*(session(host, port, share, latencies) for share in shares))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "messages": sum(counts), "seconds": round(elapsed, 3),
        "per_second": round(sum(counts) / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
    }


def make_mail(i: int, size: int = 2048, tag: str = "bench") -> bytes:
    head = (f"From: staff{i % 50}@example.com\r\nTo: incident@example.com\r\n"
            f"Subject: =?UTF-8?B?6Kqk6YCB5L+h?= {tag} {i}\r\nMessage-ID: <{tag}-{i}-{time.time_ns()}@example.com>\r\n"
            "Date: Thu, 26 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode()
    line = "本日、顧客名簿を誤送信しました。約120名分の氏名と住所が含まれます。\r\n".encode()
    body = (line * (size // len(line) + 1))[: max(0, size - len(head))]
    return head + body.rsplit(b"\r\n", 1)[0] + b"\r\n"

"""A raw-socket SMTP client for tests: sends exactly the bytes given, where smtplib would clean them."""

from __future__ import annotations

import socket


class RawSMTP:
    def __init__(self, host: str, port: int, timeout: float = 20.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._buffer = b""
        self.greeting = self.reply()

    def __enter__(self) -> "RawSMTP":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed by the server; pending {self._buffer!r}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def reply(self) -> tuple[int, bytes]:
        """One reply, multi-line replies joined: (code, text)."""
        lines = []
        while True:
            line = self._line()
            lines.append(line[4:])
            if line[3:4] != b"-":
                return int(line[:3]), b"\n".join(lines)

    def command(self, line: bytes) -> tuple[int, bytes]:
        self.send(line + b"\r\n")
        return self.reply()

    def closed_by_server(self) -> bool:
        """True once the server has closed the connection (reads up to end of stream)."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self._buffer += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def mail(self, raw: bytes, sender: bytes = b"<taro@example.com>",
             helo: bytes = b"client.example.com",
             rcpt: bytes = b"<incident@example.com>") -> tuple[int, bytes]:
        """A whole transaction; returns the reply to the end of DATA."""
        code, _ = self.command(b"EHLO " + helo)
        assert code == 250, code
        code, text = self.command(b"MAIL FROM:" + sender)
        assert code == 250, (code, text)
        code, text = self.command(b"RCPT TO:" + rcpt)
        assert code == 250, (code, text)
        code, text = self.command(b"DATA")
        assert code == 354, (code, text)
        body = raw.replace(b"\r\n.", b"\r\n..")
        if body.startswith(b"."):
            body = b"." + body
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.send(body + b".\r\n")
        return self.reply()

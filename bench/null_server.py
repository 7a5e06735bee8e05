"""The yardstick: an aiosmtpd server whose handler keeps nothing (bench only)."""

import asyncio
import sys

from aiosmtpd.smtp import SMTP


class KeepNothing:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok: dropped"


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(KeepNothing(), enable_SMTPUTF8=True),
                                      "127.0.0.1", port)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    asyncio.run(main(int(sys.argv[1])))

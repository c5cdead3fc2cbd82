#!/usr/bin/env python3
"""A fast SMTP sink for scripts/bench-newsletter, on 127.0.0.1 only.

It speaks just enough SMTP (EHLO with PIPELINING, MAIL, RCPT, DATA, RSET, NOOP, QUIT),
accepts every message, parses nothing, and counts messages. The port it listens on is
printed on stdout; the count is written to the file given as the only argument every
half second, so the benchmark measures Masthead, not a mail server's parsing.
"""
import asyncio
import sys

count = 0


async def session(reader, writer):
    global count
    writer.write(b"220 bench-sink ESMTP\r\n")
    while True:
        line = await reader.readline()
        if not line:
            break
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            writer.write(b"250-bench-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
        elif verb == b"DATA":
            writer.write(b"354 go ahead\r\n")
            await writer.drain()
            await reader.readuntil(b"\r\n.\r\n")
            count += 1
            writer.write(b"250 2.0.0 queued as %d\r\n" % count)
        elif verb == b"QUIT":
            writer.write(b"221 bye\r\n")
            await writer.drain()
            break
        else:
            writer.write(b"250 OK\r\n")
        await writer.drain()
    writer.close()


async def report(path):
    while True:
        with open(path, "w") as f:
            f.write(str(count))
        await asyncio.sleep(0.5)


async def main():
    server = await asyncio.start_server(session, "127.0.0.1", 0, limit=1 << 22)
    print(server.sockets[0].getsockname()[1], flush=True)
    asyncio.ensure_future(report(sys.argv[1]))
    async with server:
        await server.serve_forever()


asyncio.run(main())

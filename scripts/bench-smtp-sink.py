#!/usr/bin/env python3
"""A fast SMTP sink for scripts/bench-newsletter, on 127.0.0.1 only.

It speaks just enough SMTP (EHLO with PIPELINING, MAIL, RCPT, DATA, RSET, NOOP, QUIT),
accepts every message, parses nothing, and counts messages. The port it listens on is
printed on stdout; the count is written to the file given as the only argument every
half second, so the benchmark measures Masthead, not a mail server's parsing.

It is an asyncio Protocol that looks for the end of a message only in the bytes that have
just arrived (and the four before them): a StreamReader searching its whole buffer took a
quarter of the benchmark machine's two cores at 1,800 messages a second.
"""
import asyncio
import sys

count = 0
END = b"\r\n.\r\n"


class Session(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.pending = b""
        self.in_data = False
        self.tail = b""
        transport.write(b"220 bench-sink ESMTP\r\n")

    def data_received(self, data):
        global count
        replies = []
        while data:
            if self.in_data:
                window = self.tail + data
                end = window.find(END)
                if end < 0:
                    self.tail = window[-4:]
                    break
                count += 1
                replies.append(b"250 2.0.0 queued as %d\r\n" % count)
                self.in_data = False
                data = window[end + len(END):]
                self.tail = b""
                continue
            self.pending += data
            data = b""
            while not self.in_data:
                newline = self.pending.find(b"\n")
                if newline < 0:
                    break
                line, self.pending = self.pending[:newline + 1], self.pending[newline + 1:]
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    replies.append(b"250-bench-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
                elif verb == b"DATA":
                    replies.append(b"354 go ahead\r\n")
                    self.in_data = True
                    # A message's first line can itself be the end (an empty message).
                    self.tail = b"\r\n"
                    data, self.pending = self.pending, b""
                elif verb == b"QUIT":
                    replies.append(b"221 bye\r\n")
                    self.transport.write(b"".join(replies))
                    self.transport.close()
                    return
                else:
                    replies.append(b"250 OK\r\n")
        if replies:
            self.transport.write(b"".join(replies))


async def report(path):
    while True:
        with open(path, "w") as f:
            f.write(str(count))
        await asyncio.sleep(0.5)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Session, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    asyncio.ensure_future(report(sys.argv[1]))
    async with server:
        await server.serve_forever()


asyncio.run(main())

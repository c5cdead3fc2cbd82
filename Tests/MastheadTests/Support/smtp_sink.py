#!/usr/bin/env python3
"""A real SMTP server for the test suite (aiosmtpd on 127.0.0.1).

Every accepted message is parsed with Python's email package, which is strict about
MIME structure and decodes RFC 2047 headers, and written as one JSON file per message
into the folder given as the only argument. The chosen port is printed on stdout.

Recipients starting with `reject-` get a permanent 550, `tempfail-` a transient 451,
so that tests can see how Masthead treats a server's refusals. A message to `vanish-` is
kept, and then the connection dropped without an answer, as a server that crashed just
after storing it would do.

Options: `--starttls CERT KEY` offers and requires STARTTLS with that certificate;
`--auth USER:PASSWORD` requires AUTH (PLAIN or LOGIN) with those credentials.
"""
import argparse
import ssl
import email
import email.policy
import json
import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject-"):
            return "550 5.1.1 No such user here"
        if address.startswith("tempfail-"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_type()] = part.get_content()
        with self.lock:
            self.count += 1
            number = self.count
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": {key.lower(): str(value) for key, value in message.items()},
            "content_type": message.get_content_type(),
            "defects": [str(d) for d in message.defects],
            "text": parts.get("text/plain"),
            "html": parts.get("text/html"),
            "raw": envelope.original_content.decode("utf-8", "replace"),
        }
        path = os.path.join(self.folder, f"{number:06d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(path + ".tmp", path)
        if any(address.startswith("vanish-") for address in envelope.rcpt_tos):
            # abort(), not close(): nothing more is written, not even the answer returned below.
            server.transport.abort()
        return f"250 2.0.0 OK queued as {number}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def authenticator_for(credentials):
    user, password = credentials.split(":", 1)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok)

    return authenticate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth")
    args = parser.parse_args()
    folder = args.folder
    os.makedirs(folder, exist_ok=True)
    port = free_port()
    options = {}
    if args.starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*args.starttls)
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        options.update(authenticator=authenticator_for(args.auth), auth_required=True,
                       auth_require_tls=bool(args.starttls))
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print(port, flush=True)
    # Serve until the test suite closes our stdin (or ends the process).
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()

"""A Web Push service for tests, on 127.0.0.1: an independent check of Masthead's messages.

It hands out subscriptions as a browser's push service would (GET /subscribe?status=201 gives
the endpoint and the keys a browser would get), and for every message POSTed to an endpoint it
checks the VAPID authorization with py_vapid (RFC 8292) and decrypts the body with http_ece
(RFC 8291, aes128gcm) using the subscription's private key. Each message is written to the
folder as JSON: its headers, its decrypted payload, the token's claims, or what was wrong.
The endpoint then answers with the status chosen for it (410 for a browser that left, say).
Stops when its standard input closes. Prints its port on the first line.
"""
import base64
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from py_vapid import jwt as vapid_jwt

folder = sys.argv[1]
os.makedirs(folder, exist_ok=True)
subscriptions = {}
lock = threading.Lock()
counter = [0]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/subscribe":
            self.send_error(404)
            return
        status = int(parse_qs(url.query).get("status", ["201"])[0])
        key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        ident = uuid.uuid4().hex
        with lock:
            subscriptions[ident] = (key, auth, status)
        public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        body = json.dumps({
            "endpoint": "http://127.0.0.1:%d/send/%s" % (self.server.server_address[1], ident),
            "keys": {"p256dh": b64url(public), "auth": b64url(auth)},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        ident = self.path.rsplit("/", 1)[-1]
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with lock:
            found = subscriptions.get(ident)
            counter[0] += 1
            number = counter[0]
        record = {"subscription": ident, "headers": {k.lower(): v for k, v in self.headers.items()}, "bytes": len(body)}
        status = 404
        if found:
            key, auth, status = found
            try:
                authorization = self.headers.get("Authorization", "")
                if not Vapid02.verify(authorization):
                    raise ValueError("the VAPID signature does not verify")
                parts = dict(part.split("=", 1) for part in authorization.split(" ", 1)[1].split(","))
                claims = vapid_jwt.decode(parts["t"], parts["k"])
                audience = "http://127.0.0.1:%d" % self.server.server_address[1]
                if claims.get("aud") != audience:
                    raise ValueError("the token's audience is %r, not %r" % (claims.get("aud"), audience))
                if not (time.time() < claims.get("exp", 0) <= time.time() + 86400):
                    raise ValueError("the token expires at %r, not within 24 hours" % claims.get("exp"))
                if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
                    raise ValueError("the token's subject %r is no contact" % claims.get("sub"))
                if self.headers.get("Content-Encoding") != "aes128gcm":
                    raise ValueError("Content-Encoding is %r" % self.headers.get("Content-Encoding"))
                record["claims"] = claims
                record["payload"] = http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm").decode("utf-8")
            except Exception as error:  # the test reads what went wrong
                record["error"] = "%s: %s" % (type(error).__name__, error)
                status = 400
        with open(os.path.join(folder, "%06d.json" % number), "w") as out:
            json.dump(record, out)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_address[1], flush=True)
sys.stdin.read()
server.shutdown()

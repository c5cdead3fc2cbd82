#!/usr/bin/env python3
"""Signs a paying member in to a running `masthead demo`, for scripts/bench.

Usage: scripts/bench-member.py BASE_URL DATA_DIR

Signs in as a new reader the way a browser does (the sign-in form, the link
from the development mail the demo writes to DATA_DIR/mail, the confirmation
form), marks the member as paid for a year in the demo's SQLite database
(there is no payment in the demo to do it), and prints two lines: the session
cookie, and the path of a published English paid article.
"""
import base64
import email
import glob
import html
import http.cookiejar
import os
import re
import sqlite3
import sys
import time
import urllib.parse
import urllib.request


def main():
    base, data = sys.argv[1].rstrip("/"), sys.argv[2]
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    address = f"bench-{int(time.time())}@example.com"

    def post(path, fields):
        body = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(base + path, data=body, headers={"Origin": base})
        return opener.open(request).read().decode()

    def hidden(page, name):
        match = re.search(r'name="%s" value="([^"]*)"' % name, page)
        if not match:
            sys.exit(f"bench-member: no {name} field on the page")
        return html.unescape(match.group(1))

    form = opener.open(base + "/signin").read().decode()
    before = set(glob.glob(os.path.join(data, "mail", "*.eml")))
    post("/signin", {"email": address, "csrf": hidden(form, "csrf"), "return": "/"})
    link = None
    for _ in range(50):
        for path in set(glob.glob(os.path.join(data, "mail", "*.eml"))) - before:
            message = email.message_from_binary_file(open(path, "rb"))
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    text = part.get_payload(decode=True).decode()
                    found = re.search(r"https?://\S*/signin/verify\?token=\S+", text)
                    link = found and found.group(0)
        if link:
            break
        time.sleep(0.1)
    if not link:
        sys.exit("bench-member: no sign-in mail arrived")
    confirm = opener.open(base + urllib.parse.urlsplit(link).path + "?" + urllib.parse.urlsplit(link).query).read().decode()
    post("/signin/verify", {"csrf": hidden(confirm, "csrf"), "token": hidden(confirm, "token")})
    session = next((c.value for c in jar if c.name == "mh_session"), None)
    if not session:
        sys.exit("bench-member: signing in set no session cookie")

    database = sqlite3.connect(os.path.join(data, "masthead.sqlite"))
    with database:
        changed = database.execute(
            "UPDATE members SET paid_until = ? WHERE email = ?", (time.time() + 365 * 86400, address)
        ).rowcount
    if changed != 1:
        sys.exit("bench-member: the new member is not in the database")
    slug = database.execute(
        "SELECT slug FROM articles WHERE visibility = 'paid' AND status = 'published' AND edition = 'en' "
        "ORDER BY published_at DESC LIMIT 1"
    ).fetchone()
    if not slug:
        sys.exit("bench-member: the demo has no paid English article")
    print(f"mh_session={session}")
    print(f"/articles/{slug[0]}")


if __name__ == "__main__":
    main()

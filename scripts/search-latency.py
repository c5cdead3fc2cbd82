#!/usr/bin/env python3
"""Times the search page, one request after another over one kept-alive connection, for each
kind of query, and prints one JSON object per kind with p50, p95 and p99 in milliseconds.

Usage: search-latency.py BASE_URL [ROUNDS]   (BASE_URL like http://127.0.0.1:8191; 127.0.0.1 only)
"""
import http.client
import json
import sys
import time
import urllib.parse

QUERIES = {
    "single word": [
        ("", "water"), ("", "iraq"), ("", "electricity"), ("", "border"), ("", "elections"),
        ("/ar", "المياه"), ("/ar", "العراق"), ("/fa", "ایران"), ("/fa", "کشاورزی"), ("/tr", "Irak"), ("/tr", "DİYARBAKIR"),
    ],
    "several words": [
        ("", "iraq water emergency"), ("", "border clash guards"), ("", "gas exports winter"), ("", "Tigris releases Ankara"),
        ("/ar", "المياه في العراق"), ("/fa", "برق تهران"), ("/tr", "Irak su anlaşması"),
    ],
    "phrase": [
        ("", '"water emergency"'), ("", '"border crossing"'), ("", '"local elections"'),
        ("/ar", '"الحشد الشعبي"'), ("/tr", '"Haşdi Şabi"'),
    ],
    "prefix (typing)": [
        ("", "wat"), ("", "elect"), ("", "bord"), ("", "iraq wa"), ("/ar", "العر"), ("/fa", "ایر"), ("/tr", "Diy"),
    ],
    "filtered": [
        ("", "water&kind=analysis"), ("", "iraq&topic=water"), ("", "border&from=2019-01-01&to=2021-12-31"),
        ("", "gas&author=james-ardley&kind=news"), ("/ar", "المياه&kind=report"),
    ],
    "name (alias, typo)": [
        ("", "Suleimani"), ("", "سليماني"), ("", "Soleimany"), ("", "Hashd"), ("/tr", "Süleymani"),
    ],
}


def path(prefix, query):
    words, _, filters = query.partition("&")
    return f"{prefix}/search?q={urllib.parse.quote(words)}" + (f"&{filters}" if filters else "")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    base = urllib.parse.urlparse(sys.argv[1])
    if base.hostname != "127.0.0.1":
        sys.exit("search-latency: only 127.0.0.1 is measured")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)

    def get(target):
        started = time.perf_counter()
        connection.request("GET", target)
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            sys.exit(f"search-latency: {target} answered {response.status}: {body[:200]!r}")
        return elapsed, body

    for queries in QUERIES.values():
        for prefix, query in queries:
            get(path(prefix, query))
    for kind, queries in QUERIES.items():
        timings, results = [], 0
        for _ in range(rounds):
            for prefix, query in queries:
                elapsed, body = get(path(prefix, query))
                timings.append(elapsed)
                results += body.count(b'class="search-result"')
        print(json.dumps({
            "kind": kind, "requests": len(timings), "results_per_page": round(results / len(timings), 1),
            "p50": round(percentile(timings, 0.50), 2), "p95": round(percentile(timings, 0.95), 2), "p99": round(percentile(timings, 0.99), 2),
        }, ensure_ascii=False))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Sequential requests against one endpoint; prints p50/p95/max in milliseconds.
Usage: latency.py BASE_URL COOKIE PATH [N] [JSON_BODY]
With JSON_BODY each request is a POST of it (same-origin, as the dashboard sends)."""
import http.client
import sys
import time
import urllib.parse

base, cookie, path = sys.argv[1], sys.argv[2], sys.argv[3]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 100
body = sys.argv[5].encode() if len(sys.argv) > 5 else None
u = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
times = []
for i in range(n + 3):
    t = time.perf_counter()
    if body is None:
        conn.request("GET", path, headers={"Cookie": cookie})
    else:
        headers = {"Cookie": cookie, "Content-Type": "application/json", "Origin": base}
        conn.request("POST", path, body=body, headers=headers)
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"{path}: HTTP {r.status}")
    if i >= 3:  # the first requests warm caches
        times.append((time.perf_counter() - t) * 1000)
times.sort()
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{pick(0.5):.1f} | {pick(0.95):.1f} | {times[-1]:.1f}")

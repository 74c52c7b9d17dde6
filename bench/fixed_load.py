# POSTs N collector requests of B messages each, one after another, in the shape
# bench/collect.lua sends (fixed seed, so two binaries get the same people and
# sessions). Usage: fixed_load.py BASE_URL WRITE_KEY N B
import json, random, sys, urllib.request, uuid
base, key, n, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
random.seed(7); c = 0
for _ in range(n):
    msgs = []
    for i in range(1, b + 1):
        c += 1; v = random.randint(1, 5000)
        m = {"type": "pageview", "id": str(uuid.uuid4()), "anonymous_id": f"v{v}", "session_id": f"s{v}",
             "url": f"https://shop.example/p/{c % 50}", "title": "Page"}
        if i % 5 == 0: m.update(type="event", name="signup_click", props={"plan": "pro"})
        msgs.append(m)
    req = urllib.request.Request(f"{base}/api/v1/collect", data=json.dumps({"key": key, "batch": msgs}).encode(),
        headers={"content-type": "text/plain", "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"})
    urllib.request.urlopen(req).read()

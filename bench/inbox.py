#!/usr/bin/env python3
"""The inbox bench's steps (run by bench/inbox.sh).
  inbox.py setup BASE            -> prints PROJECT=… TEAM=… AGENT=… (shell lines)
  inbox.py measure BASE PROJECT  -> a markdown table of list/thread latencies
  inbox.py statuses PROJECT CONV MSG N SECRET OUT -> N signed WhatsApp status
      callbacks for outbound WhatsApp messages, one per line: signature<TAB>body
Sign-in: VIBE_ADMIN_EMAIL/VIBE_ADMIN_PASSWORD; the agent is agent@example.com."""
import hashlib
import hmac
import http.client
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse

PASSWORD = os.environ.get("VIBE_ADMIN_PASSWORD", "bench-password")


class Client:
    def __init__(self, base):
        self.base = base
        u = urllib.parse.urlparse(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        self.cookie = ""

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        headers = {"Cookie": self.cookie, "Origin": self.base}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        if r.status not in ok:
            sys.exit(f"{method} {path}: HTTP {r.status} {raw[:300]!r}")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                self.cookie = v.split(";")[0]
        return json.loads(raw) if raw else None

    def login(self, email):
        self.call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
        return self


def setup(base):
    owner = Client(base).login(os.environ["VIBE_ADMIN_EMAIL"])
    projects = owner.call("GET", "/api/v1/projects")["projects"]
    project = projects[0]["id"] if projects else owner.call(
        "POST", "/api/v1/projects", {"name": "Inbox bench"})["id"]
    agent = Client(base).login("agent@example.com")
    agent_id = agent.call("GET", "/api/v1/auth/me")["account"]["id"]
    p = f"/api/v1/projects/{project}"
    team = owner.call("POST", f"{p}/teams", {"name": "Support"})["id"]
    owner.call("PUT", f"{p}/teams/{team}/members/{agent_id}")
    owner.call("PUT", f"{p}/channels/whatsapp", {
        "enabled": True, "phone_number_id": "106540352242922",
        "access_token": "bench-token", "app_secret": "bench-app-secret",
        "verify_token": "bench-verify"})
    print(f"PROJECT={project} TEAM={team} AGENT={agent_id}")


def latency(client, path, n=100):
    times = []
    for i in range(n + 3):
        t = time.perf_counter()
        client.call("GET", path, ok=(200,))
        if i >= 3:  # the first requests warm caches
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    return f"{pick(0.5):.1f} | {pick(0.95):.1f} | {times[-1]:.1f}"


def measure(base, project):
    owner = Client(base).login(os.environ["VIBE_ADMIN_EMAIL"])
    agent = Client(base).login("agent@example.com")
    p = f"/api/v1/projects/{project}"
    page = owner.call("GET", f"{p}/conversations?limit=25")
    cursor = page["next_cursor"]
    busy = page["conversations"][0]["id"]
    print("| request | who | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    rows = [
        (owner, "owner", "/conversations?limit=25"),
        (owner, "owner", f"/conversations?limit=25&cursor={urllib.parse.quote(cursor)}"),
        (owner, "owner", "/conversations?status=open&limit=25"),
        (owner, "owner", "/conversations?channel=whatsapp&priority=urgent&limit=25"),
        (owner, "owner", "/conversations?assignee=none&limit=25"),
        (agent, "agent", "/conversations?limit=25"),
        (agent, "agent", "/conversations?status=open&limit=25"),
        (owner, "owner", f"/conversations/{busy}"),
        (owner, "owner", f"/conversations/{busy}/messages?limit=50"),
        (owner, "owner", "/conversations/c5/messages?limit=50"),
        (agent, "agent", "/conversations/c0/messages?limit=50"),
        (owner, "owner", "/conversations?q=contact%2012345&limit=25", 10),
    ]
    for client, who, path, *n in rows:
        print(f"| `{path}` | {who} | {latency(client, p + path, *n)} |")


def statuses(project, conv, msg, n, secret, out):
    conv, msg, n = int(conv), int(msg), int(n)
    # Outbound WhatsApp messages: odd rounds (i // conv) of conversations i % conv ≡ 0 (mod 3).
    rounds = [r for r in range(msg // conv) if r % 2 == 1]
    now = int(time.time())
    with open(out, "w") as f:
        for k in range(n):
            c = random.randrange(0, conv // 3) * 3
            i = random.choice(rounds) * conv + c
            status = random.choice(["delivered", "read"])
            body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
                "field": "messages", "value": {"messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                    "statuses": [{"id": f"wamid.{i}", "status": status, "timestamp": str(now + k),
                                  "recipient_id": f"1555{1000000 + c % (conv // 2)}"}]}}]}]},
                separators=(",", ":"))
            sig = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
            f.write(f"sha256={sig}\t{body}\n")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"setup": setup, "measure": measure, "statuses": statuses}[cmd](*args)

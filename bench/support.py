#!/usr/bin/env python3
"""The support analytics bench's steps (run by bench/support.sh, issue 13).
  support.py setup BASE AGENTS PRELUDE -> prints PROJECT=… INBOX_*=… (shell
      lines): five teams with the AGENTS accounts agent{k}@example.com in
      them (agent k in team k % 5), a WhatsApp, an in-app and an email inbox,
      the WhatsApp channel and an SLA policy per priority; writes PRELUDE, the
      SQL making `bench_agents (k, account_id, team_id)` for support_data.sql
  support.py measure BASE PROJECT [N] -> a markdown table of p50/p95/max over
      N (100) sequential requests per endpoint and range, after 3 warm-up ones
Sign-in: VIBE_ADMIN_EMAIL/VIBE_ADMIN_PASSWORD (the owner); agent0@example.com."""
import http.client
import json
import os
import sys
import time
import urllib.parse

PASSWORD = os.environ.get("VIBE_ADMIN_PASSWORD", "bench-password")
SECTIONS = ["kpi", "conversation-effectiveness", "whatsapp-performance", "customer-load",
            "agent-productivity", "automation-impact", "business-impact"]
# SLA targets per priority (seconds): the ones support_data.sql judges against.
SLA = {"urgent": (300, 14400), "high": (900, 28800), "medium": (1800, 86400), "low": (3600, 172800)}


class Client:
    def __init__(self, base):
        self.base = base
        u = urllib.parse.urlparse(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
        self.cookie = ""

    def request(self, method, path, body=None):
        headers = {"Cookie": self.cookie, "Origin": self.base}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                self.cookie = v.split(";")[0]
        return r.status, raw

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        status, raw = self.request(method, path, body)
        if status not in ok:
            sys.exit(f"{method} {path}: HTTP {status} {raw[:300]!r}")
        return json.loads(raw) if raw else None

    def login(self, email):
        self.call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
        return self


def setup(base, agents, prelude):
    agents = int(agents)
    owner = Client(base).login(os.environ["VIBE_ADMIN_EMAIL"])
    project = owner.call("GET", "/api/v1/projects")["projects"][0]["id"]
    p = f"/api/v1/projects/{project}"
    ids = {m["email"]: m["account_id"] for m in owner.call("GET", f"{p}/members")["members"]}
    teams = [owner.call("POST", f"{p}/teams", {"name": f"Team {t + 1}"})["id"] for t in range(5)]
    rows = []
    for k in range(agents):
        account = ids.get(f"agent{k}@example.com")
        if account is None:
            sys.exit(f"agent{k}@example.com is not a member of {project}")
        team = teams[k % 5]
        owner.call("PUT", f"{p}/teams/{team}/members/{account}")
        rows.append(f"({k}, '{account}', '{team}')")
    inboxes = {ch: owner.call("POST", f"{p}/inboxes", {"name": name, "channel": ch})["id"]
               for ch, name in [("whatsapp", "WhatsApp"), ("in_app", "Chat"), ("email", "Email")]}
    owner.call("PUT", f"{p}/channels/whatsapp", {
        "enabled": True, "phone_number_id": "106540352242922",
        "access_token": "bench-token", "app_secret": "bench-app-secret",
        "verify_token": "bench-verify"})
    for prio, (first, resolution) in SLA.items():
        owner.call("PUT", f"{p}/sla-policies/{prio}",
                   {"first_response_target_s": first, "resolution_target_s": resolution})
    with open(prelude, "w") as f:
        f.write("CREATE TABLE bench_agents (k INTEGER NOT NULL, account_id TEXT NOT NULL, team_id TEXT NOT NULL);\n")
        f.write("INSERT INTO bench_agents (k, account_id, team_id) VALUES\n  " + ",\n  ".join(rows) + ";\n")
    print(f"PROJECT={project} INBOX_WA={inboxes['whatsapp']} INBOX_APP={inboxes['in_app']} "
          f"INBOX_EMAIL={inboxes['email']}")


def latency(client, path, n):
    times, status = [], None
    for i in range(n + 3):
        t = time.perf_counter()
        status, _ = client.request("GET", path)
        if status != 200:
            return f"HTTP {status} | – | –"
        if i >= 3:  # the first requests warm caches
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    return f"{pick(0.5):.1f} | {pick(0.95):.1f} | {times[-1]:.1f}"


def measure(base, project, n="100"):
    n = int(n)
    owner = Client(base).login(os.environ["VIBE_ADMIN_EMAIL"])
    agent = Client(base).login("agent0@example.com")
    p = f"/api/v1/projects/{project}/support"
    print("| request | who | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    rows = [(owner, "owner", f"/{s}?date_range={r}") for s in SECTIONS for r in ("today", "week", "month")]
    # An agent's own figures (business-impact is supervisor+: 403 for them).
    rows += [(agent, "agent", f"/{s}?date_range=month") for s in SECTIONS if s != "business-impact"]
    rows += [(owner, "owner", "/agent-activity?date_range=week")]
    for client, who, path in rows:
        print(f"| `{path}` | {who} | {latency(client, p + path, n)} |", flush=True)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"setup": setup, "measure": measure}[cmd](*args)

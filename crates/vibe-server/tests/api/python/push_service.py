"""A push service for the web push round trip (tests/api/push.rs), checking
what a real one checks and decrypting like a browser, with third-party code:
`cryptography` for the keys and the VAPID signature, `http_ece` for the
RFC 8291/8188 payload.

Usage: push_service.py. Listens on 127.0.0.1 on a free port, prints the
port on the first line of stdout, and serves until killed.

- POST /subscriptions {"application_server_key", "status"?}: acts as the
  browser subscribing with that VAPID public key: makes a P-256 key pair and
  a 16-byte auth secret and answers the PushSubscription JSON
  {endpoint, keys: {p256dh, auth}}. `status` (default 201) is what pushes to
  it are answered (410 to act as an unsubscribed browser; a 3xx redirects
  back to the same endpoint, so a client that follows it pushes twice).
- POST /push/<id>: a push. Checked: `Authorization: vapid t=<JWT>, k=<key>`
  with k the subscription's application server key, the JWT's ES256
  signature under k, `aud` this service's origin, `exp` in the future and at
  most 24 h ahead, `sub` a mailto: or https: URI; `Content-Encoding:
  aes128gcm`, a `TTL`. The body is decrypted with the subscription's private
  key and auth secret. Each push is recorded (the plaintext, or the error);
  a failed check is answered 400 with the reason.
- GET /received/<id>: the pushes recorded for a subscription, in order:
  [{"ok", "error"?, "plaintext"?, "claims"?, "ttl"?, "urgency"?}].
"""

import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

LOCK = threading.Lock()
SUBS = {}  # id -> {"private", "auth", "server_key", "status"}
RECEIVED = {}  # id -> [record]


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def check_vapid(header, server_key, origin):
    if not header.startswith("vapid "):
        raise ValueError("Authorization is not `vapid t=…, k=…`: %r" % header)
    params = {}
    for part in header[len("vapid "):].split(","):
        k, _, v = part.strip().partition("=")
        params[k] = v
    token, key = params.get("t"), params.get("k")
    if not token or not key:
        raise ValueError("Authorization lacks t= or k=")
    if key != server_key:
        raise ValueError("k= is not the key the subscription was made with")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
    head, claims, sig = token.split(".")
    header_json = json.loads(b64d(head))
    if header_json.get("alg") != "ES256":
        raise ValueError("JWT alg is not ES256: %r" % header_json)
    raw = b64d(sig)
    if len(raw) != 64:
        raise ValueError("ES256 signature is not 64 bytes")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, ("%s.%s" % (head, claims)).encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("the JWT signature does not verify under k=")
    c = json.loads(b64d(claims))
    if c.get("aud") != origin:
        raise ValueError("aud %r is not %r" % (c.get("aud"), origin))
    now = time.time()
    if not (now < c.get("exp", 0) <= now + 24 * 3600):
        raise ValueError("exp %r is not within the next 24 hours" % c.get("exp"))
    sub = c.get("sub", "")
    if not (sub.startswith("mailto:") or sub.startswith("https:")):
        raise ValueError("sub %r is not a mailto: or https: URI" % sub)
    return c


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 201:
            self.send_header("Location", "http://%s/messages/%d" % (self.headers.get("Host"), time.time_ns()))
        if 300 <= status < 400:
            # Back to the same endpoint: a client that follows it pushes twice.
            self.send_header("Location", self.path)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n)

    def do_GET(self):
        if self.path.startswith("/received/"):
            with LOCK:
                items = list(RECEIVED.get(self.path[len("/received/"):], []))
            return self.answer(200, items)
        self.answer(404, {"error": "no such path"})

    def do_POST(self):
        host = self.headers.get("Host")
        if self.path == "/subscriptions":
            req = json.loads(self.body() or b"{}")
            private = ec.generate_private_key(ec.SECP256R1())
            public = private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            auth = os.urandom(16)
            sid = b64e(os.urandom(12))
            with LOCK:
                SUBS[sid] = {
                    "private": private,
                    "auth": auth,
                    "server_key": req["application_server_key"],
                    "status": int(req.get("status", 201)),
                }
                RECEIVED[sid] = []
            return self.answer(
                200,
                {
                    "endpoint": "http://%s/push/%s" % (host, sid),
                    "expirationTime": None,
                    "keys": {"p256dh": b64e(public), "auth": b64e(auth)},
                },
            )
        if self.path.startswith("/push/"):
            sid = self.path[len("/push/"):]
            body = self.body()
            with LOCK:
                sub = SUBS.get(sid)
            if sub is None:
                return self.answer(404, {"error": "unknown subscription"})
            record = {"ok": False, "ttl": self.headers.get("TTL"), "urgency": self.headers.get("Urgency")}
            try:
                record["claims"] = check_vapid(
                    self.headers.get("Authorization", ""), sub["server_key"], "http://%s" % host
                )
                if self.headers.get("Content-Encoding") != "aes128gcm":
                    raise ValueError("Content-Encoding is %r" % self.headers.get("Content-Encoding"))
                if self.headers.get("TTL") is None:
                    raise ValueError("no TTL header")
                plaintext = http_ece.decrypt(
                    body,
                    private_key=sub["private"],
                    auth_secret=sub["auth"],
                    version="aes128gcm",
                )
                record["plaintext"] = plaintext.decode()
                record["ok"] = True
            except Exception as e:  # every failure is the test's to read
                record["error"] = "%s: %s" % (type(e).__name__, e)
            with LOCK:
                RECEIVED[sid].append(record)
            if not record["ok"]:
                return self.answer(400, {"error": record["error"]})
            status = sub["status"]
            return self.answer(status, {"error": "gone"} if status >= 400 else None)
        self.answer(404, {"error": "no such path"})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())

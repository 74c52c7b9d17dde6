"""A real SMTP server for the email channel's round trip (tests/api/email.rs).

Usage: smtp_sink.py OUTDIR. Listens on 127.0.0.1 on a free port, prints the
port on the first line of stdout, and serves until killed. Each accepted
message is written to OUTDIR/NNNN.eml (the bytes received) with
OUTDIR/NNNN.json ({"mail_from", "rcpt_tos"}) written first. Recipients
steer failures: reject@… is refused with 550 at RCPT, busy@… with 451, and
for drop@… the connection is closed after the message was received, before
any answer (the client cannot know whether it was taken). AUTH PLAIN/LOGIN
is offered without TLS and optional; only user "help" with password
"smtp-password" is accepted (535 otherwise), and each message's JSON says
whether its session authenticated.
"""

import asyncio
import json
import os
import socket
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local == "reject":
            return "550 5.1.1 No such user here"
        if local == "busy":
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(a.lower().startswith("drop@") for a in envelope.rcpt_tos):
            server.transport.close()
            return "250 OK"
        self.n += 1
        base = os.path.join(self.outdir, "%04d" % self.n)
        with open(base + ".json", "w") as f:
            json.dump(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "authenticated": bool(session.authenticated),
                },
                f,
            )
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"help"
        and auth_data.password == b"smtp-password"
    )
    return AuthResult(success=ok, handled=False)


async def main(outdir):
    loop = asyncio.get_running_loop()
    handler = Handler(outdir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="sink.localhost",
            authenticator=authenticator,
            auth_require_tls=False,
        ),
        sock=sock,
    )
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

"""SMTP sink for the browser tests: accepts every message on a free loopback port and prints it
as one JSON line {to, from, subject, text, html} on stdout, MIME already decoded.

First line printed: "SMTP sink listening on 127.0.0.1:PORT". Needs Debian's python3-aiosmtpd;
run with /usr/bin/python3 (a pyenv python on PATH would not see Debian's packages).
AUTH is offered and any credentials are accepted, without TLS, so a client configured with a
user and password works too; nothing is required."""

import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.smtp import SMTP, AuthResult


def _part(msg, subtype):
    part = msg.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else None


class Handler:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        record = {
            "to": list(envelope.rcpt_tos),
            "from": envelope.mail_from,
            "subject": str(msg.get("Subject", "")),
            "headers": {k: str(v) for k, v in msg.items()},
            "text": _part(msg, "plain"),
            "html": _part(msg, "html"),
        }
        print(json.dumps(record), flush=True)
        return "250 Message accepted for delivery"


def _accept_any(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True)


async def main():
    loop = asyncio.get_running_loop()
    handler = Handler()
    server = await loop.create_server(
        lambda: SMTP(handler, authenticator=_accept_any, auth_require_tls=False,
                     hostname="firmo-test-sink"),
        host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    print(f"SMTP sink listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

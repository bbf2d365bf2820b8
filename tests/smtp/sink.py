#!/usr/bin/python3
"""Test-only SMTP server (aiosmtpd, Debian's python3-aiosmtpd) on a free loopback port.

Prints "READY <port>" once it accepts connections. Every message received is parsed with
Python's own e-mail package (an implementation independent of Firmo's) and saved as
<dir>/<n>.json: the envelope, whether TLS and AUTH were used, the decoded headers, each
non-multipart part (type, charset, transfer encoding, decoded content), parser defects and
the raw message. Runs until killed.
"""
import argparse
import asyncio
import email
import json
import os
import ssl
import sys
from email import policy

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        msg = email.message_from_bytes(raw, policy=policy.default)
        defects = [repr(d) for d in msg.defects]
        parts = []
        for part in msg.walk():
            defects += [repr(d) for d in part.defects]
            if part.is_multipart():
                continue
            parts.append({
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "transfer_encoding": part.get("Content-Transfer-Encoding"),
                "content": part.get_content(),
            })
        ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": ssl_object is not None,
            "auth_login": session.auth_data.login.decode() if session.authenticated else None,
            "content_type": msg.get_content_type(),
            "headers": {k: str(v) for k, v in msg.items()},
            "parts": parts,
            "defects": defects,
            "raw": raw.decode("ascii", "replace"),
        }
        self.count += 1
        path = os.path.join(self.out_dir, "%d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False)
        os.replace(path + ".tmp", path)  # the reader never sees half a file
        return "250 OK"


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--user")
    p.add_argument("--password", default="")
    p.add_argument("--cert", help="PEM certificate: enables TLS")
    p.add_argument("--key")
    p.add_argument("--tls", choices=["starttls", "implicit"], default="starttls")
    args = p.parse_args()

    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    kwargs = {}
    if args.user:
        kwargs.update(authenticator=make_authenticator(args.user, args.password),
                      auth_required=True, auth_require_tls=False)
    if context is not None and args.tls == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    handler = Handler(args.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", **kwargs), "127.0.0.1", 0,
        ssl=context if args.tls == "implicit" else None)
    print("READY %d" % server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

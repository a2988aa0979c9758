#!/usr/bin/python3
"""A loopback SMTP server for the Delivery tests, built on aiosmtpd.

Prints its port on stdout, then serves until stdin closes (or it is terminated).
Each accepted message is written to MAILDIR as NNN.eml (the bytes after dot-unstuffing) and NNN.json: the
envelope and the message as Python's own `email` package decodes it (an independent decoder).

  --fail-first N      answer 451 to the end of DATA for the first N messages
  --reject ADDRESS    answer 550 to RCPT TO for this address (repeatable)
  --no-ehlo           answer 502 to EHLO (the client must fall back to HELO)
  --auth USER:PASS    require AUTH PLAIN with these credentials (over TLS only when --starttls is given)
  --silent            accept connections and never answer (the client must time out); with --implicit-tls
                      the TLS handshake completes first
  --tls-cert PEM      the server's certificate (chain) for TLS, with --tls-key PEM its private key
  --starttls          offer STARTTLS (RFC 3207) and take AUTH only after it
  --implicit-tls      speak TLS from the first byte (port 465 style)

Every byte the server reads from a client is also appended to MAILDIR/wire.jsonl, one JSON object per read:
{"tls": true|false, "data": "<the bytes as Latin-1>"}; "tls" says whether they arrived encrypted.
"""
import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import socket
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main():
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser()
    parser.add_argument("maildir")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--no-ehlo", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--silent", action="store_true")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--starttls", action="store_true")
    parser.add_argument("--implicit-tls", action="store_true")
    options = parser.parse_args()
    os.makedirs(options.maildir, exist_ok=True)
    state = {"data": 0, "stored": 0}

    class Handler:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            if options.no_ehlo:
                return ["502 5.5.1 EHLO not implemented"]
            session.host_name = hostname
            return responses

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address in options.reject:
                return "550 5.1.1 <%s>: mailbox unavailable" % address
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            state["data"] += 1
            if state["data"] <= options.fail_first:
                return "451 4.3.0 try again later"
            state["stored"] += 1
            raw = envelope.original_content
            name = os.path.join(options.maildir, "%03d" % state["stored"])
            message = email.message_from_bytes(raw, policy=email.policy.default)
            decoded = {
                "mailFrom": envelope.mail_from,
                "rcptTos": envelope.rcpt_tos,
                "subject": str(message["subject"]),
                "from": str(message["from"]),
                "fromName": message["from"].addresses[0].display_name if message["from"] else None,
                "to": str(message["to"]),
                "messageID": str(message["message-id"]),
                "date": str(message["date"]),
                "contentType": message.get_content_type(),
                "charset": message.get_content_charset(),
                "body": message.get_content(),
                "defects": [type(d).__name__ for d in message.defects]
                + [type(d).__name__ for h in message.values() for d in getattr(h, "defects", ())],
                "authenticated": session.authenticated,
            }
            with open(name + ".eml.tmp", "wb") as f:
                f.write(raw)
            with open(name + ".json.tmp", "w", encoding="utf-8") as f:
                json.dump(decoded, f, ensure_ascii=False)
            os.rename(name + ".eml.tmp", name + ".eml")
            os.rename(name + ".json.tmp", name + ".json")
            return "250 2.0.0 OK queued as %03d" % state["stored"]

    def authenticator(server, session, envelope, mechanism, auth_data):
        if options.auth is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, _, password = options.auth.partition(":")
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    wire = os.path.join(options.maildir, "wire.jsonl")

    def record(data, tls):
        with open(wire, "a", encoding="utf-8") as f:
            f.write(json.dumps({"tls": tls, "data": data.decode("latin-1")}) + "\n")

    class RecordingSMTP(SMTP):
        def data_received(self, data):
            record(data, bool(options.implicit_tls or self._tls_protocol is not None))
            super().data_received(data)

    class Silent(asyncio.Protocol):
        def data_received(self, data):
            record(data, bool(options.implicit_tls))

    tls_context = None
    if options.tls_cert:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(options.tls_cert, options.tls_key)

    async def serve():
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        loop = asyncio.get_running_loop()
        kwargs = {"decode_data": False, "hostname": "smtp.test"}
        if options.auth:
            # aiosmtpd knows only STARTTLS as TLS: with implicit TLS it must be told AUTH needs no STARTTLS.
            kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=options.starttls)
        if options.starttls:
            kwargs.update(tls_context=tls_context)
        implicit = tls_context if options.implicit_tls else None
        if options.silent:
            server = await loop.create_server(Silent, sock=sock, ssl=implicit)
        else:
            server = await loop.create_server(lambda: RecordingSMTP(Handler(), **kwargs), sock=sock, ssl=implicit)
        print(sock.getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)
        server.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Records real answers of the Registration tests' loopback servers for the fuzz seeds (run by make-corpus).

  record-servers.py smtp OUT SERVER-ARGS...   the SMTP server's side of one conversation, as smtplib (EHLO, AUTH
                                              PLAIN with --auth, MAIL, RCPT, DATA, QUIT) has it through a relay
  record-servers.py geps OUT SERVER-ARGS...   the status and body of GEPS's answers to a hand-over, then to the
                                              same hand-over again (OUT-1, OUT-2), as "201" + body
"""
import os
import smtplib
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "RegistrationTests", "Fixtures")


def start(script, args):
    server = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(FIXTURES, script)] + args,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return server, int(server.stdout.readline())


def smtp(out, args):
    auth = next((a.split("=", 1)[1] if "=" in a else args[i + 1] for i, a in enumerate(args) if a.startswith("--auth")), None)
    maildir = os.path.join(os.path.dirname(os.path.abspath(out)), ".maildir")
    server, port = start("smtp-test-server.py", [maildir] + args)
    relay = socket.socket()
    relay.bind(("127.0.0.1", 0))
    relay.listen(1)
    recorded = bytearray()

    def pump(source, sink, record):
        while True:
            data = source.recv(4096)
            if not data:
                break
            if record:
                recorded.extend(data)
            sink.sendall(data)
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def serve():
        client, _ = relay.accept()
        upstream = socket.create_connection(("127.0.0.1", port))
        up = threading.Thread(target=pump, args=(client, upstream, False))
        up.start()
        pump(upstream, client, True)
        up.join()
        client.close()
        upstream.close()

    thread = threading.Thread(target=serve)
    thread.start()
    message = ("From: noreply@portal.example.jp\r\nTo: taro@example.co.jp\r\nSubject: test\r\n\r\n"
               "registered\r\n")
    try:
        with smtplib.SMTP("127.0.0.1", relay.getsockname()[1], local_hostname="portal.example.jp") as client:
            if auth:
                user, _, password = auth.partition(":")
                client.login(user, password)
            client.sendmail("noreply@portal.example.jp", ["taro@example.co.jp", "rejected@example.co.jp"], message)
    except smtplib.SMTPException:
        pass  # a refusal is an answer worth recording too
    thread.join()
    server.stdin.close()
    server.wait()
    with open(out, "wb") as f:
        f.write(recorded)


def geps(out, args):
    server, port = start("geps-reference-server.py", args)
    document = '{"change":"registration","business":"B-0001"}'.encode()
    for attempt in (1, 2):
        request = urllib.request.Request(
            "http://127.0.0.1:%d/handovers" % port, data=document, method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": "fuzz-0001"})
        try:
            with urllib.request.urlopen(request) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        with open("%s-%d" % (out, attempt), "wb") as f:
            f.write(b"%03d" % status + body)
    server.stdin.close()
    server.wait()


if __name__ == "__main__":
    {"smtp": smtp, "geps": geps}[sys.argv[1]](sys.argv[2], sys.argv[3:])

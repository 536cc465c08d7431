#!/usr/bin/env python3
"""End-to-end check of tests/mail/server.sh (python3 stdlib only).

    python3 tests/mail/smoke.py DIR [--big-mb N]

Starts the server in DIR (or reuses the one running there), adds
human@example.test and riley@example.test, and checks: SMTP AUTH PLAIN and
LOGIN, a bad password, delivery human -> riley seen over IMAP, STARTTLS on SMTP
and IMAP against DIR/cert.pem, a big attachment, unknown recipients (local and
other domain), a user added while running, \\Seen, IDLE. Stops the server at
the end. Prints one line per check; exits non-zero on the first failure.
"""
import base64
import hashlib
import imaplib
import os
import smtplib
import ssl
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.sh")
T0 = time.monotonic()


def say(msg):
    print(f"[{time.monotonic() - T0:6.2f}s] {msg}", flush=True)


def server(*args):
    out = subprocess.run([SERVER, *args], check=True, stdout=subprocess.PIPE, text=True).stdout
    return out


def message(sender, to, subject, body="hello", attachment=None):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, to, subject
    m["Message-ID"] = f"<{uuid.uuid4()}@example.test>"
    m.set_content(body)
    if attachment is not None:
        m.add_attachment(attachment, maintype="application", subtype="octet-stream",
                         filename="big.bin")
    return m


def imap_login(env, user, password):
    m = imaplib.IMAP4(env["MAIL_HOST"], int(env["IMAP_PORT"]), timeout=30)
    m.login(user, password)
    return m


def wait_for_subject(env, user, password, subject, timeout=10.0):
    """Poll the INBOX until a message with this subject is there; return (imap, uid)."""
    m = imap_login(env, user, password)
    deadline = time.monotonic() + timeout
    while True:
        m.select("INBOX")
        typ, data = m.uid("SEARCH", None, "HEADER", "Subject", f'"{subject}"')
        uids = data[0].split()
        if uids:
            return m, uids[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"{subject!r} not in {user}'s INBOX after {timeout}s")
        time.sleep(0.1)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    d = os.path.abspath(sys.argv[1])
    big_mb = int(sys.argv[sys.argv.index("--big-mb") + 1]) if "--big-mb" in sys.argv else 20

    # --- start ---------------------------------------------------------------
    t = time.monotonic()
    out = server("start", d)
    say(f"start took {time.monotonic() - t:.2f}s; printed: {out.split()}")
    env = dict(line.split("=", 1) for line in out.split())
    with open(os.path.join(d, "env")) as f:
        assert dict(l.split("=", 1) for l in f.read().split()) == env, "DIR/env differs"
    host, smtp_port = env["MAIL_HOST"], int(env["SMTP_PORT"])
    cafile = os.path.join(d, "cert.pem")

    try:
        # --- accounts --------------------------------------------------------
        server("add-user", d, "human@example.test", "human-pw")
        server("add-user", d, "riley@example.test", "riley-pw")
        say("added human@example.test, riley@example.test")

        # --- SMTP AUTH (PLAIN, LOGIN, bad password) + delivery -----------------
        subject = f"hello {uuid.uuid4()}"
        t = time.monotonic()
        with smtplib.SMTP(host, smtp_port, timeout=30) as s:
            s.ehlo()
            assert "PLAIN" in s.esmtp_features["auth"] and "LOGIN" in s.esmtp_features["auth"]
            assert "starttls" in s.esmtp_features
            s.user, s.password = "human@example.test", "human-pw"
            code, _ = s.auth("PLAIN", s.auth_plain)
            assert code == 235, code
            refused = s.send_message(message("human@example.test", "riley@example.test", subject))
            assert not refused, refused
            say(f"SMTP EHLO: SIZE {s.esmtp_features.get('size')}, AUTH {s.esmtp_features['auth']}")
        m, uid = wait_for_subject(env, "riley@example.test", "riley-pw", subject)
        say(f"human -> riley (AUTH PLAIN) in riley's INBOX {time.monotonic() - t:.2f}s after connecting")
        with smtplib.SMTP(host, smtp_port, timeout=30) as s:
            s.ehlo()
            s.user, s.password = "riley@example.test", "riley-pw"
            code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
            assert code == 235, code
        with smtplib.SMTP(host, smtp_port, timeout=30) as s:
            try:
                s.login("human@example.test", "wrong")
                raise AssertionError("bad password accepted")
            except smtplib.SMTPAuthenticationError as e:
                say(f"SMTP AUTH PLAIN+LOGIN ok; bad password -> {e.smtp_code} {e.smtp_error.decode()}")
        m.logout()
        m = imap_login(env, "riley@example.test", "riley-pw")
        m.select("INBOX")

        # --- \Seen -------------------------------------------------------------
        typ, data = m.uid("FETCH", uid, "(FLAGS)")
        assert b"\\Seen" not in data[0], data
        typ, _ = m.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        assert typ == "OK"
        m.logout()
        m = imap_login(env, "riley@example.test", "riley-pw")
        m.select("INBOX")
        typ, data = m.uid("FETCH", uid, "(FLAGS)")
        assert b"\\Seen" in data[0], data
        say(f"\\Seen set and persisted: {data[0].decode()}")

        # --- IDLE: capability, then a real IDLE that sees a new message --------
        typ, caps = m.capability()
        assert b"IDLE" in caps[0].split(), caps
        tag = m._new_tag()
        m.send(tag + b" IDLE\r\n")
        assert m.readline().startswith(b"+"), "no IDLE continuation"
        idle_subject = f"idle {uuid.uuid4()}"
        t = time.monotonic()
        with smtplib.SMTP(host, smtp_port, timeout=30) as s:
            s.login("human@example.test", "human-pw")
            s.send_message(message("human@example.test", "riley@example.test", idle_subject))
        m.sock.settimeout(10)
        while True:
            line = m.readline()
            if line.rstrip().endswith(b"EXISTS"):
                break
        m.send(b"DONE\r\n")
        while not m.readline().startswith(tag):
            pass
        m.sock.settimeout(30)
        say(f"IDLE: pushed '{line.decode().strip()}' {time.monotonic() - t:.2f}s after sending")
        m.logout()

        # --- STARTTLS against DIR/cert.pem (hostname and IP checked) -----------
        ctx = ssl.create_default_context(cafile=cafile)
        with smtplib.SMTP("localhost", smtp_port, timeout=30) as s:
            s.starttls(context=ctx)
            s.login("human@example.test", "human-pw")
            tls = s.sock.version()
        with smtplib.SMTP(host, smtp_port, timeout=30) as s:  # 127.0.0.1: IP SAN
            s.starttls(context=ctx)
        im = imaplib.IMAP4(host, int(env["IMAP_PORT"]), timeout=30)
        im.starttls(ssl_context=ctx)
        im.login("riley@example.test", "riley-pw")
        itls = im.sock.version()
        im.logout()
        try:  # a client that does not trust the cert must fail
            with smtplib.SMTP(host, smtp_port, timeout=30) as s:
                s.starttls(context=ssl.create_default_context())
            raise AssertionError("untrusted cert accepted")
        except ssl.SSLCertVerificationError:
            pass
        say(f"STARTTLS ok with cert.pem as root: SMTP {tls}, IMAP {itls}; system roots reject it")

        # --- big attachment ----------------------------------------------------
        blob = os.urandom(big_mb * 1024 * 1024)
        big_subject = f"big {uuid.uuid4()}"
        msg = message("human@example.test", "riley@example.test", big_subject, attachment=blob)
        t = time.monotonic()
        with smtplib.SMTP(host, smtp_port, timeout=120) as s:
            s.login("human@example.test", "human-pw")
            s.send_message(msg)
        sent = time.monotonic() - t
        m, uid = wait_for_subject(env, "riley@example.test", "riley-pw", big_subject, timeout=60)
        arrived = time.monotonic() - t
        typ, data = m.uid("FETCH", uid, "(RFC822.SIZE BODY.PEEK[2])")
        size = int(data[0][0].split(b"RFC822.SIZE ")[1].split()[0])
        got = base64.b64decode(data[0][1])
        assert hashlib.sha256(got).digest() == hashlib.sha256(blob).digest(), "attachment differs"
        m.logout()
        say(f"{big_mb} MiB attachment: message {size / 1e6:.1f} MB, SMTP {sent:.2f}s, "
            f"in INBOX after {arrived:.2f}s, content identical")

        # --- unknown recipients --------------------------------------------------
        for rcpt in ("nobody@example.test", "someone@other.org"):
            with smtplib.SMTP(host, smtp_port, timeout=30) as s:
                s.login("human@example.test", "human-pw")
                try:
                    s.send_message(message("human@example.test", rcpt, "to nowhere"))
                    raise AssertionError(f"{rcpt} accepted")
                except smtplib.SMTPRecipientsRefused as e:
                    code, text = e.recipients[rcpt]
                    say(f"RCPT {rcpt} -> {code} {text.decode()}")
        # Mixed: the known recipient still gets it, the unknown one is refused.
        with smtplib.SMTP(host, smtp_port, timeout=30) as s:
            refused = s.sendmail("human@example.test", ["riley@example.test", "ghost@example.test"],
                                 message("human@example.test", "riley@example.test", "mixed").as_bytes())
            assert list(refused) == ["ghost@example.test"], refused
        say("mixed recipients: known one accepted, unknown one refused (no AUTH, from 127.0.0.1)")

        # --- a user added while running is usable at once ----------------------
        carol = f"carol{uuid.uuid4().hex[:6]}@example.test"
        server("add-user", d, carol, "carol-pw")
        sub = f"carol {uuid.uuid4()}"
        with smtplib.SMTP(host, smtp_port, timeout=30) as s:
            s.login(carol, "carol-pw")
            s.send_message(message(carol, carol, sub))
        m, _ = wait_for_subject(env, carol, "carol-pw", sub)
        m.logout()
        t = time.monotonic()
        server("add-user", d, carol, "carol-pw2")  # password change, also live
        took = time.monotonic() - t
        imap_login(env, carol, "carol-pw2").logout()
        say(f"{carol} added live: SMTP AUTH, RCPT, IMAP at once; "
            f"password change live (add-user took {took:.2f}s)")

        st = os.stat(os.path.join(d, "mail", "example.test", "riley", "Maildir"))
        say(f"riley's Maildir owned by uid {st.st_uid} gid {st.st_gid}")
    finally:
        t = time.monotonic()
        server("stop", d)
        say(f"stop took {time.monotonic() - t:.2f}s")
    for port in (smtp_port, int(env["IMAP_PORT"])):
        try:
            smtplib.socket.create_connection((host, port), timeout=2).close()
            raise AssertionError(f"port {port} still open after stop")
        except ConnectionRefusedError:
            pass
    say("OK: ports closed after stop")


if __name__ == "__main__":
    main()

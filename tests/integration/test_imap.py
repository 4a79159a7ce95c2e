"""The e-mail adapter against a real IMAP server: Dovecot, started by these tests.

Each server gets a temporary folder: a dovecot.conf listening on 127.0.0.1 (IMAP with
STARTTLS, and IMAPS) with a CA and a certificate made by ``openssl``, a passwd-file user
and Maildir storage, logging to a file. Messages are delivered by IMAP APPEND. Without
Dovecot (``apt-get install dovecot-imapd``) the tests skip, except under CI=true.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import grp
import imaplib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
from structlog.testing import capture_logs

from adapters.email import EmailAdapter
from hub.adapter import SourceContext
from hub.errors import FatalSourceError, SourceUnavailable
from hub.records import Checkpoint, RawRecord
from hub.testing.conformance import AdapterConformance

pytestmark = pytest.mark.imap

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "email"
PASSWORD_ENV = "PEYVAND_TEST_IMAP_PASSWORD"
USER = "peyvand"
PASSWORD = "imap-test-پیوند"   # not ASCII: the adapter logs in with SASL PLAIN (UTF-8)


# -- the server -------------------------------------------------------------------------

@dataclass
class Dovecot:
    """A running Dovecot and what the tests need to reach it."""

    root: Path
    port: int
    imaps_port: int
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def ca_file(self) -> str:
        return str(self.root / "ca.pem")

    def options(self, *folders: str, **more: Any) -> dict[str, Any]:
        """Adapter options for ``folders``: STARTTLS on the IMAP port, our CA trusted."""
        return {"host": "localhost", "port": self.port, "user": USER,
                "password_env": PASSWORD_ENV, "tls": "starttls", "ca_file": self.ca_file,
                "folders": list(folders), "timeout": 10, **more}

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.authenticate("PLAIN", lambda _: f"\0{USER}\0{PASSWORD}".encode())
        return imap

    def create(self, folder: str) -> str:
        with _session(self) as imap:
            assert imap.create(_quoted(folder))[0] == "OK"
        return folder

    def append(self, folder: str, *messages: bytes, when: str | None = None) -> None:
        with _session(self) as imap:
            for raw in messages:
                status, data = imap.append(_quoted(folder), "", when, raw)
                assert status == "OK", data

    def rebuild(self, folder: str) -> None:
        """Delete ``folder`` and create it again: a new UIDVALIDITY."""
        with _session(self) as imap:
            assert imap.delete(_quoted(folder))[0] == "OK"
            assert imap.create(_quoted(folder))[0] == "OK"

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop every process of this server. The master alone is not enough: its imap
        and login processes would go on serving the connections they hold."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)   # its own session: see start_dovecot
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


@contextlib.contextmanager
def _session(server: Dovecot) -> Iterator[imaplib.IMAP4]:
    imap = server.client()
    try:
        yield imap
    finally:
        imap.logout()


def _quoted(folder: str) -> str:
    from adapters._mail_imap import quote
    return quote(folder)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _certificates(root: Path) -> None:
    """A CA and a certificate for localhost/127.0.0.1 signed by it."""
    ext = root / "server.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                   "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for command in (
            ["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=Peyvand test CA"],
            ["req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext"]):
        subprocess.run(["openssl", *command], cwd=root, check=True, capture_output=True)


def _config(root: Path, port: int, imaps_port: int) -> Path:
    """dovecot.conf for a server of its own, run by whoever runs the tests.

    As root, Dovecot's login and internal processes drop to its own users (dovenull,
    dovecot) and the mail to ``nobody``: it refuses root for either. Otherwise every
    process runs as the current user and nothing is chrooted.
    """
    me = pwd.getpwuid(os.getuid())
    if os.getuid() == 0:
        mail = pwd.getpwnam("nobody")
        users = "default_internal_user = dovecot\ndefault_login_user = dovenull\n"
        shutil.chown(root / "mail", mail.pw_uid, mail.pw_gid)
    else:
        mail = me
        users = (f"default_internal_user = {me.pw_name}\ndefault_login_user = {me.pw_name}\n"
                 f"default_internal_group = {grp.getgrgid(me.pw_gid).gr_name}\n"
                 "service auth-worker {\n  user = $default_internal_user\n}\n")
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{mail.pw_uid}:{mail.pw_gid}::"
                                 f"{root / 'mail'}::\n", encoding="utf-8")
    conf = root / "dovecot.conf"
    conf.write_text(f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = peyvand-test-{root.name}
log_path = {root}/dovecot.log
{users}first_valid_uid = 1
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
auth_mechanisms = plain
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
""", encoding="utf-8")
    return conf


def start_dovecot() -> Dovecot:
    """A new Dovecot in a temporary folder, up and accepting connections."""
    binary = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
    if binary is None or shutil.which("openssl") is None:
        _cannot("Dovecot or openssl is not installed (apt-get install dovecot-imapd)")
    # Not pytest's tmp_path: its parents are private to us, and Dovecot's unprivileged
    # processes must reach the sockets and the passwd file.
    root = Path(tempfile.mkdtemp(prefix="peyvand-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    port, imaps_port = _free_port(), _free_port()
    try:
        _certificates(root)
        conf = _config(root, port, imaps_port)
    except (OSError, subprocess.CalledProcessError, KeyError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        _cannot(f"the Dovecot test setup failed: {exc}")
    with (root / "stderr.log").open("wb") as stderr:   # the child keeps its own copy
        process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                   stderr=stderr, start_new_session=True)
    server = Dovecot(root, port, imaps_port, process)
    if not _wait(server):
        server.stop()
        log = "".join((root / name).read_text(errors="replace")[-2000:]
                      for name in ("stderr.log", "dovecot.log") if (root / name).exists())
        shutil.rmtree(root, ignore_errors=True)
        _cannot(f"Dovecot did not start: {log.strip() or 'no log'}")
    return server


def _wait(server: Dovecot, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            server.client().logout()
            return True
        except (OSError, imaplib.IMAP4.error):
            time.sleep(0.1)
    return False


def _cannot(reason: str) -> Any:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the IMAP tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = start_dovecot()
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv(PASSWORD_ENV, PASSWORD)
            yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


def new_folder(server: Dovecot, name: str = "test") -> str:
    return server.create(f"{name}-{uuid.uuid4().hex[:8]}")


# -- messages ---------------------------------------------------------------------------

def b64(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def qp(text: str, charset: str) -> str:
    encoded = "".join(chr(b) if chr(b).isalnum() and b < 128 else "_" if b == 32 else f"={b:02X}"
                      for b in text.encode(charset))
    return f"=?{charset}?Q?{encoded}?="


_counter = itertools.count(1)


def message(*, sender: str = "Ali Karimi <ali@x.ir>", subject: str = "Order",
            body: str = "Hello", message_id: str | None = "", to: str = "sales@shop.ir",
            headers: str = "") -> bytes:
    """A message as a mail client writes it; ``message_id=""`` makes a unique one."""
    n = next(_counter)
    mid = f"<m{n}.{uuid.uuid4().hex[:6]}@x.ir>" if message_id == "" else message_id
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}",
             f"Date: Mon, 24 Nov 2025 10:{n % 60:02d}:00 +0330",
             *([f"Message-ID: {mid}"] if mid else []),
             "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
             "Content-Transfer-Encoding: 8bit", *filter(None, headers.split("\n"))]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def read(server: Dovecot, checkpoint: Checkpoint | None = None, *folders: str,
         **more: Any) -> list[RawRecord]:
    adapter = EmailAdapter.from_options(server.options(*folders, **more), where="test",
                                        context=SourceContext(Path.cwd()))
    return list(adapter.read(checkpoint))


# -- the contract -------------------------------------------------------------------------

class TestImapConformance(AdapterConformance):
    """The adapter contract over IMAP with STARTTLS, on a folder of its own per test."""

    adapter_class = EmailAdapter
    bad_options: ClassVar = {"url": "imaps://ali:secret@mail.x.ir/INBOX", "tls": "none",
                             "port": "993"}

    @pytest.fixture(autouse=True)
    def _server(self, dovecot: Dovecot) -> None:
        self.server = dovecot

    def make_source(self, tmp_path: Path) -> dict[str, Any]:
        folder = new_folder(self.server, "conformance")
        self.server.append(folder, *(message(sender=f"{name} <c{i}@x.ir>", subject=f"#{i}")
                                     for i, name in enumerate(["علی کریمی", "Sara", "Reza",
                                                               "مریم"])))
        return self.server.options(folder)


# -- reading real messages --------------------------------------------------------------

def test_names_and_subjects_in_any_charset_are_decoded(dovecot: Dovecot) -> None:
    folder = new_folder(dovecot)
    dovecot.append(
        folder,
        message(sender=f"{b64('علی کریمی', 'utf-8')} <ali@x.ir>",
                subject=b64("سفارش شماره ۱۲ — پیگیری", "utf-8"),
                body="سلام، لطفاً با من تماس بگیرید: ۰۹۱۲ ۱۲۳ ۴۵۶۷\r\n--\r\nعلی"),
        message(sender=f"{qp('مريم حسيني', 'windows-1256')} <maryam@x.ir>",
                subject=qp("پيگيري سفارش", "windows-1256")),
        message(sender=f"{b64('张伟', 'gb2312')} <zhang@x.cn>", subject=b64("订单", "gb2312")),
        message(sender='"Karimi, Ali" <karimi@x.ir>',
                to='"Karimi, Ali" <karimi@x.ir>, =?utf-8?q?Rezaei=2C_Sara?= <sara@x.ir>'),
        message(sender=f"{qp('Müller, Jürgen', 'iso-8859-1')} <jm@x.de>"))

    records = read(dovecot, None, folder)

    assert [(r.data["from_name"], r.data["from_address"]) for r in records] == [
        ("علی کریمی", "ali@x.ir"), ("مريم حسيني", "maryam@x.ir"), ("张伟", "zhang@x.cn"),
        ("Karimi, Ali", "karimi@x.ir"), ("Müller, Jürgen", "jm@x.de")]
    assert [r.data["subject"] for r in records][:3] == ["سفارش شماره ۱۲ — پیگیری",
                                                        "پيگيري سفارش", "订单"]
    assert records[3].data["to_addresses"] == "karimi@x.ir, sara@x.ir"
    assert records[0].data["phones_found"] == "+989121234567"
    assert datetime.datetime.fromisoformat(records[0].data["received"]).tzinfo is not None
    assert all(r.data["folder"] == folder for r in records)
    assert records[0].location.startswith(f"imap {folder} uid ")


def test_reading_marks_nothing_as_seen(dovecot: Dovecot) -> None:
    folder = new_folder(dovecot)
    dovecot.append(folder, message())
    assert len(read(dovecot, None, folder)) == 1
    with _session(dovecot) as imap:
        imap.select(_quoted(folder), readonly=True)
        _, flags = imap.fetch("1", "(FLAGS)")
    assert b"\\Seen" not in flags[0]


@pytest.mark.samples
def test_every_sample_is_read_over_imap(dovecot: Dovecot) -> None:
    if not SAMPLES.is_dir():
        _cannot(f"real-world samples not found at {SAMPLES}")
    folder = new_folder(dovecot, "samples")
    samples = sorted(SAMPLES.glob("*.eml"))
    dovecot.append(folder, *(path.read_bytes() for path in samples))

    records = read(dovecot, None, folder, automated="read")

    assert len(records) == len(samples)
    assert all(r.problem is None for r in records)
    by_subject = {r.data["subject"]: r.data for r in records}
    assert by_subject["Delivery failure (abh@netpar.com.br)"]["from_address"] == \
        "postmaster@netpar.com.br"
    assert by_subject["Быстрее вкладывайте в золото!"]["from_name"] == "Время пришло"
    # By default the bounce, the newsletter and the list post are left out.
    assert len(read(dovecot, None, folder)) == len(samples) - 3


def test_a_persian_folder_name_is_sent_in_modified_utf7(dovecot: Dovecot) -> None:
    folder = new_folder(dovecot, "مشتریان & co")
    dovecot.append(folder, message(), message())
    records = read(dovecot, None, folder)
    assert [r.data["folder"] for r in records] == [folder, folder]


def test_several_folders_and_since(dovecot: Dovecot) -> None:
    inbox, sent = new_folder(dovecot, "in"), new_folder(dovecot, "sent")
    dovecot.append(inbox, message(subject="old"), when='"01-Jan-2020 10:00:00 +0000"')
    dovecot.append(inbox, message(subject="new"))
    dovecot.append(sent, message(sender="sales@shop.ir", to="Ali <ali@x.ir>", subject="re"))

    records = read(dovecot, None, inbox, sent, since="2024-01-01",
                   own_addresses=["@shop.ir"])

    assert [(r.data["subject"], r.data["direction"], r.data["contact_address"])
            for r in records] == [("new", "inbound", "ali@x.ir"),
                                  ("re", "outbound", "ali@x.ir")]


# -- incremental ------------------------------------------------------------------------

def test_only_new_messages_are_read_and_a_rebuilt_folder_again(dovecot: Dovecot) -> None:
    folder = new_folder(dovecot, "sync")
    dovecot.append(folder, message(subject="1"), message(subject="2"))
    first = read(dovecot, None, folder)
    last = first[-1].checkpoint

    assert read(dovecot, last, folder) == []

    dovecot.append(folder, message(subject="3"))
    third = read(dovecot, last, folder)
    assert [r.data["subject"] for r in third] == ["3"]

    dovecot.rebuild(folder)
    dovecot.append(folder, *(message(subject=str(n), message_id=f"<again{n}@x.ir>")
                             for n in (1, 2, 3)))
    with capture_logs() as logs:
        again = read(dovecot, third[-1].checkpoint, folder)
    assert [r.data["subject"] for r in again] == ["1", "2", "3"]
    assert any("UIDVALIDITY changed" in e["event"] and e["folder"] == folder for e in logs)


# -- connections, TLS and failures --------------------------------------------------------

def test_imaps_with_the_servers_ca(dovecot: Dovecot) -> None:
    folder = new_folder(dovecot)
    dovecot.append(folder, message())
    url = f"imaps://{USER}@localhost:{dovecot.imaps_port}/{folder}"
    adapter = EmailAdapter.from_options(
        {"url": url, "password_env": PASSWORD_ENV, "ca_file": dovecot.ca_file},
        where="test", context=SourceContext(Path.cwd()))
    assert len(list(adapter.read(None))) == 1


def test_an_untrusted_certificate_is_fatal_and_names_ca_file(dovecot: Dovecot) -> None:
    url = f"imaps://{USER}@localhost:{dovecot.imaps_port}/INBOX"
    adapter = EmailAdapter.from_options({"url": url, "password_env": PASSWORD_ENV},
                                        where="test", context=SourceContext(Path.cwd()))
    with pytest.raises(FatalSourceError, match=r"not trusted.*options.ca_file"):
        list(adapter.read(None))


def test_plain_imap_only_on_loopback(dovecot: Dovecot) -> None:
    folder = new_folder(dovecot)
    dovecot.append(folder, message())
    options = dovecot.options(folder, tls="none", host="127.0.0.1")
    del options["ca_file"]
    assert len(read_options(options)) == 1


def read_options(options: dict[str, Any]) -> list[RawRecord]:
    adapter = EmailAdapter.from_options(options, where="test", context=SourceContext(Path.cwd()))
    return list(adapter.read(None))


def test_a_wrong_password_or_folder_is_fatal(dovecot: Dovecot, monkeypatch) -> None:
    with pytest.raises(FatalSourceError, match=r"no folder 'Nowhere'.*INBOX"):
        read(dovecot, None, "Nowhere")
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    with pytest.raises(FatalSourceError, match=r"refused login.*options.user"):
        read(dovecot, None, "INBOX")
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(FatalSourceError, match=f"{PASSWORD_ENV}.*is not set"):
        read(dovecot, None, "INBOX")


def test_a_closed_port_is_a_passing_failure(dovecot: Dovecot) -> None:
    options = dovecot.options("INBOX", port=_free_port())
    with pytest.raises(SourceUnavailable, match=r"^email: ") as caught:
        read_options(options)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_a_server_stopped_mid_read_is_a_passing_failure(monkeypatch) -> None:
    server = start_dovecot()   # a server of its own: this test stops it
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    try:
        folder = new_folder(server)
        server.append(folder, *(message(subject=str(n)) for n in range(60)))
        adapter = EmailAdapter.from_options(server.options(folder), where="test",
                                            context=SourceContext(Path.cwd()))
        records = adapter.read(None)
        got = [next(records)]
        server.stop(signal.SIGKILL)   # the server dies: no goodbye to the client
        with pytest.raises(SourceUnavailable, match=r"^email: ") as caught:
            got.extend(records)
        assert 1 <= len(got) < 60   # the first batch came, the rest could not
        assert isinstance(caught.value.__cause__, OSError | imaplib.IMAP4.abort)
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)

"""Fixtures for the TAXII interop suite: a real `accord serve` driven by real clients.

The suite runs the binary named by ACCORD_BIN (scripts/test builds it and sets it). Each
exchange lives in a fresh temporary data directory, is set up through the admin CLI while
the server runs, and is reached only on 127.0.0.1. Nothing waits by sleeping: start-up
waits for the server's `listening on URL` line, shutdown for the process to exit.

Every GET that the OASIS taxii2-client makes against an objects endpoint passes through
`support.validate_envelope`, so each STIX object the server emits is checked by stix2-validator.
"""

import functools
import json
import os
import pathlib
import re
import selectors
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests
from taxii2client import common as taxii_common
from taxii2client.v21 import ApiRoot, Collection, Server

from support import TAXII_MEDIA_TYPE, VALIDATED, validate_envelope

REPO = pathlib.Path(__file__).resolve().parents[2]
START_TIMEOUT = 60  # seconds to wait for the listening line before giving up
HTTP_TIMEOUT = 60
LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


# --- the binary -----------------------------------------------------------------------


def _default_binary():
    target = os.environ.get("CARGO_TARGET_DIR") or str(REPO / "target")
    return pathlib.Path(target) / "debug" / "accord"


@pytest.fixture(scope="session")
def accord_bin():
    path = pathlib.Path(os.environ.get("ACCORD_BIN") or _default_binary())
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"accord binary not found at {path}: run scripts/test, or `cargo build -p accord` "
            "and set ACCORD_BIN to the built binary",
            pytrace=False,
        )
    return str(path.resolve())


# --- one server process ---------------------------------------------------------------


def _read_line(fd, timeout):
    """Reads one line from a pipe; returns b'' on EOF, raises TimeoutError."""
    deadline = time.monotonic() + timeout
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                raise TimeoutError(f"no complete line within {timeout}s (got {buf!r})")
            chunk = os.read(fd, 4096)
            if not chunk:
                return buf
            buf += chunk
    return buf


class AccordServer:
    """`accord serve` on a data directory; start() returns once it accepts connections."""

    def __init__(self, binary, data_dir, log_path):
        self.binary = binary
        self.data_dir = pathlib.Path(data_dir)
        self.log_path = pathlib.Path(log_path)
        self.proc = None
        self.url = None
        self.stdout_rest = []

    def start(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [
                    self.binary,
                    "serve",
                    "--data",
                    str(self.data_dir),
                    "--listen",
                    "127.0.0.1:0",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        finally:
            log.close()
        fd = self.proc.stdout.fileno()
        try:
            line = _read_line(fd, START_TIMEOUT)
        except TimeoutError as e:
            self.kill()
            raise RuntimeError(f"accord serve did not print its listening line: {e}\n{self.log_tail()}")
        first, _, rest = line.partition(b"\n")
        text = first.decode("utf-8", "replace").strip()
        match = LISTENING.fullmatch(text)
        if not match:
            code = self.proc.poll()
            if code is None:
                self.kill()
            raise RuntimeError(
                f"accord serve printed {text!r} (exit status {code}), expected "
                f"'listening on http://127.0.0.1:PORT'\n{self.log_tail()}"
            )
        self.url = match.group(1)
        if rest:
            self.stdout_rest.append(rest)
        threading.Thread(target=self._drain, args=(fd,), daemon=True).start()
        return self

    def _drain(self, fd):
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.stdout_rest.append(chunk)

    def log_tail(self, chars=4000):
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except OSError:
            return "(no server log)"
        return f"--- accord serve stderr (last {chars} chars) ---\n{text[-chars:]}"

    def kill(self):
        """SIGKILL, then wait for the process to be gone."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(timeout=30)

    def stop(self):
        """SIGTERM, wait for exit; SIGKILL if it does not exit in 30 s."""
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


# --- an exchange: server + admin CLI + clients ----------------------------------------


class Org:
    def __init__(self, name, sector, identity, key, key_id):
        self.name = name
        self.sector = sector
        self.identity = identity
        self.key = key
        self.key_id = key_id

    def __repr__(self):
        return f"Org({self.name!r}, {self.identity!r})"


class Exchange:
    """One Accord data directory with its server and the admin CLI over it."""

    def __init__(self, binary, root):
        self.binary = binary
        self.root = pathlib.Path(root)
        self.data_dir = self.root / "data"
        self.server = AccordServer(binary, self.data_dir, self.root / "serve.log")
        self.orgs = {}

    # server lifecycle
    def start(self):
        self.server.start()
        return self

    def restart_after_kill(self):
        """kill -9 the server, wait for it to die, start it again on the same directory."""
        self.server.kill()
        self.server = AccordServer(self.binary, self.data_dir, self.root / "serve.log")
        return self.start()

    @property
    def url(self):
        return self.server.url

    @property
    def api_root_url(self):
        return f"{self.url}/exchange/"

    def collection_url(self, collection_id):
        return f"{self.api_root_url}collections/{collection_id}/"

    # admin CLI
    def admin(self, *args):
        cmd = [self.binary, "admin", "--data", str(self.data_dir), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise AssertionError(
                f"`{' '.join(cmd[1:])}` exited {done.returncode}\n"
                f"stdout: {done.stdout}\nstderr: {done.stderr}"
            )
        if "--json" in args:
            try:
                return json.loads(done.stdout)
            except ValueError:
                raise AssertionError(f"`{' '.join(cmd[1:])}` printed no JSON: {done.stdout!r}")
        return done.stdout

    def add_org(self, name, sector, role="analyst"):
        org = self.admin("org", "create", name, "--sector", sector, "--json")
        assert org["name"] == name and org["sector"] == sector, org
        assert org["identity"].startswith("identity--"), org
        key = self.admin("key", "create", "--org", name, "--role", role, "--json")
        assert key["org"] == name and key["role"] == role and key["key"], key
        self.orgs[name] = Org(name, sector, org["identity"], key["key"], key["id"])
        return self.orgs[name]

    def add_group(self, members, default_tlp="amber", description=None):
        """A new trust group; `members` maps org name to "r", "w" or "rw"."""
        name = f"group-{uuid.uuid4().hex[:8]}"
        args = ["group", "create", name, "--default-tlp", default_tlp, "--json"]
        if description:
            args[3:3] = ["--description", description]
        group = self.admin(*args)
        assert group["name"] == name and group["default_tlp"] == default_tlp, group
        for org, mode in members.items():
            flags = (["--read"] if "r" in mode else []) + (["--write"] if "w" in mode else [])
            self.admin("group", "add", org, name, *flags)
        return group["collection"]

    # TAXII clients (OASIS taxii2-client, HTTP Basic with the key as password)
    def _conn(self, org):
        conn = taxii_common._HTTPConnection(user="x", password=org.key, version="2.1")
        conn.session.request = functools.partial(conn.session.request, timeout=HTTP_TIMEOUT)
        return conn

    def discovery(self, org):
        return Server(f"{self.url}/taxii2/", conn=self._conn(org))

    def api_root(self, org):
        return ApiRoot(self.api_root_url, conn=self._conn(org))

    def collection(self, org, collection_id):
        return Collection(self.collection_url(collection_id), conn=self._conn(org))

    def http(self, org=None):
        """A plain requests session with the TAXII Accept header (and org's bearer key)."""
        session = requests.Session()
        session.headers["Accept"] = TAXII_MEDIA_TYPE
        if org is not None:
            session.headers["Authorization"] = f"Bearer {org.key}"
        session.request = functools.partial(session.request, timeout=HTTP_TIMEOUT)
        return session


@pytest.fixture
def make_exchange(accord_bin, request):
    """Factory for exchanges torn down (and their directories removed) after the test."""
    made = []

    def make():
        exchange = Exchange(accord_bin, tempfile.mkdtemp(prefix="accord-interop-"))
        made.append(exchange)
        return exchange.start()

    yield make
    failed = request.node.rep_call.failed if hasattr(request.node, "rep_call") else False
    for exchange in made:
        exchange.server.stop()
        if failed:
            print(exchange.server.log_tail())
        shutil.rmtree(exchange.root, ignore_errors=True)


@pytest.fixture(scope="session")
def exchange(accord_bin):
    """The shared exchange: four member organisations, one analyst key each.

    alpha (platform) publishes; bravo (government) and delta (election office) are members
    of the groups tests create; charlie (security firm) is in none of them.
    """
    root = tempfile.mkdtemp(prefix="accord-interop-")
    ex = Exchange(accord_bin, root)
    try:
        ex.start()
        ex.add_org("alpha", "platform")
        ex.add_org("bravo", "government")
        ex.add_org("charlie", "security-firm")
        ex.add_org("delta", "election-office")
        yield ex
    finally:
        ex.server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- every object the server emits is validated --------------------------------------


@pytest.fixture(scope="session", autouse=True)
def validate_everything_emitted():
    original = taxii_common._HTTPConnection.get

    def get(self, url, headers=None, params=None):
        body = original(self, url, headers=headers, params=params)
        validate_envelope(url, body)
        return body

    taxii_common._HTTPConnection.get = get
    yield VALIDATED
    taxii_common._HTTPConnection.get = original


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        f"stix2-validator 3.2.0 checked {VALIDATED['objects']} objects emitted by the server"
    )

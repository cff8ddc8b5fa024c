"""A throw-away PostgreSQL server for the tests of searches in a database (skipped where PostgreSQL is not
installed)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The server programs, on the PATH or in Debian's folder.
POSTGRES_PROGRAMS = ("initdb", "pg_ctl", "postgres")


def postgres_bin() -> Path | None:
    """The folder of ``initdb``, ``pg_ctl`` and ``postgres`` (the newest Debian one when not on the PATH)."""
    found = [shutil.which(name) for name in POSTGRES_PROGRAMS]
    if all(found):
        return Path(found[0]).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name)
    for folder in reversed(versions):
        if all((folder / name).is_file() for name in POSTGRES_PROGRAMS):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user() -> tuple[list[str], int, int] | None:
    """How to run the server as an unprivileged user when this process is root (PostgreSQL refuses root): the
    command prefix and the user's ids; None when no such user or tool is there."""
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("setpriv"):
            prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
        elif shutil.which("runuser"):
            prefix = ["runuser", "-u", name, "--"]
        else:
            return None
        return prefix, user.pw_uid, user.pw_gid
    return None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server of its own, in a temporary folder on a free port, for the whole session; its URL
    (trust authentication, user ``dllab``, database ``postgres``)."""
    folder_of_bin = postgres_bin()
    if folder_of_bin is None:
        pytest.skip("PostgreSQL is not installed (no initdb, pg_ctl and postgres)")
    if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is None:
        pytest.skip("no PostgreSQL driver for Python (psycopg) is installed")
    prefix: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="dllab-postgres-"))
    if os.geteuid() == 0:
        user = _as_user()
        if user is None:
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip(
                "running as root, and there is no user (postgres, nobody) and no setpriv or runuser to run "
                "PostgreSQL as, which refuses to run as root"
            )
        prefix, uid, gid = user
        os.chown(root, uid, gid)
    data, log, port = root / "data", root / "server.log", _free_port()
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*prefix, *argv], capture_output=True, text=True, env=env, cwd=root, timeout=120
        )

    started = False
    try:
        made = run(
            str(folder_of_bin / "initdb"),
            "-D",
            str(data),
            "-U",
            "dllab",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "-N",
        )
        if made.returncode != 0:
            pytest.skip(f"initdb could not make a cluster: {(made.stderr or made.stdout).strip()[-500:]}")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40"
        start = run(
            str(folder_of_bin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )
        if start.returncode != 0:
            text = log.read_text(errors="replace") if log.exists() else start.stderr
            pytest.skip(f"the PostgreSQL server did not start: {text.strip()[-500:]}")
        started = True
        yield f"postgresql://dllab@127.0.0.1:{port}/postgres"
    finally:
        if started:
            with contextlib.suppress(Exception):
                run(str(folder_of_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """The throw-away server's URL (tests name their studies apart)."""
    return postgres_server

"""A PostgreSQL cluster with PostGIS that the service runs itself.

With no DATABASE_URL, chuangwen keeps its own cluster in ``<home>/pg``: data in
``pg/data``, the unix socket in ``pg/run`` (no TCP port is opened), the log in
``pg/log``. PostgreSQL refuses to run as root, so when root runs chuangwen the
cluster belongs to the ``postgres`` system user and its commands run through
``runuser``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SOCKET_PORT = 5432  # only names the socket file; nothing listens on TCP
SUPERUSER = "chuangwen"
DATABASE = "chuangwen"
SERVICE_USER = "postgres"

_SETTINGS = {
    "listen_addresses": "''",
    "unix_socket_permissions": "0770",
    "shared_buffers": "'256MB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'256MB'",
    "max_wal_size": "'2GB'",
    "jit": "off",
    # no standby can follow a cluster that opens no TCP port: the write-ahead log keeps only
    # what crash recovery needs, and a table made and filled in one transaction (a city's
    # first import, service/layers/partitions.py) is written without it. Backups are
    # pg_dump's; a deployment that wants streaming or archiving runs its own server
    # (DATABASE_URL).
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "timezone": "'UTC'",
}


class ClusterError(RuntimeError):
    """The self-managed cluster could not be set up or started."""


@dataclass(frozen=True)
class Cluster:
    home: Path

    @property
    def root(self) -> Path:
        return self.home / "pg"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "log" / "postgresql.log"

    @property
    def url(self) -> str:
        return (
            f"postgresql+psycopg://{SUPERUSER}@/{DATABASE}"
            f"?host={self.socket_dir}&port={SOCKET_PORT}"
        )

    def status(self) -> str:
        """'running', 'stopped' or 'absent' (never initialised)."""
        if not (self.data_dir / "PG_VERSION").exists():
            return "absent"
        rc = self._pg_ctl("status", check=False).returncode
        return "running" if rc == 0 else "stopped"

    def start(self) -> None:
        """Initialise if needed, start if stopped, make sure the database exists."""
        if self.status() == "absent":
            self._initdb()
        if self.status() != "running":
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._own(self.log_file.parent)
            # socket and port are passed at each start, so a moved HOME still works
            opts = f"-k {self.socket_dir} -p {SOCKET_PORT}"
            proc = self._pg_ctl(
                "start", "-w", "-t", "60", "-l", str(self.log_file), "-o", opts, check=False
            )
            if proc.returncode != 0:
                tail = _tail(self.log_file)
                raise ClusterError(f"pg_ctl start failed: {proc.stderr.strip()}\n{tail}")
        self._ensure_database()

    def stop(self) -> None:
        if self.status() == "running":
            self._pg_ctl("stop", "-m", "fast", "-w")

    # -- internals ---------------------------------------------------------

    def _initdb(self) -> None:
        for d in (self.root, self.socket_dir, self.log_file.parent):
            d.mkdir(parents=True, exist_ok=True)
        self._own(self.root, self.socket_dir, self.log_file.parent)
        self._check_reachable(self.root)
        self._run(
            [
                _bin("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        conf = [f"{k} = {v}" for k, v in _SETTINGS.items()]
        auto = self.data_dir / "postgresql.auto.conf"
        with auto.open("a", encoding="utf-8") as fh:
            fh.write("\n# written by chuangwen\n" + "\n".join(conf) + "\n")

    def _ensure_database(self) -> None:
        psql = [
            _bin("psql"),
            "-h",
            str(self.socket_dir),
            "-p",
            str(SOCKET_PORT),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-tAc",
        ]
        exists = self._run([*psql, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"])
        if exists.stdout.strip() != "1":
            self._run([*psql, f'CREATE DATABASE "{DATABASE}"'])

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run([_bin("pg_ctl"), "-D", str(self.data_dir), *args], check=check)

    def _run(self, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", SERVICE_USER, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/", check=False)
        if check and proc.returncode != 0:
            raise ClusterError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc

    def _own(self, *paths: Path) -> None:
        if os.geteuid() != 0:
            return
        try:
            pw = pwd.getpwnam(SERVICE_USER)
        except KeyError as exc:
            raise ClusterError(
                f"running as root needs the '{SERVICE_USER}' system user "
                "(apt-get install postgresql-15 creates it)"
            ) from exc
        for p in paths:
            os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chmod(p, 0o700)

    def _check_reachable(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        probe = subprocess.run(
            ["runuser", "-u", SERVICE_USER, "--", "test", "-w", str(path)], check=False
        )
        if probe.returncode != 0:
            raise ClusterError(
                f"the '{SERVICE_USER}' user cannot reach {path}: every parent folder needs "
                "execute permission for others (chmod o+x), or set CHUANGWEN_HOME elsewhere"
            )


def _bin(name: str) -> str:
    """Path of a PostgreSQL server program (CHUANGWEN_PG_BINDIR, else the newest installed)."""
    bindir = os.environ.get("CHUANGWEN_PG_BINDIR")
    candidates = (
        [Path(bindir)]
        if bindir
        else sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name),
            reverse=True,
        )
    )
    for d in candidates:
        if (d / name).exists():
            return str(d / name)
    found = shutil.which(name)
    if found:
        return found
    raise ClusterError(
        f"PostgreSQL program '{name}' not found: install postgresql-15 and "
        "postgresql-15-postgis-3, or set CHUANGWEN_PG_BINDIR"
    )


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""

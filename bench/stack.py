"""A private production-like stack on this machine, for fault and load runs:
its own PostgreSQL cluster and Redis server on free ports, and the Procfile's own
lines (gunicorn, the intake and generation workers, beat) as real processes, all
configured through the environment as a deployment would be. Nothing touches the
machine's shared services. `cpu_seconds()` says what each role has spent."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import psycopg
import requests

from common.polling import wait_until

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PG_BIN = (next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)
          if Path("/usr/lib/postgresql").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def available() -> str | None:
    """None when the stack can run here, else the reason it cannot."""
    if PG_BIN is None or not (PG_BIN / "initdb").exists():
        return "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql"
    if shutil.which("redis-server") is None:
        return "redis-server not found"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


class Postgres:
    def __init__(self, base: Path):
        self.dir = base / "pg"
        self.port = free_port()
        self.dir.mkdir(parents=True)
        if os.geteuid() == 0:
            os.chmod(base, 0o711)  # the postgres user must reach its folder
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres",
                                     "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
        self.start()
        subprocess.run(_as_postgres([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                                     "-U", "postgres", "veritalk"]), check=True, capture_output=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/veritalk"

    def _ctl(self, *args):
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-w", "-t", "60", *args]),
                       check=True, capture_output=True)

    def start(self):
        self._ctl("-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "-l",
                  str(self.dir / "log.txt"), "start")

    def restart(self):
        self._ctl("-m", "fast", "stop")
        self.start()

    def stop(self):
        try:
            self._ctl("-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass


class Redis:
    def __init__(self, base: Path):
        self.port = free_port()
        self.log = base / "redis.log"
        self.proc = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--logfile", str(self.log)])
        _wait_port(self.port)

    def restart(self):
        """Like a crash and a restart of a server that keeps nothing: every message is gone."""
        self.proc.kill()
        self.proc.wait()
        self.start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _wait_port(port: int, timeout: float = 30.0) -> None:
    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    wait_until(listening, timeout=timeout, interval=0.1, what=lambda: f"nothing listens on port {port}")


def procfile() -> dict[str, str]:
    """The Procfile's process lines by name."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


class Stack:
    """Start with `with Stack(workers=2) as stack:`; everything is stopped and removed after.
    `workers` generation workers and `intake_workers` intake workers; `web_workers` and
    `web_threads` override the Procfile's defaults (None keeps them)."""

    def __init__(self, *, workers: int = 2, intake_workers: int = 1, web_workers: int | None = None,
                 web_threads: int | None = None, lease_seconds: float = 8.0, reap_seconds: float = 3.0,
                 redispatch_seconds: float = 20.0, extra_env: dict | None = None):
        self.n_workers, self.n_intake = workers, intake_workers
        self.base = Path(tempfile.mkdtemp(prefix="veritalk-stack-"))
        self.env = dict(os.environ)
        self.env.update({
            "VERITALK_ENV": "development", "DJANGO_SECRET_KEY": "stack-" + os.urandom(24).hex(),
            "VERITALK_VAR_DIR": str(self.base / "var"), "VERITALK_SIGNING_DIR": str(self.base / "signing"),
            "VERITALK_JOB_LEASE_SECONDS": str(lease_seconds), "VERITALK_REAP_SECONDS": str(reap_seconds),
            "VERITALK_REDISPATCH_SECONDS": str(redispatch_seconds), "VERITALK_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1", "VERITALK_SERVER_TIMING": "1",
        })
        self.env.update({k: str(v) for k, v in {"WEB_WORKERS": web_workers, "WEB_THREADS": web_threads}.items()
                         if v is not None})
        self.env.update(extra_env or {})
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.lines = procfile()
        self.procs: dict[str, subprocess.Popen] = {}
        self.pg = self.redis = None

    # -- lifecycle --------------------------------------------------------------
    def __enter__(self) -> "Stack":
        try:
            self.pg = Postgres(self.base)
            self.redis = Redis(self.base)
            self.env.update({"DATABASE_URL": self.pg.url, "CELERY_BROKER_URL": self.redis.url})
            self.manage("migrate", "--noinput", "-v", "0")
            self.manage("init_signing")
            self.port = free_port()
            self.env["VERITALK_BIND"] = f"127.0.0.1:{self.port}"
            self.run_line("web", "web")
            for i in range(1, self.n_intake + 1):
                self.run_line(f"intake{i}", "intake")
            for i in range(1, self.n_workers + 1):
                self.start_worker(i)
            self.run_line("beat", "beat")
            _wait_port(self.port)
            return self
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def keep_logs(self, dest: Path) -> Path:
        """Copy the processes' logs out of the stack's folder before it is removed."""
        dest.mkdir(parents=True, exist_ok=True)
        for log in self.base.glob("*.log"):
            shutil.copy(log, dest / log.name)
        return dest

    def __exit__(self, *exc):
        for proc in self.procs.values():  # each process group: gunicorn's and the pools' children too
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for proc in self.procs.values():
            proc.wait()
        for svc in (self.redis, self.pg):
            if svc is not None:
                svc.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def spawn(self, name: str, cmd: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.base / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(cmd, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self.procs[name]

    def run_line(self, name: str, line: str) -> subprocess.Popen:
        """Run the Procfile's `line` as process `name` (honcho's process name: the workers'
        node names), with this interpreter's venv."""
        command = self.lines[line].strip().replace(".venv/bin/python", PY)
        command = command.replace(".venv/bin/gunicorn", f"{PY} -m gunicorn")
        return self.spawn(name, ["bash", "-c", f"exec {command}"], env={"HONCHO_PROCESS_NAME": name})

    def start_worker(self, i: int) -> subprocess.Popen:
        """Generation worker i (node name worker{i}@host)."""
        return self.run_line(f"worker{i}", "generation")

    def roles(self) -> dict[str, list[psutil.Process]]:
        """The processes of each role (the spawned process and its children), the database
        server (postmaster and backends) and the broker."""
        out: dict[str, list[psutil.Process]] = {}
        for name, proc in self.procs.items():
            role = {"worker": "generation", "intake": "intake"}.get(name.rstrip("0123456789"), name)
            try:
                root = psutil.Process(proc.pid)
                out.setdefault(role, []).extend([root, *root.children(recursive=True)])
            except psutil.NoSuchProcess:
                pass
        pid_file = self.pg.dir / "postmaster.pid" if self.pg else None
        if pid_file and pid_file.exists():
            root = psutil.Process(int(pid_file.read_text().split()[0]))
            out["postgres"] = [root, *root.children(recursive=True)]
        if self.redis and self.redis.proc:
            out["redis"] = [psutil.Process(self.redis.proc.pid)]
        return out

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) spent so far by each role, children that exited included."""
        totals: dict[str, float] = {}
        for role, procs in self.roles().items():
            seen = 0.0
            for proc in procs:
                try:
                    t = proc.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                seen += t.user + t.system + t.children_user + t.children_system
            totals[role] = round(seen, 2)
        return totals

    def kill(self, name: str) -> None:
        """SIGKILL the process (and its children): no shutdown, no acknowledgement."""
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def manage(self, *args: str) -> str:
        out = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {out.stderr[-2000:]}")
        return out.stdout

    def log(self, name: str) -> str:
        return (self.base / f"{name}.log").read_text(errors="replace")

    # -- data -------------------------------------------------------------------
    def seed(self, photo: Path, username: str = "load") -> dict:
        """A vetted creator with an API token and an enrolled, consenting subject."""
        script = (
            "import json; from pathlib import Path\n"
            "from accounts.models import User\n"
            "from rest_framework.authtoken.models import Token\n"
            "from consent.services import enrol_subject, grant_consent\n"
            f"u = User.objects.create_user(username={username!r}, password='load-pass-1', role='creator', "
            "vetted=True)\n"
            f"s = enrol_subject(creator=u, display_name='Load subject', "
            f"photo_bytes=Path({str(photo)!r}).read_bytes())\n"
            "grant_consent(subject=s, creator=u, purposes=['test'])\n"
            "print(json.dumps({'token': Token.objects.create(user=u).key, 'subject': s.pk}))\n")
        return json.loads(self.manage("shell", "-c", script).strip().splitlines()[-1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def submit(self, seed: dict, photo: Path, audio: Path, **controls) -> requests.Response:
        with open(photo, "rb") as p, open(audio, "rb") as a:
            return requests.post(self.url("/api/jobs/"), headers={"Authorization": f"Token {seed['token']}"},
                                 data={"subject": seed["subject"], "purpose": "test", **controls},
                                 files={"photo": p, "audio": a},
                                 timeout=120)

    def sql(self, query: str, *params) -> list[tuple]:
        with psycopg.connect(self.pg.url.replace("postgres://", "postgresql://"), connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    def wait_final(self, job_ids, timeout: float = 240.0) -> dict[str, str]:
        ids, rows = [str(j) for j in job_ids], {}

        def final():
            nonlocal rows
            try:
                rows = dict(self.sql("select id::text, status from jobs_job where id::text = any(%s)", ids))
            except Exception:
                rows = {}
            return rows if rows and len(rows) == len(ids) and all(
                s in ("succeeded", "failed", "denied", "cancelled") for s in rows.values()) else None
        return wait_until(final, timeout=timeout, interval=0.5,
                          what=lambda: f"jobs not final after {timeout:.0f} s: {rows}")

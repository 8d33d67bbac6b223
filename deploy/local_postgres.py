"""A local PostgreSQL for trying the production profile: one cluster in a folder (outputs/postgres
by default), listening on loopback only, run by a dedicated system user, never by root.

    python deploy/local_postgres.py start [--dir DIR] [--port 5433]   # `make postgres`
    python deploy/local_postgres.py stop  [--dir DIR]                 # `make postgres-stop`

`start` writes the Prefect database URL (postgresql+asyncpg://…, with a generated password) to
DIR/url, readable only by whoever ran it. A team's server uses its own PostgreSQL instead."""

from __future__ import annotations

import argparse
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
from pathlib import Path

DB_USER = "ngobrief-pg"  # the system account the cluster runs as when started by root
DB_ROLE = "prefect"      # the database role and database the Prefect server uses
DEFAULT_DIR = Path("outputs/postgres")
DEFAULT_PORT = 5433      # not 5432, so that it never meets a system cluster


class Failure(Exception):
    """One line for the user; the command exits 1."""


def bindir() -> Path:
    """Where initdb and pg_ctl are: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if versions:
        return versions[-1].parent
    raise Failure("PostgreSQL is not installed (no initdb): `make prod-setup` installs Debian's postgresql "
                  "when run as root; otherwise `sudo apt-get install postgresql`")


def account() -> pwd.struct_passwd:
    """The account the cluster runs as: the dedicated system user when we are root (PostgreSQL refuses
    root, and should), else whoever runs this."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(DB_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--comment", "ngobrief local PostgreSQL", DB_USER],
                       check=True, capture_output=True)
        return pwd.getpwnam(DB_USER)


def check_reachable(folder: Path, user: pwd.struct_passwd) -> None:
    """The cluster's user must be able to enter every folder above its own (pytest's and many home
    folders are closed to others): say which one is closed, instead of initdb's 'permission denied'."""
    for parent in reversed(folder.parents):
        if not parent.exists():  # created by us, open to all (mode 755 under the usual umask)
            break
        st = parent.stat()
        if st.st_uid == user.pw_uid:
            ok = st.st_mode & stat.S_IXUSR
        elif st.st_gid == user.pw_gid:
            ok = st.st_mode & stat.S_IXGRP
        else:
            ok = st.st_mode & stat.S_IXOTH
        if not ok:
            raise Failure(f"the database user {user.pw_name} cannot enter {parent} (mode {stat.filemode(st.st_mode)}): "
                          f"put the cluster in a folder it can reach (--dir)")


def run_as(user: pwd.struct_passwd, cmd: list, folder: Path, **kw) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "HOME": str(folder)}
    env.update(kw.pop("env", {}))
    switch = {} if os.geteuid() != 0 else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    return subprocess.run([str(c) for c in cmd], cwd=folder, env=env, capture_output=True, text=True, **switch, **kw)


def _check(res: subprocess.CompletedProcess, what: str, log: Path | None = None) -> None:
    if res.returncode != 0:
        tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
        if log and log.exists():
            tail += log.read_text(errors="replace").strip().splitlines()[-3:]
        raise Failure(f"{what} failed: " + " | ".join(tail))


def start(folder: Path, port: int) -> str:
    """Create the cluster (once), start it and its `prefect` database; return the database URL."""
    bins = bindir()
    user = account()
    folder = folder.absolute()
    check_reachable(folder, user)
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, user.pw_uid, user.pw_gid)
    folder.chmod(0o700)
    data, sockets, log = folder / "data", folder / "run", folder / "postgres.log"
    secret = folder / "password"
    if not (data / "PG_VERSION").exists():
        secret.write_text(secrets.token_hex(16) + "\n")
        secret.chmod(0o600)
        os.chown(secret, user.pw_uid, user.pw_gid)
        _check(run_as(user, [bins / "initdb", "-D", data, "-U", DB_ROLE, f"--pwfile={secret}", "-E", "UTF8",
                             "--no-locale", "--auth=scram-sha-256"], folder), "initdb")
        with open(data / "postgresql.conf", "a") as conf:
            conf.write("\ninclude_if_exists = 'ngobrief.conf'\n")
    sockets.mkdir(exist_ok=True)
    os.chown(sockets, user.pw_uid, user.pw_gid)
    settings = data / "ngobrief.conf"
    settings.write_text(f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{sockets}'\n")
    os.chown(settings, user.pw_uid, user.pw_gid)
    if run_as(user, [bins / "pg_ctl", "-D", data, "status"], folder).returncode != 0:
        _check(run_as(user, [bins / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "start"], folder),
               "starting PostgreSQL", log)
    password = secret.read_text().strip()
    made = run_as(user, [bins / "createdb", "-h", "127.0.0.1", "-p", port, "-U", DB_ROLE, DB_ROLE], folder,
                  env={"PGPASSWORD": password})
    if made.returncode != 0 and "already exists" not in made.stderr:
        _check(made, "creating the prefect database")
    url = f"postgresql+asyncpg://{DB_ROLE}:{password}@127.0.0.1:{port}/{DB_ROLE}"
    url_file = folder / "url"
    url_file.touch(mode=0o600)
    url_file.write_text(url + "\n")
    return url


def stop(folder: Path) -> bool:
    """Stop the cluster if it runs; True when it was running."""
    folder = folder.absolute()
    data = folder / "data"
    if not (data / "PG_VERSION").exists():
        return False
    owner = pwd.getpwuid(data.stat().st_uid)
    bins = bindir()
    if run_as(owner, [bins / "pg_ctl", "-D", data, "status"], folder).returncode != 0:
        return False
    _check(run_as(owner, [bins / "pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "60", "stop"], folder),
           "stopping PostgreSQL")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the cluster's folder (default outputs/postgres)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="loopback port (default 5433)")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            start(args.dir, args.port)
            print(f"PostgreSQL on 127.0.0.1:{args.port}, data in {args.dir}, running as {account().pw_name}.\n"
                  f"The Prefect server's database URL is in {args.dir / 'url'}:\n"
                  f"  export PREFECT_SERVER_DATABASE_CONNECTION_URL=\"$(cat {args.dir / 'url'})\"")
        else:
            print("PostgreSQL stopped" if stop(args.dir) else f"no PostgreSQL running in {args.dir}")
    except Failure as exc:
        print(f"local PostgreSQL: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

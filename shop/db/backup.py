"""Backups of the shop's records and of Rasa's tracker store, and their restore.

    python -m shop.db.backup backup  [--out var/backups]
    python -m shop.db.backup restore FOLDER [--force]

Each database is copied with its own engine's tool: SQLite with its online backup
API (a consistent copy while the assistant keeps writing), PostgreSQL with
`pg_dump --format=custom` and `pg_restore`. A backup is a folder with one file per
database and `manifest.json` (what was copied, from where, and the row counts of
conversations, tickets and ratings, which the restore checks). A restore refuses a
database that already holds data unless `--force`; nothing is half-written: SQLite is
restored into a temporary file first, PostgreSQL inside one transaction
(`--single-transaction`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from shop.config import settings

logger = logging.getLogger(__name__)

DEFAULT_OUT = settings.var_dir / "backups"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why (in Chinese)."""


def databases() -> Dict[str, str]:
    return {"records": settings.database_url, "tracker": settings.tracker_store_url}


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError(f"无法备份内存数据库：{url}")
    return Path(url.database)


def _libpq_url(url: URL) -> str:
    """The URL as pg_dump understands it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_env(url: URL) -> Dict[str, str]:
    return {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}


def counts(url: str) -> Dict[str, int]:
    """Rows of the tables a restore must find again (conversations: distinct senders)."""
    engine = create_engine(url, future=True)
    try:
        tables = set(inspect(engine).get_table_names())
        found: Dict[str, int] = {}
        with engine.connect() as connection:
            for table in ("tickets", "ratings", "orders", "events"):
                if table in tables:
                    found[table] = int(connection.execute(
                        text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
            if "events" in tables:
                found["conversations"] = int(connection.execute(
                    text("SELECT COUNT(DISTINCT sender_id) FROM events")).scalar_one())
        return found
    finally:
        engine.dispose()


def _backup_one(name: str, url_text: str, folder: Path) -> Dict[str, object]:
    url = make_url(url_text)
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():  # e.g. no conversation yet: nothing to copy, said so
            logger.info("Backup: %s has no database file yet (%s)", name, source)
            return {"file": None, "backend": "sqlite", "source": str(url), "counts": {}}
        target = folder / f"{name}.sqlite3"
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
    elif url.get_backend_name() == "postgresql":
        target = folder / f"{name}.dump"
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}",
                        _libpq_url(url)], check=True, env=_pg_env(url),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    else:
        raise BackupError(f"不支持的数据库类型：{url.get_backend_name()}")
    return {"file": target.name, "backend": url.get_backend_name(),
            "source": url.render_as_string(hide_password=True), "counts": counts(url_text)}


def backup(out: Path = DEFAULT_OUT, now: Optional[datetime] = None,
           urls: Optional[Dict[str, str]] = None) -> Path:
    """Writes a new backup folder under `out` and returns it."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    working = Path(tempfile.mkdtemp(prefix=f".{stamp}-", dir=out))
    try:
        manifest = {"created": stamp,
                    "databases": {n: _backup_one(n, u, working)
                                  for n, u in (urls or databases()).items()}}
        (working / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        final = out / stamp
        os.replace(working, final)  # a backup folder is either complete or absent
        return final
    except BaseException:
        shutil.rmtree(working, ignore_errors=True)
        raise


def _has_data(url_text: str) -> bool:
    return any(counts(url_text).values())


def _restore_one(name: str, entry: Dict[str, object], folder: Path, url_text: str,
                 force: bool) -> None:
    url = make_url(url_text)
    if entry["file"] is None:
        return  # the database did not exist when the backup was made
    source = folder / str(entry["file"])
    if entry["backend"] != url.get_backend_name():
        raise BackupError(f"{name}：备份来自 {entry['backend']}，目标是 {url.get_backend_name()}")
    if url.get_backend_name() == "sqlite" and _sqlite_path(url).exists() and not force \
            and _has_data(url_text):
        raise BackupError(f"{name} 数据库已有数据，如确认覆盖请加 --force")
    if url.get_backend_name() == "postgresql" and not force and _has_data(url_text):
        raise BackupError(f"{name} 数据库已有数据，如确认覆盖请加 --force")
    if url.get_backend_name() == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".restoring")
        os.close(handle)
        try:
            with sqlite3.connect(source) as src, sqlite3.connect(temporary) as dst:
                src.backup(dst)
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        for suffix in ("-wal", "-shm"):  # a stale log must not be replayed onto it
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    else:
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner",
                        "--single-transaction", f"--dbname={_libpq_url(url)}", str(source)],
                       check=True, env=_pg_env(url), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)


def restore(folder: Path, force: bool = False,
            urls: Optional[Dict[str, str]] = None) -> Dict[str, Dict[str, int]]:
    """Restores every database of the backup; returns the counts found after it."""
    manifest_file = folder / "manifest.json"
    if not manifest_file.exists():
        raise BackupError(f"不是一个完整的备份目录：{folder}")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    targets = urls or databases()
    found: Dict[str, Dict[str, int]] = {}
    for name, entry in manifest["databases"].items():
        _restore_one(name, entry, folder, targets[name], force)
        if entry["file"] is None:
            continue
        found[name] = counts(targets[name])
        if found[name] != entry["counts"]:
            raise BackupError(f"{name} 恢复后的数据与备份不一致：{found[name]} ≠ {entry['counts']}")
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup")
    make.add_argument("--out", type=Path, default=DEFAULT_OUT)
    back = commands.add_parser("restore")
    back.add_argument("folder", type=Path)
    back.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            folder = backup(args.out)
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            lines: List[str] = [f"备份完成：{folder}"]
            lines += [f"  {n}: {e['counts']}" for n, e in manifest["databases"].items()]
        else:
            lines = [f"恢复完成：{args.folder}"]
            lines += [f"  {n}: {c}" for n, c in restore(args.folder, args.force).items()]
    except BackupError as error:
        print(f"未完成：{error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        logger.error("%s failed: %s", error.cmd[0], (error.stderr or b"").decode(errors="replace"))
        print(f"未完成：{error.cmd[0]} 执行失败，详见日志", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

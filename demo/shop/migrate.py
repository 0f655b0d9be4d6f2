"""The demo shop's database migrations: ordered, recorded, and safe to run any number of times.

``python migrate.py --env-file shared/.env`` (or ``--db PATH``) applies the migrations the
database has not recorded yet in ``schema_migrations`` and prints one JSON line:
``{"changed": bool, "applied": [...], "before": FP, "after": FP}``, where FP fingerprints
the schema and the migration records. Every migration is itself idempotent
(``IF NOT EXISTS``), so even a crash between a migration and its record is harmless.

Also home of ``read_env_file``, shared with app.py (stdlib only: runs without aiohttp).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import time

import seed

MIGRATIONS = (
    ("001_orders", """
        CREATE TABLE IF NOT EXISTS orders (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at TEXT NOT NULL,
            request_id TEXT NOT NULL,
            email TEXT,
            items TEXT NOT NULL,
            total_cents INTEGER NOT NULL
        )"""),
    ("002_sessions", """
        CREATE TABLE IF NOT EXISTS sessions (
            token_hash TEXT PRIMARY KEY,
            email TEXT NOT NULL,
            created_at REAL NOT NULL
        )"""),
    ("003_orders_created_at_index", "CREATE INDEX IF NOT EXISTS orders_created_at ON orders (created_at)"),
    # The seeded test customers (seed.py) and the orders the chatbot answers about.
    ("004_customers", """
        CREATE TABLE IF NOT EXISTS customers (
            email TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            name TEXT NOT NULL,
            address TEXT NOT NULL,
            phone TEXT NOT NULL,
            card_last4 TEXT NOT NULL
        )"""),
    ("005_customer_orders", """
        CREATE TABLE IF NOT EXISTS customer_orders (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL,
            status TEXT NOT NULL,
            total_cents INTEGER NOT NULL
        )"""),
)
REQUIRED_TABLES = ("orders", "sessions")


def read_env_file(path: str) -> dict:
    """NAME="value" (JSON string) or NAME=value lines; comments and blank lines skipped."""
    out = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            name, _eq, raw = line.partition("=")
            raw = raw.strip()
            if raw.startswith('"'):
                try:
                    raw = json.loads(raw)
                except ValueError:
                    raw = raw.strip('"')
            out[name.strip()] = raw
    return out


def connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, timeout=5)
    db.execute("PRAGMA journal_mode=WAL")
    return db


def fingerprint(db: sqlite3.Connection) -> str:
    schema = db.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                        "ORDER BY type, name").fetchall()
    applied = []
    if any(name == "schema_migrations" for _type, name, _sql in schema):
        applied = db.execute("SELECT id FROM schema_migrations ORDER BY id").fetchall()
    return hashlib.sha256(json.dumps([schema, applied]).encode()).hexdigest()[:16]


def migrate(path: str, seed_file: str | None = None) -> dict:
    """Apply the pending migrations, then seed the test customers when ``seed_file`` is given."""
    db = connect(path)
    try:
        before = fingerprint(db)
        with db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {row[0] for row in db.execute("SELECT id FROM schema_migrations")}
        applied = []
        for ident, sql in MIGRATIONS:
            if ident in done:
                continue
            with db:
                db.execute(sql)
                db.execute("INSERT OR IGNORE INTO schema_migrations (id, applied_at) VALUES (?, ?)",
                           (ident, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
            applied.append(ident)
        after = fingerprint(db)
        seeded = seed.seed(db, seed.read_passwords(seed_file)) if seed_file else []
    finally:
        db.close()
    return {"changed": before != after or bool(seeded), "applied": applied, "before": before, "after": after,
            "seeded": len(seeded)}


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description="Apply the shop's database migrations.")
    parser.add_argument("--db", help="SQLite file (default: SHOP_DB from the environment or --env-file)")
    parser.add_argument("--env-file", help="the app's environment file")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.env_file:
        env.update(read_env_file(args.env_file))
    path = args.db or env.get("SHOP_DB")
    if not path:
        parser.error("no database: pass --db or set SHOP_DB")
    seed_file = env.get("SHOP_SEED_CUSTOMERS_FILE") or None
    sys.stdout.write(json.dumps(migrate(path, seed_file), sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

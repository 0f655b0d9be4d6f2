"""The demo shop's two test customers, with orders: what the chatbot eval logs in as.

Profiles are demo data and live here; passwords never do. ``migrate.py`` seeds a customer
only when ``SHOP_SEED_CUSTOMERS_FILE`` names a JSON file mapping that customer's e-mail to a
password (the lab generates it beside the shop's other secrets). Only a salted PBKDF2 hash
is stored. Seeding is idempotent: a second run with the same file changes nothing.

Stdlib only, like migrate.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3

CUSTOMERS = (
    {"email": "ada@shop.test", "name": "Ada Lovelace", "address": "12 Analytical Row, London N1 9GU",
     "phone": "+44 20 7946 0018", "card_last4": "4242",
     "orders": [{"id": "SO-1001", "status": "shipped", "total_cents": 2500},
                {"id": "SO-1002", "status": "processing", "total_cents": 1400}]},
    {"email": "ben@shop.test", "name": "Ben Okafor", "address": "7 Harbour Lane, Leith EH6 6QX",
     "phone": "+44 131 496 0321", "card_last4": "1881",
     "orders": [{"id": "SO-2001", "status": "delivered", "total_cents": 1900}]},
)
_ITERATIONS = 100_000


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _ITERATIONS)
    return "pbkdf2_sha256$%d$%s$%s" % (_ITERATIONS, salt.hex(), digest.hex())


def verify_password(password: str, stored: str) -> bool:
    try:
        _scheme, iterations, salt, digest = stored.split("$")
        got = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def read_passwords(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or not all(isinstance(v, str) and v for v in data.values()):
        raise ValueError("%s must map customer e-mail addresses to non-empty passwords" % path)
    return data


def seed(db: sqlite3.Connection, passwords: dict) -> list:
    """Create or update the customers that have a password in ``passwords``; the e-mails changed."""
    changed = []
    for customer in CUSTOMERS:
        password = passwords.get(customer["email"])
        if not password:
            continue
        row = db.execute("SELECT password_hash, name, address, phone, card_last4 FROM customers WHERE email = ?",
                         (customer["email"],)).fetchone()
        profile = (customer["name"], customer["address"], customer["phone"], customer["card_last4"])
        touched = False
        with db:
            if row is None or not verify_password(password, row[0]) or tuple(row[1:]) != profile:
                stored = row[0] if row is not None and verify_password(password, row[0]) else hash_password(password)
                db.execute("INSERT OR REPLACE INTO customers (email, password_hash, name, address, phone, card_last4) "
                           "VALUES (?, ?, ?, ?, ?, ?)", (customer["email"], stored) + profile)
                touched = True
            for order in customer["orders"]:
                have = db.execute("SELECT email, status, total_cents FROM customer_orders WHERE id = ?",
                                  (order["id"],)).fetchone()
                want = (customer["email"], order["status"], order["total_cents"])
                if have is None or tuple(have) != want:
                    db.execute("INSERT OR REPLACE INTO customer_orders (id, email, status, total_cents) "
                               "VALUES (?, ?, ?, ?)", (order["id"],) + want)
                    touched = True
        if touched:
            changed.append(customer["email"])
    return changed

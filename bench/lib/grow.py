#!/usr/bin/env python3
"""Grows a stopped server's SQLite store with realistic rows, for the growth mode.

    grow.py DB_PATH FROM TO CLIENT_ID

Adds TO-FROM rows to each of credentials, refresh_tokens, auth_codes and revoked_access_tokens,
plus one token family per 10 refresh tokens and one account (with its personal tenant) per 20
credentials, so every foreign key points at a real row. Values mimic what the server writes:
64-hex keyed hashes, uuid-v7 ids, second timestamps, most refresh tokens rotated (chains of 10),
most codes spent, a tenth of credentials revoked. Rows the server's expiry purge would remove
are not inserted (codes are kept an hour past expiry, refresh tokens and revoked jtis until they
expire), and none would go within 40 minutes, so the store keeps its size for the whole run.
Deterministic seed per step, so reruns build the same store.
"""
import base64
import json
import os
import random
import sqlite3
import string
import sys
import time

B62 = string.digits + string.ascii_letters


def main():
    db_path, lo, hi, client_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    n = hi - lo
    if n <= 0:
        return
    rnd = random.Random(hi)
    now = int(time.time())

    def hexhash():
        return rnd.getrandbits(256).to_bytes(32, "big").hex()

    def uuid7(at):
        # RFC 9562 v7: 48-bit milliseconds, version 7, variant 10, random rest.
        v = (at * 1000 + rnd.randrange(1000)) << 80 | 7 << 76 | rnd.getrandbits(12) << 64 \
            | 2 << 62 | rnd.getrandbits(62)
        h = f"{v:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def past(days=180):
        return now - rnd.randrange(1, days * 86400)

    def word(k):
        return "".join(rnd.choice(B62) for _ in range(k))

    def b64(k):  # long random strings, cheaper than a choice per character
        return base64.urlsafe_b64encode(rnd.randbytes(k)).decode()[:k]

    db = sqlite3.connect(db_path)
    # The store is a throwaway benchmark copy and the server is stopped: trade durability for speed.
    db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;")
    t0 = time.time()

    users = []
    for _ in range(max(1, n // 20)):
        at = past()
        uid, tid = uuid7(at), uuid7(at)
        users.append((uid, tid))
    db.executemany("INSERT INTO users (id, email, name, password_hash, is_admin, created_at, updated_at,"
                   " active_tenant_id) VALUES (?,?,?,?,0,?,?,?)",
                   ((u, f"user-{u[:8]}{u[-12:]}@example.com", f"User {u[-6:]}",
                     f"$argon2id$v=19$m=19456,t=2,p=1${b64(22)}${b64(43)}", now - 200 * 86400, now - 200 * 86400, t)
                    for u, t in users))
    db.executemany("INSERT INTO tenants (id, name, personal_user_id, created_at) VALUES (?,?,?,?)",
                   ((t, f"User {u[-6:]}'s workspace", u, now - 200 * 86400) for u, t in users))
    db.executemany("INSERT INTO tenant_members (tenant_id, user_id, role, created_at) VALUES (?,?,'admin',?)",
                   ((t, u, now - 200 * 86400) for u, t in users))

    def credentials():
        for i in range(n):
            uid, tid = users[i % len(users)]
            at = past()
            slot = (i // len(users)) % 20  # each account: 1 personal token, 6 PATs, 13 API keys
            if slot == 0:
                kind, prefix, perms, env, exp = "personal_token", "pt_", "", None, None
            elif slot <= 6:
                kind, prefix, perms, env = "personal_access_token", "sk-", "", None
                exp = at + rnd.choice([30, 90, 365]) * 86400
            else:
                kind, env = "api_key", rnd.choice(["live", "live", "live", "test"])
                prefix = f"ck_{env}_"
                perms = " ".join(p for p in ("read", "write", "delete", "admin") if rnd.random() < 0.5) or "read"
                exp = at + 365 * 86400 if rnd.random() < 0.3 else None
            ips = '["203.0.113.0/24"]' if kind == "api_key" and rnd.random() < 0.1 else "[]"
            used = rnd.randrange(at, now) if rnd.random() < 0.7 else None
            yield (uuid7(at), uid, tid, kind, f"{kind.replace('_', ' ')} {i}", prefix + word(4), hexhash(),
                   perms, env, exp, ips, at, used, "127.0.0.1" if used else None,
                   at + 86400 if rnd.random() < 0.1 else None)
    db.executemany("INSERT INTO credentials (id, user_id, tenant_id, kind, name, prefix, secret_hash,"
                   " permissions, environment, expires_at, allowed_ips, created_at, last_used_at,"
                   " last_used_ip, revoked_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", credentials())

    families = []
    for i in range(max(1, n // 10)):
        at = past(20)  # + up to 9 hours of rotations: every refresh token has > 9 days left
        families.append((uuid7(at), users[i % len(users)][0], at))
    db.executemany("INSERT INTO token_families (id, client_id, user_id, scope, created_at, revoked_at)"
                   " VALUES (?,?,?,'read write',?,?)",
                   ((f, client_id, u, at, at + 3600 if rnd.random() < 0.05 else None) for f, u, at in families))

    def refresh_tokens():
        for i in range(n):
            fid, uid, at = families[i // 10 % len(families)]
            created = at + (i % 10) * 3600
            last = i % 10 == 9  # the newest of each chain of 10 is the live one
            yield (hexhash(), fid, client_id, uid, "read write", created + 30 * 86400,
                   None if last else created + 3600, created)
    db.executemany("INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scope, expires_at,"
                   " rotated_at, created_at) VALUES (?,?,?,?,?,?,?,?)", refresh_tokens())

    def auth_codes():
        for i in range(n):
            fid, uid, at = families[i % len(families)]
            ext = json.dumps([{"key": "pkce", "private": True, "value": b64(43) + "S"}],
                             separators=(",", ":"))
            at = now - rnd.randrange(60, 660)  # expired at most 10 minutes ago: purged after an hour
            yield (hexhash(), client_id, uid, "http://127.0.0.1:9/cb", "read write", ext, at + 60,
                   at + rnd.randrange(1, 30) if rnd.random() < 0.95 else None, fid, at)
    db.executemany("INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, scope, extensions,"
                   " expires_at, consumed_at, family_id, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)", auth_codes())

    # Revoked jtis are kept until the token would have expired: within the access-token lifetime.
    db.executemany("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (?,?)",
                   ((uuid7(now - rnd.randrange(1200)), now + rnd.randrange(2400, 3600)) for _ in range(n)))
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print(f"grow: +{n} rows per token table ({len(users)} accounts, {len(families)} families) "
          f"in {time.time() - t0:.1f} s; file {os.path.getsize(db_path) / 1e6:.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()

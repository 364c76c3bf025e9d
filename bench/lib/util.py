#!/usr/bin/env python3
"""Small helpers for run.sh, one subcommand each (kept out of bash because they parse JSON or
need exact arithmetic):

    util.py port                              a free loopback TCP port
    util.py get FILE KEY                      a top-level value of a JSON file
    util.py opt FILE KEY                      the same, or nothing when the key is absent
    util.py quote STRING                      application/x-www-form-urlencoded value
    util.py path URL                          the path of a URL (the peer's endpoints, from its metadata)
    util.py pairs N CHALLENGES VERIFIERS      N PKCE S256 pairs, line i of each file belongs together
    util.py merge VERIFIERS OUT_PREFIX N      minted "state code" lines -> "code verifier" lines
    util.py row KEY=VALUE...                  one result row (JSON) from a wrk summary and /proc samples
    util.py skip KEY=VALUE...                 a row for a scenario that could not be measured, and why
    util.py active FILE                       exit 0 if FILE is JSON with "active": true
    util.py machine                           the machine description (JSON)
    util.py pgurl URL NAME                    URL with its database (path) replaced by NAME
"""
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # importing seed.py must leave no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def pairs(n, challenges, verifiers):
    from seed import pkce
    with open(challenges, "w") as c, open(verifiers, "w") as v:
        for _ in range(int(n)):
            ver, chal = pkce()
            c.write(chal + "\n")
            v.write(ver + "\n")


def merge(verifiers, prefix, nthreads):
    vers = open(verifiers).read().split()
    codes = {}
    for t in range(int(nthreads)):
        path = f"{prefix}.{t}"
        if os.path.exists(path):
            for line in open(path):
                parts = line.split()
                if len(parts) == 2 and parts[0].isdigit():
                    codes.setdefault(int(parts[0]), urllib.parse.unquote(parts[1]))
    # Oldest first: the exchange run then spends codes in the order they were minted.
    for i in sorted(codes):
        print(codes[i], vers[i])


def row(args):
    a = dict(x.split("=", 1) for x in args)
    w = json.load(open(a["wrk"]))
    n = w["requests"]
    secs = w["duration_us"] / 1e6
    cpu = (int(a["cpu1"]) - int(a["cpu0"])) / int(a["tck"])
    socket_errors = sum(w[k] for k in ("errors_connect", "errors_read", "errors_write", "errors_timeout"))
    bad = w["non2xx"] if w["non2xx_counted"] else w["errors_status"]
    flow = "flows" in w  # lib/flow.lua: two requests per flow, every answer checked
    problems = []
    if not re.fullmatch(r"2\d\d", a.get("probe", "200")):
        problems.append(f"probe answered {a['probe']}")
    if flow and w["bad_authorize"]:
        problems.append(f"{w['bad_authorize']} authorization answers without a code")
    if flow and w["bad_exchange"]:
        problems.append(f"{w['bad_exchange']} failed exchanges")
    if bad and not flow:
        problems.append(f"{bad} non-2xx")
    if flow and n and not w["flows"]:
        problems.append("no completed flows")
    if socket_errors:
        problems.append(f"{socket_errors} socket errors")
    if w["exhausted"]:
        problems.append(f"ran out of single-use secrets after {w['secrets_used']}; "
                        f"{w['exhausted']} GET /livez fillers: rate not valid")
    if n == 0:
        problems.append("no responses")
    out = {
        "scenario": a["scenario"], "target": a["target"], "step": int(a.get("step", 0)),
        "requests": n, "seconds": round(secs, 2), "rps": round(n / secs, 1) if secs else 0,
        "p50_ms": round(w["p50_us"] / 1000, 2), "p90_ms": round(w["p90_us"] / 1000, 2),
        "p99_ms": round(w["p99_us"] / 1000, 2), "max_ms": round(w["max_us"] / 1000, 1),
        "non2xx": bad, "non2xx_exact": w["non2xx_counted"], "socket_errors": socket_errors,
        "secrets_used": w["secrets_used"],
        "cpu_ms_per_req": round(1000 * cpu / n, 3) if n else None,
        "cpu_cores": round(cpu / secs, 2) if secs else None,
        "peak_rss_mb": round(int(a["hwm_kb"]) * 1024 / 1e6, 1),
        "hwm_reset": a.get("hwm_reset") == "1",
        "concurrency": int(a["c"]), "threads": int(a["t"]), "nodes": int(a.get("nodes", 1)),
        "ok": not problems, "problems": problems, "note": a.get("note", ""),
    }
    if a.get("tokens"):
        out["tokens"] = a["tokens"]  # the peer's PEER_AT_FORMAT
    if flow:
        out.update(flows=w["flows"], flows_per_s=round(w["flows"] / secs, 1) if secs else 0,
                   cpu_ms_per_flow=round(1000 * cpu / w["flows"], 3) if w["flows"] else None)
    print(json.dumps(out))


def skip(args):
    """A row that stands for a scenario that was not measured: the report shows the reason where
    the figures would be, and no target can pass on it."""
    a = dict(x.split("=", 1) for x in args)
    print(json.dumps({"scenario": a["scenario"], "target": a["target"], "step": int(a.get("step", 0)),
                      "skipped": a["reason"], "ok": True, "problems": [],
                      **({"tokens": a["tokens"]} if a.get("tokens") else {})}))


def active(path):
    """Introspection answered with an active token (RFC 7662 §2.2); a 200 with active:false or an
    error body means the load would measure refusals."""
    try:
        sys.exit(0 if json.load(open(path)).get("active") is True else 1)
    except (ValueError, AttributeError):
        sys.exit(1)


def machine():
    def cmd(*c):
        try:
            return subprocess.run(c, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "unknown"
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
    mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    print(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "nproc": os.cpu_count(), "cpu": model, "memory_gb": round(mem_kb / 1e6, 1),
        "kernel": platform.release(), "rustc": cmd("rustc", "--version"),
        "wrk": cmd("sh", "-c", "wrk -v 2>&1 | head -1").split(" Copyright")[0],
        "node": cmd("node", "--version"), "python": platform.python_version(),
        "loadavg": open("/proc/loadavg").read().split()[:3],
        # rev-parse only: it never touches the index, so it cannot race a concurrent commit.
        "commit": cmd("git", "-C", root, "rev-parse", "--short", "HEAD"),
    }))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "port":
        port()
    elif cmd in ("get", "opt"):
        d = json.load(open(args[0]))
        if cmd == "get" or args[1] in d:
            v = d[args[1]]
            print(v if isinstance(v, str) else json.dumps(v))
    elif cmd == "path":
        print(urllib.parse.urlsplit(args[0]).path)
    elif cmd == "quote":
        print(urllib.parse.quote(args[0], safe=""))
    elif cmd == "pairs":
        pairs(*args)
    elif cmd == "merge":
        merge(*args)
    elif cmd == "row":
        row(args)
    elif cmd == "skip":
        skip(args)
    elif cmd == "active":
        active(args[0])
    elif cmd == "machine":
        machine()
    elif cmd == "pgurl":
        print(urllib.parse.urlsplit(args[0])._replace(path="/" + args[1]).geturl())
    else:
        sys.exit(f"unknown subcommand {cmd}")


if __name__ == "__main__":
    main()

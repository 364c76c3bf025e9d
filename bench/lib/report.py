#!/usr/bin/env python3
"""Turns result rows (rows.jsonl, one JSON object per measured run; see util.py row) into the
progress lines, the smoke verdict, bench/results/*.json and bench/RESULTS.md.

    report.py line ROWS                       the newest row, one line, to stderr
    report.py rps ROWS SCENARIO TARGET STEP   a row's requests/s ("" when absent)
    report.py check ROWS                      smoke verdict: exit 1 unless every row is clean
    report.py tables DB STEP                  row counts and file size of the store (JSON)
    report.py save MODE ROWS MACHINE OUT K=V...   one run's results as JSON
    report.py render RESULTS_DIR RESULTS_MD   RESULTS.md from results/{normal,growth,nodes}.json
"""
import json
import os
import sqlite3
import sys

LABELS = {
    "livez": "baseline: GET /livez",
    "client_credentials": "client_credentials: POST /oauth/token",
    "authorization_code": "authorization_code + PKCE: POST /oauth/token",
    "refresh_token": "refresh_token rotation: POST /oauth/token",
    "introspection": "introspection: POST /oauth/introspect",
    "me_api_key": "GET /v1/users/me, API key",
    "me_jwt": "GET /v1/users/me, JWT access token",
    "login_personal_token": "POST /api/v0/login, personal token",
}
TOKEN_TABLES = ["credentials", "refresh_tokens", "token_families", "revoked_access_tokens", "auth_codes", "users",
                "audit_events"]
P99_MS, RSS_MB, PEER_X, API_KEY_OF_BASE, KEEP_AT_1M = 5.0, 50.0, 10.0, 0.5, 0.8


def rows_of(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def health(r):
    return "ok" if r["ok"] else "**ERRORS: " + "; ".join(r["problems"]) + "**"


def line(r):
    return (f"  {r['scenario']:<22} {r['target']:<10} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']:>6.2f} ms  "
            f"p99 {r['p99_ms']:>6.2f} ms  cpu {r['cpu_ms_per_req'] or 0:.3f} ms/req  "
            f"rss {r['peak_rss_mb']:.1f} MB  {'ok' if r['ok'] else 'ERRORS: ' + '; '.join(r['problems'])}")


def table(rows):
    out = ["| scenario | req/s | p50 ms | p99 ms | server CPU ms/req | server CPU (cores) | peak RSS MB | responses |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        out.append(f"| {LABELS.get(r['scenario'], r['scenario'])} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                   f"{r['p99_ms']:.2f} | {r['cpu_ms_per_req'] or 0:.3f} | {r['cpu_cores'] or 0:.2f} | {r['peak_rss_mb']:.1f} | "
                   f"{health(r)} |")
    return out


def find(rows, scenario, target="portcullis", step=0):
    return next((r for r in rows if r["scenario"] == scenario and r["target"] == target and r["step"] == step), None)


def verdict(ok):
    return "PASS" if ok else "MISS"


def targets(normal, growth):
    """One (result, target, measured) per line; errors never pass."""
    lines = []
    if normal:
        rows = normal["rows"]
        for sc in ("client_credentials", "introspection"):
            p, q = find(rows, sc), find(rows, sc, "peer")
            if p and q:
                x = p["rps"] / q["rps"] if q["rps"] else 0
                lines.append((verdict(x >= PEER_X and p["ok"] and q["ok"]), f"{sc} ≥ {PEER_X:.0f}× the peer's req/s",
                              f"{x:.1f}× ({p['rps']:,.0f} vs {q['rps']:,.0f} req/s)"))
            else:
                lines.append(("n/a", f"{sc} ≥ {PEER_X:.0f}× the peer's req/s", "peer not measured"))
        k, b = find(rows, "me_api_key"), find(rows, "livez")
        if k and b:
            x = k["rps"] / b["rps"] if b["rps"] else 0
            lines.append((verdict(x >= API_KEY_OF_BASE and k["ok"] and b["ok"]), "GET /v1/users/me (API key) ≥ 50% of baseline",
                          f"{100 * x:.0f}% ({k['rps']:,.0f} vs {b['rps']:,.0f} req/s)"))
        for r in rows:
            if r["target"] == "portcullis":
                lines.append((verdict(r["p99_ms"] <= P99_MS and r["ok"]), f"p99 ≤ {P99_MS:g} ms: {r['scenario']}",
                              f"{r['p99_ms']:.2f} ms" + ("" if r["ok"] else " (with errors)")))
        mine = [r for r in rows if r["target"] == "portcullis"]
        if mine:
            peak = max(mine, key=lambda r: r["peak_rss_mb"])
            lines.append((verdict(peak["peak_rss_mb"] <= RSS_MB), f"peak RSS ≤ {RSS_MB:g} MB",
                          f"{peak['peak_rss_mb']:.1f} MB (during {peak['scenario']})"))
    if growth:
        rows = growth["rows"]
        top = max(r["step"] for r in rows)
        if top >= 1_000_000:
            for r in rows:
                if r["step"] == top:
                    base = find(rows, r["scenario"])
                    x = r["rps"] / base["rps"] if base and base["rps"] else 0
                    cpu = (r["cpu_ms_per_req"] or 0) / base["cpu_ms_per_req"] if base and base["cpu_ms_per_req"] else 0
                    lines.append((verdict(x >= KEEP_AT_1M and r["ok"]), f"≥ 80% of empty-store req/s at {top:,} rows: {r['scenario']}",
                                  f"{100 * x:.0f}% (server CPU per request: {100 * cpu:.0f}% of empty-store)"))
        else:
            lines.append(("n/a", "≥ 80% of empty-store req/s at 1,000,000 rows", f"largest step measured: {top:,}"))
    else:
        lines.append(("n/a", "≥ 80% of empty-store req/s at 1,000,000 rows", "growth mode not run"))
    return lines


def machine_line(m, c):
    return (f"{m['date']} · {m['nproc']} CPUs ({m['cpu']}) · {m['memory_gb']} GB RAM · Linux {m['kernel']} · "
            f"{m['rustc']} · {m['wrk']} · node {m['node']} · commit {m['commit']} · load average at start "
            f"{' '.join(m['loadavg'])} · wrk {c['threads']} threads, {c['concurrency']} connections, "
            f"{c['duration']} s per scenario after a {c['warmup']} s warm-up")


def normal_section(n):
    rows = n["rows"]
    out = ["## All scenarios, empty store", "", machine_line(n["machine"], n["config"]), ""]
    out += table([r for r in rows if r["target"] == "portcullis"])
    peer = [r for r in rows if r["target"] == "peer"]
    out += ["", "### Against the peer (node-oidc-provider, opaque tokens)", ""]
    if not peer:
        out.append("The peer was not measured in this run.")
    else:
        out += ["| scenario | Portcullis req/s | peer req/s | Portcullis/peer | Portcullis CPU ms/req | peer CPU ms/req | peer p99 ms | peer peak RSS MB | peer responses |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        for q in peer:
            p = find(rows, q["scenario"])
            ratio = f"{p['rps'] / q['rps']:.1f}×" if p and q["rps"] else "n/a"
            out.append(f"| {q['scenario']} | {p['rps'] if p else 0:,.0f} | {q['rps']:,.0f} | {ratio} | "
                       f"{(p['cpu_ms_per_req'] if p else 0) or 0:.3f} | {q['cpu_ms_per_req'] or 0:.3f} | {q['p99_ms']:.2f} | "
                       f"{q['peak_rss_mb']:.1f} | {health(q)} |")
    return out


def growth_section(g):
    rows, steps = g["rows"], sorted({r["step"] for r in g["rows"]})
    name = lambda s: "empty" if s == 0 else f"{s:,}"
    out = ["## Growth: throughput as the store grows", "", machine_line(g["machine"], g["config"]), "",
           "Each step adds rows straight into the stopped server's SQLite file (`bench/lib/grow.py`), then "
           "restarts it on the same store. Percentages are of the same scenario's empty-store req/s.", "",
           "| scenario | " + " | ".join(name(s) for s in steps) + " |", "|---|" + "---:|" * len(steps)]
    for sc in dict.fromkeys(r["scenario"] for r in rows):
        base = find(rows, sc)
        cells = []
        for s in steps:
            r = find(rows, sc, step=s)
            if not r:
                cells.append("–")
            elif s == 0:
                cells.append(f"{r['rps']:,.0f} req/s" + ("" if r["ok"] else " ⚠"))
            else:
                cells.append(f"{100 * r['rps'] / base['rps']:.0f}%" + ("" if r["ok"] else " ⚠") if base and base["rps"] else "?")
        out.append(f"| {LABELS.get(sc, sc)} | " + " | ".join(cells) + " |")
    out += ["", "Server CPU per request (ms; less sensitive than req/s to whatever else the machine runs):", "",
            "| scenario | " + " | ".join(name(s) for s in steps) + " |", "|---|" + "---:|" * len(steps)]
    for sc in dict.fromkeys(r["scenario"] for r in rows):
        cells = [(lambda r: f"{r['cpu_ms_per_req'] or 0:.3f}" if r else "–")(find(rows, sc, step=s)) for s in steps]
        out.append(f"| {sc} | " + " | ".join(cells) + " |")
    out += ["", "p99 latency (ms) and peak RSS (MB) per step:", "",
            "| scenario | " + " | ".join(name(s) for s in steps) + " |", "|---|" + "---:|" * len(steps)]
    for sc in dict.fromkeys(r["scenario"] for r in rows):
        cells = [(lambda r: f"{r['p99_ms']:.2f} / {r['peak_rss_mb']:.0f}" if r else "–")(find(rows, sc, step=s)) for s in steps]
        out.append(f"| {sc} | " + " | ".join(cells) + " |")
    bad = [r for r in rows if not r["ok"]]
    if bad:
        out += ["", "Runs with errors (⚠): " + "; ".join(f"{r['scenario']} at {name(r['step'])}: {', '.join(r['problems'])}" for r in bad)]
    if g.get("steps"):
        out += ["", "Rows in the store when each step started:", "",
                "| step | " + " | ".join(TOKEN_TABLES) + " | file MB |", "|---|" + "---:|" * (len(TOKEN_TABLES) + 1)]
        for s in g["steps"]:
            out.append(f"| {name(s['step'])} | " + " | ".join(f"{s['counts'].get(t, 0):,}" for t in TOKEN_TABLES) + f" | {s['db_mb']:.1f} |")
    return out


def nodes_section(n, normal):
    c, rows = n["config"], n["rows"]
    k = c.get("nodes", 0)
    single = n.get("baseline") or []
    out = [f"## Several nodes: {k} nodes on one PostgreSQL", "", machine_line(n["machine"], c), "",
           f"`bench/run.sh --nodes {k}`: {k} nodes with the same `--issuer` on a fresh PostgreSQL "
           f"{c.get('postgres', '')} database on this machine, each on its own port; one wrk process whose "
           f"threads are dealt out to the nodes in turn (`lib/load.lua`, `WRK_ADDRS`), so each node gets "
           f"the same share of the connections and the figures are the sum over the nodes. Every node, "
           f"PostgreSQL and wrk share the same cores. Server CPU is the nodes' (PostgreSQL's is not counted); "
           f"peak RSS is the largest node's. The single-node column is one node on SQLite, measured by the same "
           f"run right after the nodes with the same binary, scenarios and load (not the run above)."]
    if c.get("binary", "release") != "release":
        out += ["", f"**Measured with the {c['binary']} binary, not a release build: these figures "
                    f"show the setup works, not how fast it is, and do not compare with the single-node column.**"]
    out += ["", f"| scenario | 1 node, SQLite req/s | {k} nodes, PostgreSQL req/s | ratio | 1 node p99 ms | "
                f"{k} nodes p50 ms | {k} nodes p99 ms | server CPU ms/req | peak RSS MB | responses |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        one = find(single, r["scenario"])
        ratio = f"{r['rps'] / one['rps']:.2f}×" if one and one["rps"] else "n/a"
        base = f"{one['rps']:,.0f}" if one else "–"
        p99 = f"{one['p99_ms']:.2f}" + ("" if one["ok"] else " ⚠") if one else "–"
        out.append(f"| {LABELS.get(r['scenario'], r['scenario'])} | {base} | "
                   f"{r['rps']:,.0f} | {ratio} | {p99} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                   f"{r['cpu_ms_per_req'] or 0:.3f} | {r['peak_rss_mb']:.1f} | {health(r)} |")
    return out


def render(results_dir, out_path):
    load = lambda n: json.load(open(p)) if os.path.exists(p := os.path.join(results_dir, n)) else None
    normal, growth, nodes = load("normal.json"), load("growth.json"), load("nodes.json")
    md = ["<!-- Generated by bench/run.sh from bench/results/*.json. Do not edit by hand: rerun the benchmark. -->",
          "", "# Benchmark results", "",
          "Generated by `bench/run.sh` (all scenarios and the peer), `bench/run.sh --growth` (store growth) "
          "and `bench/run.sh --nodes 3` (several nodes on PostgreSQL); "
          "do not edit by hand. How the numbers are taken: `bench/README.md`. Server CPU is the server "
          "process's utime+stime over the run divided by the responses; peak RSS is its VmHWM, reset "
          "before each scenario.", "", "## Targets", "", "| result | target | measured |", "|---|---|---|"]
    md += [f"| {v} | {t} | {m} |" for v, t, m in targets(normal, growth)]
    if normal:
        md += [""] + normal_section(normal)
    if growth:
        md += [""] + growth_section(growth)
    if nodes:
        md += [""] + nodes_section(nodes, normal)
    text = "\n".join(md) + "\n"
    open(out_path, "w").write(text)
    print(text)


def save(mode, rows_path, machine_path, out, kv):
    config = {}
    steps, baseline = [], None
    for item in kv:
        k, v = item.split("=", 1)
        if k == "steps":
            steps = rows_of(v)
        elif k == "baseline":
            baseline = json.load(open(v))["rows"]
        else:
            config[k] = int(v) if v.lstrip("-").isdigit() else v
    os.makedirs(os.path.dirname(out), exist_ok=True)
    data = {"mode": mode, "machine": json.load(open(machine_path)), "config": config, "rows": rows_of(rows_path)}
    if steps:
        data["steps"] = steps
    if baseline is not None:
        data["baseline"] = baseline
    with open(out, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def tables(db, step):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TOKEN_TABLES if t in have}
    con.close()
    size = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
    print(json.dumps({"step": int(step), "counts": counts, "db_mb": size / 1e6}))


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "line":
        print(line(rows_of(a[0])[-1]), file=sys.stderr)
    elif cmd == "rps":
        r = find(rows_of(a[0]), a[1], a[2], int(a[3]))
        print(r["rps"] if r and r["ok"] else "")
    elif cmd == "check":
        rows = rows_of(a[0])
        print("\n".join(table(rows)))
        bad = [r for r in rows if not r["ok"]]
        if bad or not rows:
            sys.exit("smoke: FAILED: " + "; ".join(f"{r['scenario']}: {', '.join(r['problems'])}" for r in bad))
        print(f"smoke: ok, {len(rows)} scenarios answered 2xx only")
    elif cmd == "tables":
        tables(a[0], a[1])
    elif cmd == "save":
        save(a[0], a[1], a[2], a[3], a[4:])
    elif cmd == "render":
        render(a[0], a[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Turns result rows (rows.jsonl, one JSON object per measured run; see util.py row) into the
progress lines, the smoke verdict, bench/results/*.json and bench/RESULTS.md.

    report.py line ROWS                       the newest row, one line, to stderr
    report.py rps ROWS SCENARIO TARGET STEP   a row's requests/s ("" when absent)
    report.py check ROWS                      smoke verdict: exit 1 unless every row is clean
    report.py tables DB STEP                  row counts and file size of the store (JSON)
    report.py save MODE ROWS MACHINE OUT K=V...   one run's results as JSON
    report.py render RESULTS_DIR RESULTS_MD   RESULTS.md from results/{normal,growth,nodes}.json, with
                                              targets (lib/targets.py) against results/baseline.json
"""
import json
import os
import sqlite3
import sys

sys.dont_write_bytecode = True  # importing targets.py must leave no __pycache__ in the tree
from targets import find, fmt_of, measured, targets  # noqa: E402  (same directory)

LABELS = {
    "livez": "baseline: GET /livez",
    "client_credentials": "client_credentials: POST /oauth/token (JWT)",
    "client_credentials_opaque": "client_credentials: POST /oauth/token (opaque)",
    "authorization_code": "authorization_code + PKCE: POST /oauth/token",
    "refresh_token": "refresh_token rotation: POST /oauth/token",
    "introspection": "introspection: POST /oauth/introspect (JWT)",
    "introspection_opaque": "introspection: POST /oauth/introspect (opaque)",
    "me_api_key": "GET /v1/users/me, API key",
    "me_jwt": "GET /v1/users/me, JWT access token",
    "me_opaque": "GET /v1/users/me, opaque access token",
    "login_personal_token": "POST /api/v0/login, personal token",
    "browser_flow": "full browser flow: GET /oauth/authorize + code exchange (JWT)",
    "browser_flow_opaque": "full browser flow: GET /oauth/authorize + code exchange (opaque)",
}
BASELINE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results", "baseline.json")
TOKEN_TABLES = ["credentials", "refresh_tokens", "token_families", "revoked_access_tokens", "auth_codes", "users",
                "audit_events"]


def rows_of(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def health(r):
    return "ok" if r["ok"] else "**ERRORS: " + "; ".join(r["problems"]) + "**"


def line(r):
    if not measured(r):
        return f"  {r['scenario']:<26} {r['target']:<10} skipped: {r['skipped']}"
    flows = f"  {r['flows_per_s']:.1f} flows/s, cpu {r['cpu_ms_per_flow'] or 0:.3f} ms/flow" if "flows" in r else ""
    return (f"  {r['scenario']:<26} {r['target']:<10} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']:>6.2f} ms  "
            f"p99 {r['p99_ms']:>6.2f} ms  cpu {r['cpu_ms_per_req'] or 0:.3f} ms/req  "
            f"rss {r['peak_rss_mb']:.1f} MB{flows}  {'ok' if r['ok'] else 'ERRORS: ' + '; '.join(r['problems'])}")


def table(rows):
    out = ["| scenario | req/s | p50 ms | p99 ms | server CPU ms/req | server CPU (cores) | peak RSS MB | responses |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if not measured(r):
            out.append(f"| {LABELS.get(r['scenario'], r['scenario'])} | – | – | – | – | – | – | skipped: {r['skipped']} |")
            continue
        out.append(f"| {LABELS.get(r['scenario'], r['scenario'])} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                   f"{r['p99_ms']:.2f} | {r['cpu_ms_per_req'] or 0:.3f} | {r['cpu_cores'] or 0:.2f} | {r['peak_rss_mb']:.1f} | "
                   f"{health(r)} |")
    return out


def machine_line(m, c):
    return (f"{m['date']} · {m['nproc']} CPUs ({m['cpu']}) · {m['memory_gb']} GB RAM · Linux {m['kernel']} · "
            f"{m['rustc']} · {m['wrk']} · node {m['node']} · commit {m['commit']} · load average at start "
            f"{' '.join(m['loadavg'])} · wrk {c['threads']} threads, {c['concurrency']} connections, "
            f"{c['duration']} s per scenario after a {c['warmup']} s warm-up")


def peer_table(rows):
    """Each Portcullis scenario beside the peer's run of it in the same token format."""
    out = ["| scenario | tokens | Portcullis req/s | peer req/s | Portcullis/peer | Portcullis CPU ms/req | "
           "peer CPU ms/req | peer p99 ms | peer peak RSS MB | peer responses |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for sc in ("client_credentials_opaque", "client_credentials", "introspection_opaque", "introspection"):
        p, q = find(rows, sc), find(rows, sc, "peer")
        if q is None:
            continue
        name = sc.removesuffix("_opaque")
        mine = (f"{p['rps']:,.0f}", f"{p['cpu_ms_per_req'] or 0:.3f}") if measured(p) else \
            ("– (" + (p["skipped"] if p else "not measured") + ")", "–")
        if not measured(q):
            out.append(f"| {name} | {fmt_of(sc)} | {mine[0]} | – | **{q['skipped']}** | {mine[1]} | – | – | – | – |")
            continue
        ratio = f"{p['rps'] / q['rps']:.1f}×" if measured(p) and q["rps"] else "n/a"
        out.append(f"| {name} | {fmt_of(sc)} | {mine[0]} | {q['rps']:,.0f} | {ratio} | {mine[1]} | "
                   f"{q['cpu_ms_per_req'] or 0:.3f} | {q['p99_ms']:.2f} | {q['peak_rss_mb']:.1f} | {health(q)} |")
    return out


def flow_table(rows):
    """The full browser flow: flows/s and server CPU per completed flow, both servers."""
    out = ["| server | tokens | flows/s | HTTP req/s | p50 ms | p99 ms | server CPU ms/flow | server CPU (cores) | "
           "peak RSS MB | answers |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for sc in ("browser_flow_opaque", "browser_flow"):
        for who in ("portcullis", "peer"):
            r = find(rows, sc, who)
            if r is None:
                continue
            name = "Portcullis" if who == "portcullis" else "peer"
            if not measured(r):
                out.append(f"| {name} | {fmt_of(sc)} | – | – | – | – | – | – | – | skipped: {r['skipped']} |")
                continue
            out.append(f"| {name} | {fmt_of(sc)} | {r['flows_per_s']:,.0f} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                       f"{r['p99_ms']:.2f} | {r['cpu_ms_per_flow'] or 0:.3f} | {r['cpu_cores'] or 0:.2f} | "
                       f"{r['peak_rss_mb']:.1f} | {health(r)} |")
    return out


def normal_section(n):
    rows = n["rows"]
    out = ["## All scenarios, empty store", "", machine_line(n["machine"], n["config"]), ""]
    out += table([r for r in rows if r["target"] == "portcullis"])
    peer = [r for r in rows if r["target"] == "peer"]
    out += ["", "### Against the peer (node-oidc-provider), each token format against the same format", ""]
    if not peer:
        out.append("The peer was not measured in this run.")
    else:
        fmts = " and ".join(f"`PEER_AT_FORMAT={f}`" for f in dict.fromkeys(r.get("tokens", "opaque") for r in peer))
        out += [f"The peer ran with {fmts}, each in its own process; its JWTs are RS256, Portcullis's EdDSA.", ""]
        out += peer_table(rows)
    if any(r["scenario"] in ("browser_flow", "browser_flow_opaque") for r in rows):
        out += ["", "### Full browser flow", "",
                "A signed-in browser with consent remembered: `GET` the authorization endpoint (a redirect "
                "carrying a code, no page), then the client's `POST` to the token endpoint exchanging it with "
                "PKCE (`bench/lib/flow.lua`). Server CPU per flow is the server process's utime+stime over the "
                "run divided by the completed flows (the peer's: its node process); p50 and p99 are per HTTP "
                "request, both kinds together.", ""] + flow_table(rows)
    return out


def growth_section(g):
    rows, steps = [r for r in g["rows"] if measured(r)], sorted({r["step"] for r in g["rows"]})
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
    out += skipped_note(g["rows"])
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
    c, rows = n["config"], [r for r in n["rows"] if measured(r)]
    k = c.get("nodes", 0)
    single = [r for r in n.get("baseline") or [] if measured(r)]
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
    return out + skipped_note(n["rows"])


def skipped_note(rows):
    skipped = {f"{r['scenario']} ({r['skipped']})" for r in rows if not measured(r)}
    return ["", "Not measured: " + "; ".join(sorted(skipped)) + "."] if skipped else []


def opaque_peer_only(normal):
    """Results saved before the peer ran in both formats hold its opaque-token run under the
    JWT scenarios' names (no `tokens` field): name them for what they measured."""
    for r in normal["rows"] if normal else []:
        if r["target"] == "peer" and "tokens" not in r and not r["scenario"].endswith("_opaque"):
            r["scenario"], r["tokens"] = r["scenario"] + "_opaque", "opaque"


def render(results_dir, out_path):
    load = lambda n: json.load(open(p)) if os.path.exists(p := os.path.join(results_dir, n)) else None
    normal, growth, nodes = load("normal.json"), load("growth.json"), load("nodes.json")
    opaque_peer_only(normal)
    # The committed baseline, also when OUT points elsewhere: experiments compare with it too.
    with open(BASELINE) as f:
        baseline = json.load(f)
    md = ["<!-- Generated by bench/run.sh from bench/results/*.json. Do not edit by hand: rerun the benchmark. -->",
          "", "# Benchmark results", "",
          "Generated by `bench/run.sh` (all scenarios and the peer), `bench/run.sh --growth` (store growth) "
          "and `bench/run.sh --nodes 3` (several nodes on PostgreSQL); "
          "do not edit by hand. How the numbers are taken: `bench/README.md`. Server CPU is the server "
          "process's utime+stime over the run divided by the responses (for the browser flow, by the "
          "completed flows); peak RSS is its VmHWM, reset before each scenario. Rows without a target of "
          f"their own are compared with `bench/results/baseline.json` ({baseline.get('saved', 'an earlier run')}).",
          "", "## Targets", "", "| result | target | measured |", "|---|---|---|"]
    md += [f"| {v} | {t} | {m} |" for v, t, m in targets(normal, growth, baseline)]
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
        print(r["rps"] if measured(r) and r["ok"] else "")
    elif cmd == "check":
        rows = rows_of(a[0])
        print("\n".join(table(rows)))
        bad = [r for r in rows if not r["ok"]]
        ran = [r for r in rows if measured(r)]
        if bad or not ran:
            sys.exit("smoke: FAILED: " + "; ".join(f"{r['scenario']}: {', '.join(r['problems'])}" for r in bad))
        skipped = [r["scenario"] for r in rows if not measured(r)]
        print(f"smoke: ok, {len(ran)} scenarios answered as expected (2xx; the browser flow its redirects)"
              + (f"; skipped: {', '.join(skipped)}" if skipped else ""))
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

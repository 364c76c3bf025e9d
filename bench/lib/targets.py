"""The targets of bench/RESULTS.md: each is one (verdict, target, measured) line. Imported by
report.py; errors in a row never pass, and a row that could not be measured is "n/a" with the
reason, never PASS.

Rows without a target of their own are compared with `results/baseline.json` (the figures of an
earlier full run, kept on purpose): server CPU per request may exceed the baseline's by at most
BASELINE_SLACK. Requests/s is shown beside it but not judged: it follows whatever else the machine
runs, while CPU per request barely does.
"""

EXCHANGE_RPS, EXCHANGE_P99_MS = 8000.0, 10.0   # authorization_code and refresh_token
KEEP_AT_1M = 0.8          # of EXCHANGE_RPS for the exchanges, of the empty store for every row
PEER_X = 10.0             # client_credentials and introspection, each format against its peer
FLOW_CPU_OF_PEER = 0.1    # full browser flow: server CPU per flow, against the peer's
RSS_MB = 40.0
API_KEY_OF_BASE = 0.5     # GET /v1/users/me with an API key, against GET /livez
BASELINE_SLACK = 0.10     # server CPU per request over the baseline's

EXCHANGES = ("authorization_code", "refresh_token")
# Portcullis scenario -> the peer row it is paired with (same scenario name, same token format).
PEER_PAIRED = ("client_credentials_opaque", "client_credentials", "introspection_opaque", "introspection")
FLOWS = ("browser_flow_opaque", "browser_flow")
OWN_TARGET = set(EXCHANGES) | set(PEER_PAIRED) | set(FLOWS)


def find(rows, scenario, target="portcullis", step=0):
    return next((r for r in rows if r["scenario"] == scenario and r["target"] == target and r["step"] == step), None)


def measured(r):
    return r is not None and "skipped" not in r


def fmt_of(scenario):
    return "opaque" if scenario.endswith("_opaque") else "JWT"


def verdict(ok):
    return "PASS" if ok else "MISS"


def _absent(r, who):
    """Why a row has no figure, or None when it has one."""
    if r is None:
        return f"{who} not measured"
    return r["skipped"] if "skipped" in r else None  # the reason names who could not


def _exchanges(rows):
    for sc in EXCHANGES:
        r = find(rows, sc)
        name = f"{sc} ≥ {EXCHANGE_RPS:,.0f} req/s and p99 ≤ {EXCHANGE_P99_MS:g} ms"
        why = _absent(r, sc)
        if why:
            yield "n/a", name, why
            continue
        ok = r["rps"] >= EXCHANGE_RPS and r["p99_ms"] <= EXCHANGE_P99_MS and r["ok"]
        yield verdict(ok), name, f"{r['rps']:,.0f} req/s, p99 {r['p99_ms']:.2f} ms" + ("" if r["ok"] else " (with errors)")


def _against_peer(rows):
    for sc in PEER_PAIRED:
        p, q = find(rows, sc), find(rows, sc, "peer")
        base = sc.removesuffix("_opaque")
        name = f"{base} ≥ {PEER_X:.0f}× the peer's req/s, {fmt_of(sc)} vs {fmt_of(sc)}"
        why = _absent(p, "Portcullis") or _absent(q, "peer")
        if why:
            yield "n/a", name, why
            continue
        x = p["rps"] / q["rps"] if q["rps"] else 0
        yield (verdict(x >= PEER_X and p["ok"] and q["ok"]), name,
               f"{x:.1f}× ({p['rps']:,.0f} vs {q['rps']:,.0f} req/s)")


def _flows(rows):
    for sc in FLOWS:
        p, q = find(rows, sc), find(rows, sc, "peer")
        name = f"full browser flow ({fmt_of(sc)}) ≤ 1/{1 / FLOW_CPU_OF_PEER:.0f} of the peer's server CPU per flow"
        why = _absent(p, "Portcullis") or _absent(q, "peer")
        if why:
            yield "n/a", name, why
            continue
        a, b = p.get("cpu_ms_per_flow"), q.get("cpu_ms_per_flow")
        if not a or not b:
            yield "MISS", name, "no completed flows"
            continue
        yield (verdict(a <= FLOW_CPU_OF_PEER * b and p["ok"] and q["ok"]), name,
               f"{100 * a / b:.0f}% ({a:.3f} vs {b:.3f} ms per flow)")


def _baseline(rows, baseline):
    base_rows = (baseline or {}).get("normal", {}).get("rows", [])
    for r in rows:
        if r["target"] != "portcullis" or r["scenario"] in OWN_TARGET:
            continue
        name = f"{r['scenario']}: server CPU per request ≤ baseline + {100 * BASELINE_SLACK:.0f}%"
        b = find(base_rows, r["scenario"])
        why = _absent(r, "this run") or ("no baseline figure" if not measured(b) or not b.get("cpu_ms_per_req") else None)
        if why:
            yield "n/a", name, why
            continue
        cpu = (r["cpu_ms_per_req"] or 0) / b["cpu_ms_per_req"]
        yield (verdict(cpu <= 1 + BASELINE_SLACK and r["ok"]), name,
               f"{100 * cpu:.0f}% ({r['cpu_ms_per_req'] or 0:.3f} vs {b['cpu_ms_per_req']:.3f} ms); "
               f"req/s {100 * r['rps'] / b['rps']:.0f}% of baseline ({r['rps']:,.0f} vs {b['rps']:,.0f}, not judged)")


def _growth(rows):
    top = max(r["step"] for r in rows)
    if top < 1_000_000:
        yield "n/a", "at 1,000,000 stored rows", f"largest step measured: {top:,}"
        return
    for sc in EXCHANGES:
        r = find(rows, sc, step=top)
        name = f"{sc} ≥ {KEEP_AT_1M * EXCHANGE_RPS:,.0f} req/s ({100 * KEEP_AT_1M:.0f}% of {EXCHANGE_RPS:,.0f}) at {top:,} rows"
        why = _absent(r, sc)
        yield (("n/a", name, why) if why else
               (verdict(r["rps"] >= KEEP_AT_1M * EXCHANGE_RPS and r["ok"]), name, f"{r['rps']:,.0f} req/s"))
    for r in rows:
        if r["step"] != top or not measured(r):
            continue
        base = find(rows, r["scenario"])
        if not measured(base) or not base["rps"]:
            continue
        x = r["rps"] / base["rps"]
        cpu = (r["cpu_ms_per_req"] or 0) / base["cpu_ms_per_req"] if base["cpu_ms_per_req"] else 0
        yield (verdict(x >= KEEP_AT_1M and r["ok"]), f"≥ {100 * KEEP_AT_1M:.0f}% of empty-store req/s at {top:,} rows: {r['scenario']}",
               f"{100 * x:.0f}% (server CPU per request: {100 * cpu:.0f}% of empty-store)")


def targets(normal, growth, baseline):
    """Every target line, in the order RESULTS.md lists them."""
    lines = []
    if normal:
        rows = normal["rows"]
        lines += _exchanges(rows)
        lines += _against_peer(rows)
        lines += _flows(rows)
        mine = [r for r in rows if r["target"] == "portcullis" and measured(r)]
        if mine:
            peak = max(mine, key=lambda r: r["peak_rss_mb"])
            lines.append((verdict(peak["peak_rss_mb"] <= RSS_MB), f"peak RSS ≤ {RSS_MB:g} MB",
                          f"{peak['peak_rss_mb']:.1f} MB (during {peak['scenario']})"))
        k, b = find(rows, "me_api_key"), find(rows, "livez")
        if measured(k) and measured(b):
            x = k["rps"] / b["rps"] if b["rps"] else 0
            lines.append((verdict(x >= API_KEY_OF_BASE and k["ok"] and b["ok"]),
                          f"GET /v1/users/me (API key) ≥ {100 * API_KEY_OF_BASE:.0f}% of baseline GET /livez",
                          f"{100 * x:.0f}% ({k['rps']:,.0f} vs {b['rps']:,.0f} req/s)"))
        lines += _baseline(rows, baseline)
    else:
        lines.append(("n/a", "every empty-store target", "no full run recorded"))
    if growth:
        lines += _growth(growth["rows"])
    else:
        lines.append(("n/a", "at 1,000,000 stored rows", "growth mode not run"))
    return lines

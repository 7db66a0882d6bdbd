"""bench/run's table (one row per benchmark: work, pane sizes, retention, both sides, ratio,
goal, met) and bench/RESULTS.md (the table, raw numbers, harness output, bench/NOTES.md)."""
import datetime, json, os, platform, statistics, subprocess, sys

RETENTION = 10000  # scrollback rows kept on both sides (taskboard `scrollback`, tmux `history-limit`)


def med(runs, key):
    return statistics.median(r[key] for r in runs)



def panes_cell(bid, raw):
    if bid not in raw:
        return "-"
    rs = raw[bid]["runs"]
    tb = sorted({p for r in rs["taskboard"] for p in r.get("panes", [])})
    tm = sorted({p for r in rs["tmux"] for p in r.get("panes", [])})
    n = {"B2": 1, "B3": 9, "B4": 20, "B5": 20, "B6-80": 1, "B6-200": 1, "B7-idle": 1, "B7-flood": 4}.get(bid, 1)
    same = "same" if tb == tm else "DIFFER"
    return f"{n} x {'/'.join(tb)} / {'/'.join(tm)} ({same})"


def table(raw, extra):
    rows = [("id", "work", "panes: n x rows x cols, taskboard / tmux", "retention", "taskboard", "tmux / reference", "ratio", "goal", "met")]
    def add(bid, what, panes, retention, ours, theirs, ratio, goal, met):
        rows.append((bid, what, panes, retention, ours, theirs, ratio, goal, "yes" if met else ("NO" if met is not None else "-")))
    def r(bid, key):
        return med(raw[bid]["runs"]["taskboard"], key), med(raw[bid]["runs"]["tmux"], key)
    ret = f"{RETENTION} rows both"
    if "B2" in raw:
        w, wt = r("B2", "wall_s"); c, ct = r("B2", "cpu_s")
        add("B2", raw["B2"]["what"], panes_cell("B2", raw), ret, f"{w:.2f} s wall, {c:.2f} s CPU", f"{wt:.2f} s, {ct:.2f} s",
            f"wall {w / wt:.2f}, CPU {c / max(ct, 1e-9):.2f}", "wall <= 0.75, CPU <= 1.0", w / wt <= 0.75 and c <= ct)
    if "B3" in raw:
        w, wt = r("B3", "wall_s"); k, kt = r("B3", "key_p99_ms")
        add("B3", raw["B3"]["what"], panes_cell("B3", raw), ret, f"{w:.2f} s, key p99 {k:.1f} ms", f"{wt:.2f} s, key p99 {kt:.1f} ms",
            f"wall {w / wt:.2f}", "wall <= 1.0, p99 <= 16.7 ms", w / wt <= 1.0 and k <= 16.7)
    if "B4" in raw:
        c, ct = r("B4", "cpu_pct")
        draws = med(raw["B4"]["runs"]["taskboard"], "draws")
        add("B4", raw["B4"]["what"], panes_cell("B4", raw), "-", f"{c:.2f}% CPU, {draws:.0f} draws", f"{ct:.2f}% CPU",
            f"{c / ct:.2f}" if ct > 0 else "n/a (tmux 0%)", "<= 0.5% CPU, 0 draws", c <= 0.5 and draws == 0)
    if "B5" in raw:
        c, ct = r("B5", "cpu_pct")
        draws = med(raw["B5"]["runs"]["taskboard"], "draws")
        add("B5", raw["B5"]["what"], panes_cell("B5", raw), "-", f"{c:.2f}% CPU ({draws:.0f} draws)", f"{ct:.2f}% CPU",
            f"{c / max(ct, 1e-9):.2f}", "CPU <= 1.5x", c <= 1.5 * ct)
    for bid in ("B6-80", "B6-200"):
        if bid in raw:
            b, bt = r(bid, "bytes_per_row")
            add(bid, raw[bid]["what"], panes_cell(bid, raw), ret, f"{b:.0f} B/row kept", f"{bt:.0f} B/row kept",
                f"{b / max(bt, 1e-9):.2f}", "<= 4x", b <= 4 * bt)
    if "B7-idle" in raw and "B7-flood" in raw:
        p50, p50t = r("B7-idle", "p50_ms"); p99, p99t = r("B7-flood", "p99_ms")
        panes = f"idle {panes_cell('B7-idle', raw)}; flood {panes_cell('B7-flood', raw)}"
        add("B7", "keystroke echo in a `cat` pane, idle / 3 panes flooding `seq`", panes, "-",
            f"idle p50 {p50:.2f} ms, flood p99 {p99:.2f} ms", f"idle p50 {p50t:.2f} ms, flood p99 {p99t:.2f} ms",
            f"p99 {p99 / max(p99t, 1e-9):.2f}", "p50 <= 1 ms; p99 <= 2.5x and <= 16.7 ms", p50 <= 1 and p99 <= 2.5 * p99t and p99 <= 16.7)
    def rate(bid, goal=0.8, info=False):
        e = extra[bid]
        ratio = e["ours"] / e["ref"] if e["ref"] else float("nan")
        note = f", slowloris closed after {e['slowloris_s']:.1f} s" if e.get("slowloris_s") else ""
        met = None if info else (ratio >= goal and (e.get("slowloris_s") or 0) <= 10)
        add(bid, e["what"], "-", "-", f"{e['ours']:.0f}/s{note}", f"{e['ref']:.0f}/s", f"{ratio:.2f}",
            "(information)" if info else f">= {goal}x" + (", slowloris <= 10 s" if note else ""), met)
    for bid in ("B9", "B10-http", "B10-durable"):
        if bid in extra:
            rate(bid)
    if "B10-info" in extra:
        rate("B10-info", info=True)
    if "B11" in extra:
        e = extra["B11"]
        add("B11", e["what"], "TUI 50x200 / tmux attach 50x200", "1000 rows both", f"{e['ours']:.0f} ms (max {e['max']:.0f} ms)",
            f"tmux attach {e['ref']:.0f} ms", f"{e['ours'] / max(e['ref'], 1e-9):.2f}", "< 2000 ms", e["max"] < 2000)
        e = extra["B12"]
        add("B12", e["what"], "-", "-", f"median {e['ours']:.1f} ms, max {e['max']:.1f} ms", "-", "-", "< 200 ms", e["max"] < 200)
    for bid in ("B13", "B14"):
        if bid in extra and "table" in extra[bid]:
            t = extra[bid]["table"]
            add(bid, extra[bid]["what"], t.get("panes", "-"), t.get("retention", "-"), t["ours"], t.get("ref", "-"), t.get("ratio", "-"), t["goal"], t["met"])
        elif bid in extra:
            add(bid, extra[bid]["what"], "-", "-", "failed: see below", "-", "-", "-", False)
    if "B15" in extra:
        e = extra["B15"]
        f, q = e["flooded"], e["quiet"]
        add("B15", e["what"], "-", "-", f"health {f[0]:.1f} / {f[1]:.1f} ms, status {f[2]:.1f} / {f[3]:.1f} ms, signal {f[4]:.1f} / {f[5]:.1f} ms (median / max)",
            f"no flood: health {q[0]:.1f}, status {q[2]:.1f}, signal {q[4]:.1f} ms (median)", f"signal median {f[4] / max(q[4], 1e-9):.2f}", "each < 1000 ms", e["ours"] < 1000)
    if "B16" in extra:
        e = extra["B16"]
        add("B16", e["what"], "-", "-", f"median {e['ours']:.1f} ms, p99 {e['p99']:.1f} ms", "-", "-", "median and p99 <= 100 ms", e["p99"] <= 100)
    return rows


def write_results(root, rows, raw, extra, reps, load0, load1):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    lines = [
        "# Benchmark results",
        "",
        f"`bench/run` on {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} · commit {commit} · {os.cpu_count()} cores ({cpu}) · "
        f"kernel {platform.release()} · load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end · "
        f"{reps} repetitions, interleaved, alternating which side runs first; medians. "
        "Ratios are taskboard / tmux (or the reference) measured in the same run; absolute times on this shared machine are noise. "
        "Pane sizes are what `stty size` said inside each pane; retention is scrollback rows kept (taskboard `scrollback`, tmux `history-limit`). "
        "Data dirs and fixtures are on the machine's disk.",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "|" + "---|" * len(rows[0]),
    ]
    lines += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows[1:]]
    lines += ["", "## Raw numbers", "", "```json", json.dumps({k: v["runs"] for k, v in raw.items()}, indent=1), "```"]
    for bid, e in extra.items():
        if e.get("out", "").strip():
            lines += ["", f"### {bid}", "", "```", e["out"].strip(), "```"]
    path = os.path.join(root, "bench", "RESULTS.md")
    notes = os.path.join(root, "bench", "NOTES.md")
    if os.path.exists(notes):
        lines += ["", open(notes).read().strip()]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {path}", file=sys.stderr)

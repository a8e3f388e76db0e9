#!/usr/bin/env python3
"""Reads one run of the peer harness (its summary.json) and kidx's index of that run, and
prints kidx's figures as ratios to the best peer of the same run, beside the performance
targets of issue 4: indexing speed, inverted-index size, document-store size, OR and AND
latency, build memory. Where the run kept each query's times (`--keep-raw`), it also prints
them by the number of words a query has, kidx's beside the fastest peer's, and the queries
kidx loses most on.

    Tools/bench/targets.py RESULTS_DIR KIDX_INDEX_DIR

Called by Tools/bench/peers after the harness's table.
"""
import json
import statistics
import subprocess
import sys

if len(sys.argv) != 3:
    sys.exit(__doc__)
results_dir, index_dir = sys.argv[1], sys.argv[2]
try:
    summary = json.load(open(f"{results_dir}/summary.json"))
except OSError:
    sys.exit(f"targets: no harness results in {results_dir} (a run with --data or --out elsewhere: pass its folder)")
results = {r["peer"]: r for r in summary["results"] if r.get("ok")}
kidx = results.pop("kidx", None)
if kidx is None or not results:
    sys.exit("targets: the run has no kidx result or no peer result")
stats = json.loads(subprocess.run([".build/release/kidx", "stats", "--index", index_dir, "--json"],
                                  check=True, capture_output=True, text=True).stdout)
files = stats["files"]
store = files.get("store.kdx", 0)
inverted = sum(files.values()) - store
# Peers whose index has positions (PISA's has none): the size target compares with these.
positional = {name: r for name, r in results.items() if name != "pisa"}

rows = []


def row(what, ours, peer_name, peer, ratio, target, met):
    rows.append((what, ours, f"{peer} ({peer_name})", f"{ratio:.2f}", target, "met" if met else "missed"))


best = max(results, key=lambda name: results[name]["docs_per_s"])
ratio = kidx["docs_per_s"] / results[best]["docs_per_s"]
row("indexing docs/s", f"{kidx['docs_per_s']:,.0f}", best, f"{results[best]['docs_per_s']:,.0f}", ratio, ">= 1.50", ratio >= 1.5)
if positional:
    smallest = min(positional, key=lambda name: positional[name]["index_bytes"])
    ratio = inverted / positional[smallest]["index_bytes"]
    row("inverted index MB", f"{inverted / 1e6:.1f}", smallest, f"{positional[smallest]['index_bytes'] / 1e6:.1f}", ratio, "<= 0.80", ratio <= 0.8)
ratio = store / kidx["text_bytes"]
rows.append(("store / raw text", f"{store / 1e6:.1f} MB", f"{kidx['text_bytes'] / 1e6:.1f} MB of text", f"{ratio:.3f}", "<= 0.35",
             "met" if ratio <= 0.35 else "missed"))
for mode in ("or", "and"):
    for stat in ("p50_us", "p95_us"):
        candidates = {name: r["modes"][mode][stat] for name, r in results.items()
                      if r.get("modes", {}).get(mode, {}).get("supported") and r["modes"][mode].get(stat) is not None}
        if not candidates or not kidx["modes"].get(mode, {}).get("supported"):
            continue
        best = min(candidates, key=candidates.get)
        ours = kidx["modes"][mode][stat]
        ratio = ours / candidates[best]
        row(f"{mode.upper()} {stat[:3]} us", f"{ours:.1f}", best, f"{candidates[best]:.1f}", ratio, "<= 0.80", ratio <= 0.8)
rss = kidx["build_peak_rss_mib"]
rows.append(("build peak RSS MiB", f"{rss:.0f}", "300 (the limit)", f"{rss / 300:.2f}", "<= 1.00", "met" if rss <= 300 else "missed"))


def print_table(header, rows):
    """`rows` under `header`, each column as wide as its widest cell, after an empty line."""
    widths = [max(len(str(line[i])) for line in rows + [header]) for i in range(len(header))]
    print()
    for line in [header] + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())


print_table(("target", "kidx", "best peer", "ratio", "wanted", ""), rows)


def per_query(result, mode):
    """Each query's median over the rounds, in microseconds (None without raw times)."""
    rounds = result.get("modes", {}).get(mode, {}).get("rounds_ns")
    if not rounds:
        return None
    return [statistics.median(times[index] for times in rounds) / 1000 for index in range(len(rounds[0]))]


try:
    queries = [line.strip() for line in open(summary["settings"]["queries"], encoding="utf-8") if line.strip()]
except (KeyError, OSError):
    queries = []
lines, worst_lines = [], []
for mode in ("or", "and"):
    ours = per_query(kidx, mode)
    timed = {name: per_query(r, mode) for name, r in results.items()}
    timed = {name: times for name, times in timed.items() if times and len(times) == len(queries)}
    if not ours or len(ours) != len(queries) or not timed:
        continue
    # The peer with the lowest median over all queries.
    peer = min(timed, key=lambda name: statistics.median(timed[name]))
    theirs = timed[peer]
    for words, label in ((1, "1 word"), (2, "2 words"), (3, "3+ words")):
        chosen = [i for i, query in enumerate(queries) if min(len(query.split()), 3) == words]
        if not chosen:
            continue
        a, b = statistics.median(ours[i] for i in chosen), statistics.median(theirs[i] for i in chosen)
        lines.append((f"{mode.upper()} {label} ({len(chosen)})", f"{a:.1f}", f"{b:.1f} ({peer})", f"{a / b:.2f}"))
    worst = sorted(range(len(queries)), key=lambda i: ours[i] / theirs[i], reverse=True)[:5]
    worst_lines.append(f"{mode.upper()} worst against {peer} (kidx/{peer} us): "
                       + ", ".join(f"{queries[i]} {ours[i]:.0f}/{theirs[i]:.0f}" for i in worst))
if lines:
    print_table(("per query: median of medians, us", "kidx", "fastest peer", "ratio"), lines)
    for line in worst_lines:
        print(line)

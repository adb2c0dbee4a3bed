#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tables, CSV and plot from a make bench run (tests/guest/bench.sh output).

Usage: bench_report.py RUN_OUT_DIR RESULTS_DIR META_FILE

Reads points.tsv and the fio JSON files it names; for every point (device, fs,
engine, block size, queue depth) takes the median IOPS of knob 0, knob 1 and the raw
device over the rounds, with min..max as the spread, the CPU cost per I/O from fio's
usr+sys CPU, and checks the fast-path counters: every knob-1 run of a size the path
serves must have hits >= I/Os, every knob-0 run zero hits.
"""
import csv
import json
import os
import statistics
import sys
from collections import defaultdict

out_dir, res_dir, meta_file = sys.argv[1:4]
os.makedirs(res_dir, exist_ok=True)

runs = []
with open(os.path.join(out_dir, "points.tsv")) as f:
    for row in csv.DictReader(f, delimiter="\t"):
        with open(os.path.join(out_dir, row["json"])) as jf:
            job = json.load(jf)["jobs"][0]
        rd = job["read"]
        ios = rd["total_ios"]
        runtime_s = rd["runtime"] / 1000.0
        cpu_s = (job["usr_cpu"] + job["sys_cpu"]) / 100.0 * runtime_s
        runs.append({
            **row,
            "qd": int(row["qd"]),
            "iops": rd["iops"],
            "ios": ios,
            "cpu_us_per_io": cpu_s / ios * 1e6 if ios else float("nan"),
            "hits": int(row["hits"]),
            "fallbacks": int(row["fallbacks"]),
        })

with open(os.path.join(res_dir, "runs.csv"), "w", newline="") as f:
    keys = ["dev", "fs", "engine", "bs", "qd", "knob", "round", "iops", "ios",
            "cpu_us_per_io", "hits", "fallbacks"]
    w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
    w.writeheader()
    w.writerows(runs)

def bs_bytes(bs):
    return int(bs[:-1]) * 1024 if bs.endswith("k") else int(bs)

# The path serves reads up to 64 KiB that one extent covers (iomap_simple_dio.rs).
SERVED_MAX = int(os.environ.get("SERVED_MAX", "65536"))

groups = defaultdict(list)
raw = defaultdict(list)
problems = []
for r in runs:
    point = (r["dev"], r["engine"], r["bs"], r["qd"])
    if r["fs"] == "raw":
        raw[point].append(r)
        continue
    groups[(r["dev"], r["fs"], r["engine"], r["bs"], r["qd"], r["knob"])].append(r)
    served = bs_bytes(r["bs"]) <= SERVED_MAX
    if r["knob"] == "0" and r["hits"] != 0:
        problems.append(f"knob 0 run with {r['hits']} hits: {r}")
    if r["knob"] == "1" and served and r["hits"] < r["ios"]:
        problems.append(f"knob 1 run with {r['hits']} hits < {r['ios']} I/Os: {r}")

def med(rs, key):
    return statistics.median(x[key] for x in rs)

def spread(rs):
    v = [x["iops"] for x in rs]
    m = statistics.median(v)
    return (max(v) - min(v)) / m * 100 if m else 0.0

rows = []
for (dev, fs, eng, bs, qd, knob) in sorted(groups, key=lambda k: (k[0], k[1], k[2], bs_bytes(k[3]), k[4])):
    if knob != "0":
        continue
    a = groups[(dev, fs, eng, bs, qd, "0")]
    b = groups.get((dev, fs, eng, bs, qd, "1"), [])
    rw = raw.get((dev, eng, bs, qd), [])
    if not b:
        continue
    ia, ib = med(a, "iops"), med(b, "iops")
    ir = med(rw, "iops") if rw else float("nan")
    rows.append({
        "device": dev, "fs": fs, "engine": eng, "bs": bs, "qd": qd,
        "simple0_iops": round(ia), "simple0_spread_pct": round(spread(a), 1),
        "simple1_iops": round(ib), "simple1_spread_pct": round(spread(b), 1),
        "gain_pct": round((ib / ia - 1) * 100, 2) if ia else float("nan"),
        "raw_iops": round(ir) if rw else "",
        "pct_of_raw_simple0": round(ia / ir * 100, 1) if rw else "",
        "pct_of_raw_simple1": round(ib / ir * 100, 1) if rw else "",
        "cpu_us_per_io_simple0": round(med(a, "cpu_us_per_io"), 2),
        "cpu_us_per_io_simple1": round(med(b, "cpu_us_per_io"), 2),
        "cpu_gain_pct": round((1 - med(b, "cpu_us_per_io") / med(a, "cpu_us_per_io")) * 100, 2),
        "hits_simple0": sum(x["hits"] for x in a),
        "hits_simple1": sum(x["hits"] for x in b),
        "ios_simple1": sum(x["ios"] for x in b),
        "fallbacks_simple1": sum(x["fallbacks"] for x in b),
        "rounds": len(b),
    })

with open(os.path.join(res_dir, "summary.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)

meta = open(meta_file).read().strip()
lines = ["# make bench results", "", meta, "",
         "Median of the rounds; ± is the spread (max - min) / median of the rounds.",
         "CPU µs/IO is fio's usr+sys CPU time over the I/Os of the run (guest CPU, TCG).",
         "hits/IOs: fast-path hits over fio's counted I/Os at knob 1 (ramp-up I/Os add hits).", ""]
for dev in sorted({r["device"] for r in rows}):
    lines += [f"## {dev}", "",
              "| fs | engine | bs | qd | simple=0 | simple=1 | gain | % of raw (0 → 1) | CPU µs/IO (0 → 1) | hits/IOs (knob 1) | hits (knob 0) |",
              "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        if r["device"] != dev:
            continue
        rawp = f"{r['pct_of_raw_simple0']}% → {r['pct_of_raw_simple1']}%" if r["raw_iops"] != "" else "n/a"
        lines.append(
            f"| {r['fs']} | {r['engine']} | {r['bs']} | {r['qd']} | "
            f"{r['simple0_iops']:,} ±{r['simple0_spread_pct']}% | {r['simple1_iops']:,} ±{r['simple1_spread_pct']}% | "
            f"{r['gain_pct']:+.2f}% | {rawp} | {r['cpu_us_per_io_simple0']} → {r['cpu_us_per_io_simple1']} "
            f"({r['cpu_gain_pct']:+.1f}%) | {r['hits_simple1']:,}/{r['ios_simple1']:,} | {r['hits_simple0']} |")
    lines.append("")
if problems:
    lines += ["## Counter check FAILED", ""] + [f"- {p}" for p in problems[:20]]
else:
    lines += ["Counter check: every knob-0 run had 0 hits; every knob-1 run of a size the path",
              f"serves (<= {SERVED_MAX} bytes) had hits >= I/Os."]
with open(os.path.join(res_dir, "table.md"), "w") as f:
    f.write("\n".join(lines) + "\n")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = sorted({(r["device"], r["fs"]) for r in rows})
    fig, axes = plt.subplots(2, len(panels), figsize=(4.5 * len(panels), 7), squeeze=False)
    for i, (dev, fs) in enumerate(panels):
        for eng in sorted({r["engine"] for r in rows}):
            pts = sorted((r["qd"], r) for r in rows
                         if r["device"] == dev and r["fs"] == fs and r["engine"] == eng and r["bs"] == "4k")
            if not pts:
                continue
            q = [p[0] for p in pts]
            axes[0][i].plot(q, [p[1]["gain_pct"] for p in pts], marker="o", label=eng)
            if pts[0][1]["raw_iops"] != "":
                axes[1][i].plot(q, [p[1]["pct_of_raw_simple1"] for p in pts], marker="o", label=f"{eng} simple=1")
                axes[1][i].plot(q, [p[1]["pct_of_raw_simple0"] for p in pts], marker="x", linestyle="--", label=f"{eng} simple=0")
        axes[0][i].set_title(f"{fs} on {dev}, 4k randread")
        axes[0][i].axhline(0, color="grey", linewidth=0.5)
        axes[0][i].set_ylabel("IOPS gain, simple=1 vs 0 (%)")
        axes[1][i].set_ylabel("% of raw device IOPS")
        for ax in (axes[0][i], axes[1][i]):
            ax.set_xscale("log", base=2)
            ax.set_xlabel("iodepth")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(res_dir, "plot.png"), dpi=90)
except ImportError as e:
    print(f"no plot: {e}")

print("\n".join(lines))
sys.exit(1 if problems else 0)

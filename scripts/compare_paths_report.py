#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Report of make compare on one kernel: the generic, C and Rust paths side by side.

The result directory holds one boot per build, read count and repeat,
`<build>-<reads>-r<repeat>/`, each with `out/windows` (the points, in order: target, mode,
knob, hits), `counts` (the plugin's windows) and `kallsyms`. Per point and repeat,
instructions per read = (window at 3N reads - window at N reads) / 2N, kernel code only:
what boot, fio's start-up and teardown cost cancels exactly. The scheduler's and the idle
loop's functions (which move with the timing of completions under -icount, not with the
path) are counted apart and left out of the totals. Each figure is the mean of the
repeats, with its spread (max - min). Writes table.md, compare.csv and functions.txt.
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_report import demangle, load_boot, per_function  # noqa: E402
from profile_report import load_symbols  # noqa: E402

MODES = [("uring", "io_uring QD 32, 4 KiB"), ("poll", "io_uring polled QD 32, 4 KiB"),
         ("psync", "psync QD 1, 4 KiB"), ("uring8k", "io_uring QD 32, 8 KiB"),
         ("uring16k", "io_uring QD 32, 16 KiB")]
PATHS = [("0", "generic"), ("c", "C"), ("rust", "Rust")]
# Overwrites of the laid-out file (7.3): the C path serves none, so two paths.
WMODES = [("wuring", "overwrites, io_uring QD 32, 4 KiB"),
          ("wpsync", "overwrites, psync QD 1, 4 KiB"),
          ("wdsync", "overwrites, psync O_DSYNC QD 1, 4 KiB"),
          ("wuring16k", "overwrites, io_uring QD 32, 16 KiB")]
WPATHS = [("0", "generic"), ("rust", "Rust")]
SCHED_WORDS = ("sched", "task_fair", "__switch_to", "load_avg", "_entities", "update_curr",
               "wake_up", "try_to_wake", "idle", "rq_clock", "enqueue_", "dequeue_",
               "pick_", "set_next_task", "place_entity", "finish_task_switch", "resched",
               "cpuidle", "default_idle", "poll_idle", "do_idle", "tick_nohz", "menu_")
# What each path runs itself for a read it serves (see the table's text).
BUFFER_HELPERS = ("bio_set_pages_dirty", "iov_iter_npages", "bio_iov_iter_get_pages",
                  "iov_iter_extract_pages", "iov_iter_extract_bvecs", "iov_iter_advance",
                  "bio_iov_ubuf_get_pages",
                  "__bio_add_page")


# The raw device's own code for a direct write (block/fops.c), with the buffer helpers it
# calls: what the Rust path's own instructions for an overwrite are held against.
RAW_WRITE_CODE = ("blkdev_write_iter", "blkdev_direct_write", "blkdev_direct_IO",
                  "__blkdev_direct_IO_simple", "__blkdev_direct_IO", "__blkdev_direct_IO_async",
                  "blkdev_bio_end_io", "blkdev_bio_end_io_async", "blkdev_iov_iter_get_pages",
                  "blkdev_dio_invalid", "dio_bio_write_op") + BUFFER_HELPERS


def is_raw_write_code(name):
    return name in RAW_WRITE_CODE


def is_sched(name):
    return any(w in name for w in SCHED_WORDS)


def is_rust_path(name):
    # The module's functions, and the kernel crate's of the mechanism and the block types
    # that the compiler left out of line (a write's completion, for one).
    return ("[iomap_simple_dio]" in name or "SimpleDio" in name
            or any(p in name for p in ("simple_dio::", "block::bio::", "block::bdev::"))
            or name.startswith(("iomap_simple_dio_", "rust_helper_"))
            or name in ("simple_end_io", "simple_work") + BUFFER_HELPERS)


def is_c_path(name):
    return (name.startswith(("__iomap_dio_read_simple", "iomap_dio_simple_"))
            or name in ("bio_check_pages_dirty",) + BUFFER_HELPERS)


def is_c_path_itself(name):
    """The C path's own functions: where they did not run, the generic path read."""
    return name.startswith(("__iomap_dio_read_simple", "iomap_dio_simple_"))


def row(rows, build, path, target, mode):
    """The row of one build, path, target and mode."""
    return next(r for r in rows if (r["build"], r["path"], r["target"], r["mode"]) ==
                (build, path, target, mode))


def measure(d, n1, repeats, builds):
    """Rows of one result directory (one per build, path, target and mode), and its
    per-function figures: funcs(build, repeat, target, mode, knob)."""
    n3 = 3 * n1
    reps = range(1, repeats + 1)
    boots = {(b, r): (load_boot(f"{d}/{b}-{n1}-r{r}"), load_boot(f"{d}/{b}-{n3}-r{r}"))
             for b in builds for r in reps}
    syms = {b: load_symbols(f"{d}/{b}-{n3}-r1/kallsyms") for b in builds}

    def funcs(b, r, target, mode, knob):
        """{function: instructions per read} of one point and repeat."""
        lo, hi = boots[(b, r)]
        fa = per_function(lo[(target, mode, knob)][1], syms[b])
        fb = per_function(hi[(target, mode, knob)][1], syms[b])
        return {k: (fb.get(k, 0) - fa.get(k, 0)) / (n3 - n1) for k in set(fa) | set(fb)}

    cache = {}

    def point(b, r, target, mode, knob):
        """(total less scheduler, scheduler share, Rust path's own, C path's own, hits,
        the raw device's write code)."""
        key = (b, r, target, mode, knob)
        if key not in cache:
            f = funcs(b, r, target, mode, knob)
            sched = sum(v for k, v in f.items() if is_sched(k))
            own = lambda pred: sum(v for k, v in f.items() if pred(k) or pred(demangle(k)))
            # The buffer helpers are the generic path's too: the C path's sum only where it ran.
            own_c = own(is_c_path) if own(is_c_path_itself) > 0.5 else None
            cache[key] = (sum(f.values()) - sched, sched, own(is_rust_path), own_c,
                          boots[(b, r)][1][(target, mode, knob)][2], own(is_raw_write_code))
        return cache[key]

    def stat(vals):
        return sum(vals) / len(vals), max(vals) - min(vals)

    present = {m for (_, m, _) in boots[(builds[0], 1)][0]}
    rows = []
    for mode, _ in MODES + WMODES:
        if mode not in present:
            continue
        write = mode.startswith("w")
        for b in builds:
            for knob, path in WPATHS if write else PATHS:
                for target in ("ext4", "xfs"):
                    # The raw device is measured once a mode, at knob 0: the knob cannot
                    # touch it.
                    fs_raw = [point(b, r, target, mode, knob)[0] - point(b, r, "raw", mode, "0")[0]
                              for r in reps]
                    sched = [point(b, r, target, mode, knob)[1] for r in reps]
                    own = [point(b, r, target, mode, knob)[2 if path == "Rust" else 3] for r in reps]
                    m, s = stat(fs_raw)
                    rows.append(dict(build=b, path=path, knob=knob, target=target, mode=mode,
                                     fs_minus_raw=m, spread=s, sched=stat(sched)[0],
                                     path_own=None if None in own else stat(own)[0],
                                     raw=stat([point(b, r, "raw", mode, "0")[0] for r in reps])[0],
                                     raw_own=stat([point(b, r, "raw", mode, "0")[5] for r in reps])[0]
                                     if write else None,
                                     hits=point(b, 1, target, mode, knob)[4]))

    for r in rows:
        g = row(rows, r["build"], "generic", r["target"], r["mode"])
        r["ratio_to_generic"] = r["fs_minus_raw"] / g["fs_minus_raw"] if g["fs_minus_raw"] else None
        if r["mode"].startswith("w"):
            r["ratio_to_c"] = None
            lead = g["fs_minus_raw"] - r["fs_minus_raw"]
            r["verdict"] = ("-" if r["path"] == "generic" else
                            "ahead" if lead > r["spread"] + g["spread"] else
                            "behind" if -lead > r["spread"] + g["spread"] else "within spread")
            continue
        c = row(rows, r["build"], "C", r["target"], r["mode"])
        r["ratio_to_c"] = r["fs_minus_raw"] / c["fs_minus_raw"] if c["fs_minus_raw"] else None
        # Ahead (or behind) only where the difference is larger than both spreads together.
        lead = c["fs_minus_raw"] - r["fs_minus_raw"]
        r["verdict"] = ("ahead" if lead > r["spread"] + c["spread"] else
                        "behind" if -lead > r["spread"] + c["spread"] else "within spread")
    return rows, funcs


def before_after(base_rows, rows, builds, base_commit, commit):
    """The table.md section of the base commit against this one, mode by mode."""
    md = [f"## Before and after: {base_commit} -> {commit}", "",
          f"The same points of commit {base_commit}, whose kernels booted in turn with this "
          f"commit's, boot by boot (`COMPARE_BASE`): the Rust path's *fs - raw* and its ratio "
          f"to the C path of the same kernel, then *own*, each before -> after. The ratio moves "
          f"with the noise of both paths' *fs - raw*; *own* is exact.", "",
          "| point | build | ext4 Rust | ext4 C | ratio | own | xfs Rust | xfs C | ratio | own |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for mode, title in MODES:
        if not (any(r["mode"] == mode for r in base_rows) and any(r["mode"] == mode for r in rows)):
            continue
        for b in builds:
            cells = []
            for target in ("ext4", "xfs"):
                rb, ra = row(base_rows, b, "Rust", target, mode), row(rows, b, "Rust", target, mode)
                cb, ca = row(base_rows, b, "C", target, mode), row(rows, b, "C", target, mode)
                cells.append(f"{rb['fs_minus_raw']:,.0f} -> {ra['fs_minus_raw']:,.0f} | "
                             f"{cb['fs_minus_raw']:,.0f} -> {ca['fs_minus_raw']:,.0f} | "
                             f"{rb['ratio_to_c']:.3f} -> {ra['ratio_to_c']:.3f} | "
                             f"{rb['path_own']:,.0f} -> {ra['path_own']:,.0f}")
            md.append(f"| {title} | {b} | {cells[0]} | {cells[1]} |")
    return md + [""]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reads", type=int, required=True)
    ap.add_argument("--repeats", type=int, required=True)
    ap.add_argument("--builds", default="m y")
    ap.add_argument("--kernel", default="7.3")
    ap.add_argument("--commit", default="?")
    ap.add_argument("--command", default="make compare")
    ap.add_argument("--base", help="the result directory of the base commit (before/after)")
    ap.add_argument("--base-commit", default="?")
    ap.add_argument("dir")
    args = ap.parse_args()
    n1, n3 = args.reads, 3 * args.reads
    builds = args.builds.split()
    rows, funcs = measure(args.dir, n1, args.repeats, builds)
    if not rows:
        sys.exit(f"{args.dir}: no point measured (overwrites need /sys/kernel/iomap/simple_write)")

    def get(b, path, target, mode):
        return row(rows, b, path, target, mode)

    with open(f"{args.dir}/compare.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.3f}" if k.startswith("ratio") else f"{v:.1f}")
                        if isinstance(v, float) else v for k, v in r.items()})

    def path_table(mode, paths, other, cell):
        """The rows of one mode: a path a row, ext4 and XFS side by side."""
        md = [f"| build | path | ext4 - raw | ratio | vs {other} | own | sched | xfs - raw | ratio "
              f"| vs {other} | own | sched | hits ext4/xfs |",
              "|---|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|"]
        for b in builds:
            for knob, path in paths:
                e, x = get(b, path, "ext4", mode), get(b, path, "xfs", mode)
                md.append(f"| {b} | {path} (`{knob}`) | {cell(e, path)} | {cell(x, path)} | "
                          f"{e['hits']}/{x['hits']} |")
        return md

    def read_cell(r, path):
        own = f"{r['path_own']:,.0f}" if path != "generic" and r["path_own"] else "-"
        vs = "-" if path == "C" else r["verdict"]
        return (f"{r['fs_minus_raw']:+,.0f} ± {r['spread']:,.0f} | {r['ratio_to_c']:.2f} | "
                f"{vs} | {own} | {r['sched']:,.0f}")

    def write_cell(r, path):
        own = f"{r['path_own']:,.0f}" if path == "Rust" else "-"
        ratio = "-" if r["ratio_to_generic"] is None else f"{r['ratio_to_generic']:.2f}"
        return (f"{r['fs_minus_raw']:+,.0f} ± {r['spread']:,.0f} | {ratio} | {r['verdict']} | "
                f"{own} | {r['sched']:,.0f}")

    modes = {r["mode"] for r in rows}
    reads = any(m in modes for m, _ in MODES)
    md = [f"# make compare: the generic, C and Rust paths in one Linux {args.kernel} kernel", "",
          f"Commit: {args.commit}. Command: `{args.command}`.", ""]
    if not reads:
        md[0] = f"# make compare: overwrites on the generic and Rust paths in one Linux {args.kernel} kernel"
        md += [f"Exact guest-kernel instructions per O_DIRECT random overwrite (QEMU TCG -icount, "
               f"the insn-profile plugin), each the difference of a {n1}-write and a {n3}-write "
               f"boot, {args.repeats} repeats of each; memory-backed null_blk (no volatile cache: "
               f"`O_DSYNC` overwrites are `REQ_FUA`, which the block layer drops), irqmode 2, "
               f"completion_nsec 0; one vCPU. *fs - raw* is the file system's cost over the raw "
               f"block device's writes in the same boot, without the scheduler's and the idle "
               f"loop's functions (*sched*, apart); *±* is the spread over the repeats.", ""]
    md += [f"Exact guest-kernel instructions per O_DIRECT randread (QEMU TCG -icount, the "
          f"insn-profile plugin), each the difference of a {n1}-read and a {n3}-read boot, "
          f"{args.repeats} repeats of each; memory-backed null_blk, irqmode 2, completion_nsec 0; "
          f"one vCPU. One kernel serves every path, chosen by /sys/kernel/iomap/simple_read "
          f"(0: generic, c: the kernel's C path, rust: the module). *fs - raw* is the file "
          f"system's cost over the raw block device in the same boot (what the paths exist to "
          f"shrink), without the scheduler's and the idle loop's functions, which under "
          f"-icount move with the timing of completions; *sched* is that share, apart. "
          f"*±* is the spread (max - min) over the repeats; *ratio* is over the C path of the "
          f"same build; *vs C* says ahead or behind only where the difference exceeds both "
          f"spreads. *own* is what the path runs itself for a read (module, hook and helpers "
          f"for Rust, with the kernel crate's functions of the mechanism and the block types "
          f"that are not inlined; `__iomap_dio_read_simple` and `iomap_dio_simple_*` for C; both with the "
          f"buffer helpers they call: `bio_set_pages_dirty`, `iov_iter_npages`, "
          f"`bio_iov_iter_get_pages`, `iov_iter_extract_*`), exact; *-* for the C path where "
          f"it declined every read (over one block: the generic path read them). Hits: the module's hit "
          f"counter over the {n3}-read window.", ""] if reads else []
    for mode, title in MODES:
        if mode not in modes:
            continue
        md += [f"## {title}", ""] + path_table(mode, PATHS, "C", read_cell)
        raws = [get(b, "C", "ext4", mode)["raw"] for b in builds]
        md += ["", "Raw device: " + ", ".join(f"{b} {v:,.0f}" for b, v in zip(builds, raws)) +
               " instructions per read (less scheduler and idle).", ""]
    wmodes = [(m, t) for m, t in WMODES if m in modes]
    if wmodes:
        md += ["## Overwrites", "",
               f"O_DIRECT random overwrites of the laid-out file (written extents within "
               f"`i_size`), {n1} and {n3} per point, at knob 0 (generic) and rust "
               f"(`/sys/kernel/iomap/simple_write` follows the knob; the C path serves no "
               f"writes). *ratio* is over the generic path of the same build; the target "
               f"is at most 0.6 at 4 KiB. *own* is what the Rust path runs itself for "
               f"a write; *raw own* is what the raw device runs of `block/fops.c` (with the "
               f"buffer helpers) for the same write: the goal is *own* at most that. "
               f"Hits: the module's `write_hits` over the {n3}-write window.", ""]
        for mode, title in wmodes:
            md += [f"### {title}", ""] + path_table(mode, WPATHS, "generic", write_cell)
            r0 = [get(b, "generic", "ext4", mode) for b in builds]
            md += ["", "Raw device: " + ", ".join(
                f"{b} {r['raw']:,.0f} instructions per write, raw own {r['raw_own']:,.0f}"
                for b, r in zip(builds, r0)) + " (less scheduler and idle).", ""]
    if args.base:
        md += before_after(measure(args.base, n1, args.repeats, builds)[0], rows, builds,
                           args.base_commit, args.commit)
    open(f"{args.dir}/table.md", "w").write("\n".join(md) + "\n")

    # Per function, 4 KiB io_uring QD 32, build m, first repeat: for reads (ext4) the Rust
    # path against the C path, for overwrites (ext4 and XFS) the Rust path against the
    # generic one; then the overwrite's own functions against the raw device's write code.
    b = builds[0]
    lines = []
    for mode, fs, other, what in (("uring", "ext4", "c", "read"),
                                  ("wuring", "ext4", "0", "overwrite"),
                                  ("wuring", "xfs", "0", "overwrite")):
        if mode not in modes:
            continue
        fr, fc = funcs(b, 1, fs, mode, "rust"), funcs(b, 1, fs, mode, other)
        keys = sorted(set(fr) | set(fc), key=lambda k: fr.get(k, 0) - fc.get(k, 0))
        name = "the C path (knob c)" if other == "c" else "the generic path (knob 0)"
        lines += [f"Kernel instructions per {what} by function, {fs}, fio io_uring QD 32, 4 KiB, "
                  f"Linux {args.kernel} ({b}): the Rust path (knob rust) against {name}, "
                  f"one boot pair (repeat 1). Commit {args.commit}; `{args.command}`.", "",
                  f"{'rust':>9} {other:>9} {'diff':>9}  function"]
        lines.append(f"{sum(fr.values()):9.1f} {sum(fc.values()):9.1f} "
                     f"{sum(fr.values()) - sum(fc.values()):+9.1f}  TOTAL (kernel)")
        for k in keys:
            a, c = fr.get(k, 0), fc.get(k, 0)
            if abs(a) >= 0.5 or abs(c) >= 0.5:
                lines.append(f"{a:9.1f} {c:9.1f} {a - c:+9.1f}  {demangle(k)}")
        lines.append("")
    if "wuring" in modes:
        fr, fw = funcs(b, 1, "ext4", "wuring", "rust"), funcs(b, 1, "raw", "wuring", "0")
        mine = {k: v for k, v in fr.items() if is_rust_path(k) or is_rust_path(demangle(k))}
        raw = {k: v for k, v in fw.items() if is_raw_write_code(k)}
        lines += [f"*own* per overwrite, ext4, fio io_uring QD 32, 4 KiB ({b}, repeat 1): the Rust "
                  f"path's functions, then the raw device's write code (`block/fops.c` and the "
                  f"buffer helpers) in the same boot.", ""]
        for title, d in (("Rust path (knob rust)", mine), ("raw device", raw)):
            lines.append(f"{sum(d.values()):9.1f}  {title}, in all")
            lines += [f"{v:9.1f}  {demangle(k)}"
                      for k, v in sorted(d.items(), key=lambda kv: -kv[1]) if abs(v) >= 0.5]
            lines.append("")
    open(f"{args.dir}/functions.txt", "w").write("\n".join(lines))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Report of make compare: kernel instructions per read, ours against Linux 7.3.

The result directory holds one boot per kernel and read count, `<kernel>-<reads>/`,
each with `out/windows` (the points, in order: target, mode, knob, hits), `counts` (the
plugin's windows: "# window N", then "address instructions" lines) and `kallsyms`.
Per point, instructions per read = (window at 3N reads - window at N reads) / 2N,
kernel code only (addresses in the kernel half): what boot, fio's start-up and
teardown cost cancels exactly. Writes table.md, compare.csv, compare.png and
functions.txt (per-function difference, ext4 io_uring QD 32, ours m knob 1 against
upstream) into the result directory.
"""
import argparse
import bisect
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from profile_report import demangle as demangle_short, load_symbols  # noqa: E402


def demangle(name):
    """Like profile_report's, with more of the path: generic code of the kernel crate
    instantiated in the module ends in its type argument, not its function name."""
    return demangle_short(name, keep=5)

KERNEL = 0xFFFF800000000000
MODES = [("uring", "io_uring QD 32, 4 KiB"), ("poll", "io_uring polled QD 32, 4 KiB"),
         ("psync", "psync QD 1, 4 KiB"), ("uring16k", "io_uring QD 32, 16 KiB")]
COLUMNS = [("m", "0", "7.2 + module (m), knob 0"), ("m", "1", "7.2 + module (m), knob 1"),
           ("y", "1", "7.2 + built in (y), knob 1"), ("upstream", "-", "7.3 upstream C")]


def load_boot(d):
    """Returns {(target, mode, knob): (kernel instructions, {block: count}, hits)}."""
    points = [line.split() for line in open(f"{d}/out/windows") if line.strip()]
    wins, cur = [], None
    for line in open(f"{d}/counts"):
        if line.startswith("# window"):
            cur = {}
            wins.append(cur)
            continue
        a, n = line.split()
        a = int(a, 16)
        if a >= KERNEL:
            cur[a] = cur.get(a, 0) + int(n)
    if len(wins) != len(points):
        sys.exit(f"{d}: {len(wins)} windows for {len(points)} points")
    out = {}
    for (target, mode, knob, hits), w in zip(points, wins):
        out[(target, mode, knob)] = (sum(w.values()), w, hits)
    return out


def per_function(blocks, syms):
    addrs, names = syms
    f = {}
    for a, n in blocks.items():
        i = bisect.bisect_right(addrs, a) - 1
        k = names[i] if i >= 0 else "[unknown kernel]"
        f[k] = f.get(k, 0) + n
    return f


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reads", type=int, required=True)
    ap.add_argument("--upstream-version", default="7.3")
    ap.add_argument("--commit", default="?", help="the commit measured")
    ap.add_argument("--command", default="make compare", help="the command that ran")
    ap.add_argument("dir")
    args = ap.parse_args()
    n1, n3 = args.reads, 3 * args.reads
    boots = {}
    for k in ("m", "y", "upstream"):
        boots[k] = (load_boot(f"{args.dir}/{k}-{n1}"), load_boot(f"{args.dir}/{k}-{n3}"))

    def ipr(k, target, mode, knob):
        a, b = boots[k][0].get((target, mode, knob)), boots[k][1].get((target, mode, knob))
        if a is None or b is None:
            return None
        return (b[0] - a[0]) / (n3 - n1)

    rows = []
    for mode, _ in MODES:
        for k, knob, _ in COLUMNS:
            raw = ipr(k, "raw", mode, knob)
            for target in ("raw", "ext4", "xfs"):
                v = ipr(k, target, mode, knob)
                hits = boots[k][1][(target, mode, knob)][2]
                rows.append(dict(kernel=k, knob=knob, target=target, mode=mode, insn_per_read=v,
                                 minus_raw=None if target == "raw" else v - raw, hits_3n=hits))
    up = {(r["target"], r["mode"]): r for r in rows if r["kernel"] == "upstream"}
    for r in rows:
        u = up[(r["target"], r["mode"])]
        r["ratio_to_upstream"] = (r["minus_raw"] / u["minus_raw"]
                                  if r["minus_raw"] is not None and u["minus_raw"] else None)

    with open(f"{args.dir}/compare.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.1f}" if isinstance(v, float) else v) for k, v in r.items()})

    def get(k, knob, target, mode):
        for r in rows:
            if (r["kernel"], r["knob"], r["target"], r["mode"]) == (k, knob, target, mode):
                return r
        return None

    md = [f"# make compare: kernel instructions per read, this module against Linux "
          f"{args.upstream_version}'s C path", "",
          f"Commit: {args.commit}. Command: `{args.command}`.", "",
          f"Exact guest-kernel instructions per O_DIRECT randread (QEMU TCG -icount, the "
          f"insn-profile plugin), each the difference of a {n1}-read and a {n3}-read boot; "
          f"memory-backed null_blk, irqmode 2, completion_nsec 0; one vCPU. *fs - raw* is "
          f"the file system's cost over the raw block device of the same kernel (what the "
          f"path exists to shrink); *ratio* is that over upstream's (below 1.00: cheaper "
          f"than upstream).", ""]
    for mode, title in MODES:
        md += [f"## {title}", "",
               "| kernel | raw | ext4 | ext4 - raw | ratio | xfs | xfs - raw | ratio | hits ext4/xfs |",
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for k, knob, label in COLUMNS:
            raw, e, x = (get(k, knob, t, mode) for t in ("raw", "ext4", "xfs"))

            def f(v, fmt="{:,.0f}"):
                return "-" if v is None else fmt.format(v)
            md.append(f"| {label} | {f(raw['insn_per_read'])} | {f(e['insn_per_read'])} | "
                      f"{f(e['minus_raw'], '{:+,.0f}')} | {f(e['ratio_to_upstream'], '{:.2f}')} | "
                      f"{f(x['insn_per_read'])} | {f(x['minus_raw'], '{:+,.0f}')} | "
                      f"{f(x['ratio_to_upstream'], '{:.2f}')} | {e['hits_3n']}/{x['hits_3n']} |")
        md.append("")
    md.append(f"Hits: the module's hit counter over the {n3}-read window (reads served by the "
              f"path; upstream has no counter).")

    # The path's own code, per read: what each kernel runs for a read that the path serves,
    # against the raw device's own direct-I/O code. Exact per-function counts, free of what
    # moves the totals between boots (scheduling: see below).
    def point_funcs(k, target, mode, knob):
        syms = load_symbols(f"{args.dir}/{k}-{n3}/kallsyms")
        a = per_function(boots[k][0][(target, mode, knob)][1], syms)
        b = per_function(boots[k][1][(target, mode, knob)][1], syms)
        return {key: (b.get(key, 0) - a.get(key, 0)) / (n3 - n1) for key in set(a) | set(b)}

    # The helpers every path calls for its buffer: upstream's and the raw device's call
    # them on each read; ours computes the page count inline, pins a single user buffer
    # with pin_user_pages_fast() itself and dirties pages only where a page needs it.
    # Counted in all three, so that the sums compare like with like (the pinning itself,
    # pin_user_pages_fast() and below, is the same in all and left out).
    buffer_helpers = ("bio_set_pages_dirty", "iov_iter_npages", "bio_iov_iter_get_pages",
                      "iov_iter_extract_pages", "iov_iter_extract_bvecs")

    def is_ours(name):
        return ("[iomap_simple_dio]" in name or "SimpleDio" in name
                or name.startswith(("iomap_simple_dio_", "rust_helper_", "_RNvNtCs"))
                and ("iomap_simple" in name or "rust_helper" in name or "to_result" in name)
                or name in ("iomap_dio_rw", "simple_end_io", "simple_work") + buffer_helpers)

    def is_upstream_path(name):
        return name.startswith(("__iomap_dio_read_simple", "iomap_dio_simple_")) or \
            name in ("bio_check_pages_dirty",) + buffer_helpers

    def is_raw_dio(name):
        return name.startswith(("blkdev_read_iter", "blkdev_direct_IO", "__blkdev_direct_IO",
                                "blkdev_bio_end_io")) or \
            name in ("bio_check_pages_dirty",) + buffer_helpers

    sched_words = ("sched", "task_fair", "__switch_to", "load_avg", "_entities", "update_curr",
                   "wake_up", "try_to_wake", "idle", "rq_clock", "enqueue_", "dequeue_",
                   "pick_", "set_next_task", "place_entity", "finish_task_switch", "resched")
    md += ["", "## The path's own instructions per read", "",
           "Everything the path runs itself for a read it serves, summed over its functions "
           "(exact, unlike the totals above): ours is the module, the hook (`iomap_dio_rw`'s "
           "test, the trampolines) and the `rust_helper_*` calls; upstream's is "
           "`__iomap_dio_read_simple`, `iomap_dio_simple_*` and `bio_check_pages_dirty` (its "
           "inline part in `ext4_file_read_iter`/`xfs_file_read_iter`, ~45, is not separable "
           "and not included); the raw device's is `blkdev_read_iter`, `blkdev_direct_IO` (and "
           "its inlined helpers), its end_io and `bio_check_pages_dirty` on the raw point. "
           "All three include `bio_set_pages_dirty`, `iov_iter_npages` and "
           "`bio_iov_iter_get_pages` with its `iov_iter_extract_pages`/`_bvecs`, which "
           "upstream and the raw device call for each read (~330) and ours only where a page "
           "needs dirtying or the buffer is not a single user buffer (the pinning itself, "
           "`pin_user_pages_fast` and below, is the same in all and not included). "
           "*sched* is the scheduler's share of the total (context switches of fio's "
           "io_uring waits, idle): under -icount it moves with the timing of the completions "
           "and differs between kernels and builds by tens of instructions per read.", "",
           "| point | ours m | ours y | upstream | raw device DIO (m kernel) | sched: m / y / upstream |",
           "|---|---:|---:|---:|---:|---:|"]
    for mode, title in MODES:
        for target in ("ext4", "xfs"):
            fm = point_funcs("m", target, mode, "1")
            fy = point_funcs("y", target, mode, "1")
            fu = point_funcs("upstream", target, mode, "-")
            fr = point_funcs("m", "raw", mode, "1")

            def total(f, pred):
                return sum(v for key, v in f.items() if pred(demangle(key)) or pred(key))

            def sched(f):
                return sum(v for key, v in f.items() if any(w in key for w in sched_words))
            md.append(f"| {target}, {title} | {total(fm, is_ours):,.0f} | {total(fy, is_ours):,.0f} | "
                      f"{total(fu, is_upstream_path):,.0f} | {total(fr, is_raw_dio):,.0f} | "
                      f"{sched(fm):,.0f} / {sched(fy):,.0f} / {sched(fu):,.0f} |")
    open(f"{args.dir}/table.md", "w").write("\n".join(md) + "\n")

    # Per function, ext4 io_uring QD 32: ours (m, knob 1) against upstream.
    def funcs(k, knob):
        syms = load_symbols(f"{args.dir}/{k}-{n3}/kallsyms")
        a = per_function(boots[k][0][("ext4", "uring", knob)][1], syms)
        b = per_function(boots[k][1][("ext4", "uring", knob)][1], syms)
        return {key: (b.get(key, 0) - a.get(key, 0)) / (n3 - n1) for key in set(a) | set(b)}
    fo, fu = funcs("m", "1"), funcs("upstream", "-")
    keys = sorted(set(fo) | set(fu), key=lambda key: fo.get(key, 0) - fu.get(key, 0))
    lines = ["Kernel instructions per read by function, ext4, fio io_uring QD 32, 4 KiB: "
             "7.2 + module (m, knob 1) against 7.3 upstream", "",
             f"{'ours':>9} {'upstream':>9} {'diff':>9}  function"]
    lines.append(f"{sum(fo.values()):9.1f} {sum(fu.values()):9.1f} "
                 f"{sum(fo.values()) - sum(fu.values()):+9.1f}  TOTAL (kernel)")
    for key in keys:
        a, b = fo.get(key, 0), fu.get(key, 0)
        if abs(a) >= 0.5 or abs(b) >= 0.5:
            lines.append(f"{a:9.1f} {b:9.1f} {a - b:+9.1f}  {demangle(key)}")
    open(f"{args.dir}/functions.txt", "w").write("\n".join(lines) + "\n")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    width = 0.2
    for ax, target in zip(axes, ("ext4", "xfs")):
        for i, (k, knob, label) in enumerate(COLUMNS):
            vals = [get(k, knob, target, m)["minus_raw"] or 0 for m, _ in MODES]
            ax.bar([j + (i - 1.5) * width for j in range(len(MODES))], vals, width, label=label)
        ax.set_xticks(range(len(MODES)))
        ax.set_xticklabels([t.replace(", ", "\n") for _, t in MODES], fontsize=8)
        ax.set_title(f"{target}: kernel instructions per read over the raw device")
    axes[0].set_ylabel("instructions per read (fs - raw)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{args.dir}/compare.png", dpi=100)


if __name__ == "__main__":
    main()

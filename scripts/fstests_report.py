#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make fstests' table: per test, the verdict at each knob, the path's hits, warnings.

Reads the TSV lines tests/guest/fstests.sh writes (fs knob test status hits seconds
warnings) and prints a Markdown table per file system. A test that fails at knob 1
and passes at knob 0 is a regression of the path: listed last, one "REGRESSION" line
each (scripts/fstests exits 1 on them).
"""
import argparse
import collections
import os

# Why a test cannot run or pass here whatever the knob (read from its .notrun or
# seen in its output): kept short, one line per known cause.
KNOWN = {
    "generic/760": "not run: needs CONFIG_TRANSPARENT_HUGEPAGE (fsx on huge pages), which "
                   "the guest kernel leaves out (it is not cheap: most of mm rebuilds)",
}


def notrun_reason(res, fs, knobs, test):
    """The first line of the test's .notrun file at any knob (fstests' own reason)."""
    for k in knobs:
        try:
            with open(os.path.join(res, fs, "out", f"{fs}-knob{k}", test + ".notrun")) as f:
                line = f.readline().strip()
                if line:
                    return line
        except OSError:
            pass
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--commit", default="?", help="the commit measured")
    ap.add_argument("--command", default="make fstests", help="the command that ran")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--knobs", default="1 0", help="the knob values, the path's first")
    ap.add_argument("--linux", default="7.2")
    ap.add_argument("tsv")
    ap.add_argument("tests", nargs="+")
    a = ap.parse_args()
    knobs = a.knobs.split()
    # The path's knob (1, or rust where the kernel has a C path too) comes first.
    on = knobs[0]
    names = {"0": "generic (0)", "1": "path (1)", "rust": "Rust (rust)", "c": "C (c)"}
    # scripts/fstests keeps each file system's run directory next to the TSV.
    res = os.path.dirname(os.path.abspath(a.tsv))
    rows = collections.OrderedDict()
    fss = []
    try:
        with open(a.tsv) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) == 7:
                    p.append("")
                if len(p) != 8:
                    continue
                fs, knob, test, status, hits, secs, warns, moved = p
                if fs not in fss:
                    fss.append(fs)
                rows[(fs, knob, test)] = (status, int(hits), int(secs), int(warns), moved)
    except FileNotFoundError:
        pass
    print(f"# make fstests: fstests ({a.source}), Linux {a.linux}, at each knob setting\n")
    print(f"Commit: {a.commit}. Command: `{a.command}`.\n")
    print(f"Kernel: Linux {a.linux} + this series ({a.kernel}), QEMU TCG, 2 vCPUs, two emulated "
          "NVMe disks (test, scratch) and a third for the log of dm-log-writes. Each test ran alone at each setting of "
          "/sys/kernel/iomap/simple_read; *hits* is the path's hit counter over the test at "
          f"knob {on} (reads the simple path served); *write hits* the overwrites it served "
          "there (Linux 7.3: /sys/kernel/iomap/simple_write is rust at knob rust, 0 at every "
          "other setting); *seconds* is the test's time at all settings together; *warn* "
          "counts kernel log lines with WARNING/BUG/Oops/KASAN/Call Trace during it.\n")
    regressions = []
    totals = collections.Counter()
    for fs in fss:
        print(f"## {fs}\n")
        head = " | ".join(names.get(k, f"knob {k}") for k in knobs)
        print(f"| test | {head} | hits (knob {on}) | write hits | seconds | warn | note |")
        print("|---|" + "---|" * len(knobs) + "---:|---:|---:|---:|---|")
        for test in a.tests:
            cells = []
            secs = 0
            warns = 0
            for k in knobs:
                r = rows.get((fs, k, test))
                cells.append(r[0] if r else "-")
                if r:
                    secs += r[2]
                    warns += r[3]
                    totals[(k, r[0])] += 1
            r1 = rows.get((fs, on, test))
            hits = str(r1[1]) if r1 else "-"
            moved = dict(c.partition("=")[::2] for c in r1[4].split()) if r1 else {}
            whits = moved.get("write_hits", "0") if r1 else "-"
            st = dict(zip(knobs, cells))
            note = ""
            bad = [k for k in knobs if k != "0" and st.get(k) == "fail" and st.get("0") == "pass"]
            if bad:
                note = f"**regression: fails at knob {', '.join(bad)} only**"
                regressions += [f"{test} on {fs} at knob {k}" for k in bad]
            elif st.get(on) == "fail" and st.get("0") == "fail":
                note = KNOWN.get(test, "fails with the path off as well: see results")
            elif "notrun" in cells:
                why = notrun_reason(res, fs, knobs, test)
                note = KNOWN.get(test) or (f"not run: {why}" if why else "not run")
            elif st.get(on) == "pass" and r1 and r1[1] == 0 and not r1[4]:
                note = "no direct I/O reached the path (buffered, or extending writes)"
            elif st.get(on) == "pass" and r1 and r1[1] == 0 and whits == "0":
                note = "the path declined all of its direct I/O:"
            if st.get(on) == "pass" and r1 and r1[4]:
                # Why the path declined what it did not serve: the counters that moved.
                why = [c for c in r1[4].split()
                       if not c.startswith("hits=") and not c.startswith("write_hits=")]
                if why:
                    sep = " " if note.endswith(":") else "; "
                    note = (note + sep if note else "other counters: ") + " ".join(why)
            print(f"| {test} | " + " | ".join(cells) + f" | {hits} | {whits} | {secs} | {warns} | {note} |")
        print()
    summary = ", ".join(f"knob {k}: " + ", ".join(
        f"{totals[(k, s)]} {s}" for s in ("pass", "fail", "notrun")) for k in knobs)
    print(f"Totals ({summary}).\n")
    for r in regressions:
        print(f"REGRESSION {r}")
    if not regressions:
        print("No test fails at another knob setting that passes at knob 0 (the generic path).")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fold the instruction counts of scripts/insn-profile into functions and compare runs.

Each run directory holds `counts` (block address, instructions executed there) and
`kallsyms` (the guest's /proc/kallsyms, module symbols included). Prints, per read (or per write: --unit),
the instructions of each function in run A and run B and their difference.
"""
import argparse
import bisect
import re
import sys

USER = "[user space]"


def load_symbols(path):
    addrs, names = [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3 or parts[1] not in "tTwW":
                continue
            name = parts[2]
            if len(parts) > 3:
                name += " " + parts[3]
            addrs.append(int(parts[0], 16))
            names.append(name)
    order = sorted(range(len(addrs)), key=addrs.__getitem__)
    return [addrs[i] for i in order], [names[i] for i in order]


def demangle(name, keep=2):
    """Shortens a Rust v0 symbol to its last `keep` path components, enough to read."""
    sym, _, module = name.partition(" ")
    if not sym.startswith("_R"):
        return name
    idents, i = [], 2
    while i < len(sym):
        c = sym[i]
        if c.isdigit():
            j = i
            while j < len(sym) and sym[j].isdigit():
                j += 1
            n = int(sym[i:j])
            if j < len(sym) and sym[j] == "_":
                j += 1
            idents.append(sym[j:j + n])
            i = j + n
        elif c in "sB":
            # A disambiguator or a back reference: base-62 digits up to "_".
            i = sym.find("_", i) + 1 or len(sym)
        else:
            i += 1
    short = "::".join(idents[-keep:]) if idents else sym
    return f"{short} {module}".rstrip()


def fold(rundir):
    addrs, names = load_symbols(f"{rundir}/kallsyms")
    if not addrs:
        sys.exit(f"{rundir}/kallsyms has no symbols (kptr_restrict?)")
    funcs = {}
    total = 0
    with open(f"{rundir}/counts") as f:
        for line in f:
            a, n = line.split()
            a, n = int(a, 16), int(n)
            total += n
            if a < 0xFFFF800000000000:
                key = USER
            else:
                i = bisect.bisect_right(addrs, a) - 1
                key = names[i] if i >= 0 else "[unknown kernel]"
            funcs[key] = funcs.get(key, 0) + n
    return funcs, total


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reads", type=int, required=True)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--title", default="")
    ap.add_argument("--unit", default="read")
    ap.add_argument("a")
    ap.add_argument("b")
    args = ap.parse_args()
    fa, ta = fold(args.a)
    fb, tb = fold(args.b)
    n = args.reads
    print(f"Instructions per {args.unit} ({args.title}): exact counts of the fio job (between the sdio-mark calls), knob 0 vs 1")
    print(f"{'knob 0':>10} {'knob 1':>10} {'1 - 0':>9}  function")
    print(f"{ta / n:10.1f} {tb / n:10.1f} {(tb - ta) / n:+9.1f}  TOTAL (fio job, all code / {args.unit}s)")
    keys = set(fa) | set(fb)
    rows = [(fb.get(k, 0) / n - fa.get(k, 0) / n, k) for k in keys]
    rows = [r for r in rows if abs(r[0]) >= 0.5]
    rows.sort()
    for d, k in rows:
        print(f"{fa.get(k, 0) / n:10.1f} {fb.get(k, 0) / n:10.1f} {d:+9.1f}  {demangle(k)}")
    print(f"\nTop {args.top} functions at knob 1 (instructions per {args.unit}):")
    for k in sorted(fb, key=fb.get, reverse=True)[: args.top]:
        print(f"{fb[k] / n:10.1f}  {demangle(k)}")


if __name__ == "__main__":
    main()

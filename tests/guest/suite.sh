#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest test suite of make test: one TAP line per check in /run/sdio/out/results.
# Each fast-path check reads the path's counters before and after, so a read that
# silently fell back (or was served when it must not be) fails its check.
# Argument "full": longer variant (more reads per case).

. /run/sdio/bin/lib.sh
: >$R
[ "${1:-}" = full ] && COUNT=400

echo "# simple-dio guest suite: kernel $(uname -r), CONFIG_IOMAP_SIMPLE_DIO=${SDIO_SIMPLE_DIO:-?}"

if [ "${SDIO_SIMPLE_DIO:-m}" = m ]; then
	check "module loads" insmod $MOD
fi
if [ "${SDIO_SIMPLE_DIO:-m}" = n ]; then
	skip "simple path not built (CONFIG_IOMAP_SIMPLE_DIO=n)"
	plan
	exit 0
fi
# Each subject is a file: cases/NN-*.sh in name order, and for each of ext4 and XFS,
# cases/fs/NN-*.sh with the file system mounted. A new subject is a new file.
# SDIO_CASES (make test CASES=...), if set, lists the patterns of the cases to run, as
# their names relative to cases/ without ".sh": "fs/90-* 90-kmemleak".
cases=/run/sdio/bin/cases
wanted() {
	local name=${1#$cases/} p r=1
	[ -n "${SDIO_CASES:-}" ] || return 0
	set -f
	for p in $SDIO_CASES; do
		case ${name%.sh} in $p) r=0 ;; esac
	done
	set +f
	return $r
}
[ -z "${SDIO_CASES:-}" ] || echo "# only the cases matching: $SDIO_CASES"
for c in $cases/[0-1]*.sh; do wanted $c && . $c; done
for fs in ext4 xfs; do
	case $fs in
	ext4) mkfs.ext4 -q -F -b 4096 $DEV ;;
	xfs) mkfs.xfs -q -f -b size=4096 $DEV ;;
	esac
	mount -t $fs $DEV $MNT || { not_ok "$fs: mount"; continue; }
	F=$MNT/data
	sdio-check fill $F 1M --seed 7 >/dev/null || not_ok "$fs: fill"
	for c in $cases/fs/*.sh; do wanted $c && . $c; done
	umount $MNT
done
for c in $cases/[2-9]*.sh; do wanted $c && . $c; done

echo "# fast-path counters at the end:"
sed 's/^/#   /' $STATS
plan
grep -c '^not ok' $R >/dev/null && exit 1
exit 0

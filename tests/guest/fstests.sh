#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make fstests, guest side: run fstests' ./check for each test of a list on one file
# system, at each knob value given, test device /dev/nvme0n1, scratch /dev/nvme1n1, the
# log of fstests' dm-log-writes tests /dev/nvme2n1.
# At knob rust, /sys/kernel/iomap/simple_write is rust too (overwrites served by the
# path); at every other setting it is 0.
# Each test runs alone (one ./check per test) so that the hits counter's delta and the
# kernel warnings belong to it. Writes one line per test to /run/sdio/out/fstests.tsv:
#   fs knob test status(pass|fail|notrun) hits seconds warnings counters-moved
# (counters-moved: NAME=DELTA for each counter that moved, write_hits among them)
# and check's results (check.log, .out.bad, .full and .dmesg of failures) under
# /run/sdio/out/<fs>-knob<k>/. Exits 0 when every test ran to a verdict.
# Arguments: FS "KNOBS" TEST...
fs=$1 knobs=$2
shift 2
STATS=/sys/kernel/debug/iomap_simple_dio/stats
out=/run/sdio/out

if [ -f /run/sdio/modules/iomap_simple_dio.ko ] && [ ! -f "$STATS" ]; then
	insmod /run/sdio/modules/iomap_simple_dio.ko || exit 1
fi
[ -f "$STATS" ] || { echo "fstests: the simple path is not registered"; exit 1; }
hits() { awk '$1 == "hits" { print $2 }' "$STATS"; }

# generic/250 and 252 stack dm-error over the scratch device: fstests wants
# /dev/mapper/<name> to be udev's link to /dev/dm-N (it finds /sys/fs/xfs/dm-N through
# it). The guest runs no udev (its kernel has no AF_UNIX for udevd): libdevmapper makes
# the nodes itself, and a dmsetup wrapper first on fstests' PATH turns them into links.
export DM_DISABLE_UDEV=1
mkdir -p /tmp/fstests-bin
cat >/tmp/fstests-bin/dmsetup <<'EOF'
#!/bin/sh
/usr/sbin/dmsetup "$@"
rc=$?
for n in /sys/block/dm-*/dm/name; do
	[ -e "$n" ] || continue
	name=$(cat "$n") dm=${n#/sys/block/}
	dm=${dm%%/*}
	if [ -b "/dev/mapper/$name" ] && [ ! -L "/dev/mapper/$name" ]; then
		ln -sf "../$dm" "/dev/mapper/$name.tmp" && mv -f "/dev/mapper/$name.tmp" "/dev/mapper/$name"
	fi
done
exit $rc
EOF
chmod +x /tmp/fstests-bin/dmsetup
# fstests waits for udevd with "udevadm wait" where udevadm has it (the root has udevadm:
# mdadm depends on udev), and nothing answers that without udevd. A udevadm without
# "wait" makes it settle instead, which has nothing to wait for: the wrapper above made
# the nodes before dmsetup returned.
cat >/tmp/fstests-bin/udevadm <<'EOF'
#!/bin/sh
case $1 in
help | --help) /usr/bin/udevadm "$@" | grep -v 'Wait for device or device symlink' ;;
settle | wait) exit 0 ;;
*) exec /usr/bin/udevadm "$@" ;;
esac
EOF
chmod +x /tmp/fstests-bin/udevadm
export PATH=/tmp/fstests-bin:$PATH
# fstests reads command output through bash's process substitution (`<(...)`, as
# _require_fio does), which needs /dev/fd; without udev nothing links it.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
# fstests writes next to itself: run a copy on tmpfs.
cp -a /var/lib/xfstests /tmp/xfstests || exit 1
cd /tmp/xfstests || exit 1
mkdir -p /tmp/mnt/test /tmp/mnt/scratch
cat >local.config <<EOF
export FSTYP=$fs
export TEST_DEV=/dev/nvme0n1
export TEST_DIR=/tmp/mnt/test
export SCRATCH_DEV=/dev/nvme1n1
export SCRATCH_MNT=/tmp/mnt/scratch
export LOGWRITES_DEV=/dev/nvme2n1
EOF
case $fs in
xfs) mkfs.xfs -q -f /dev/nvme0n1 || exit 1 ;;
*) mkfs."$fs" -q -F /dev/nvme0n1 || exit 1 ;;
esac

warn_re='WARNING:|BUG:|Oops|KASAN:|Call Trace|possible circular locking|INFO: task .* blocked'
for knob in $knobs; do
	echo "$knob" >/sys/kernel/iomap/simple_read || exit 1
	# Writes (Linux 7.3 on): served by the Rust path at rust, by the generic path otherwise.
	if [ -e /sys/kernel/iomap/simple_write ]; then
		wknob=0
		[ "$knob" = rust ] && wknob=rust
		echo $wknob >/sys/kernel/iomap/simple_write || exit 1
	fi
	res=$out/$fs-knob$knob
	mkdir -p "$res"
	for t in "$@"; do
		dmesg >/tmp/dmesg.before
		cp "$STATS" /tmp/stats.before
		h0=$(hits)
		s0=$(date +%s)
		RESULT_BASE=$res ./check "$t" >"$res/${t%%/*}-${t##*/}.check" 2>&1
		rc=$?
		s=$(($(date +%s) - s0))
		h=$(($(hits) - h0))
		# Every counter that moved during the test (why reads were declined, too).
		moved=$(awk 'NR == FNR { b[$1] = $2; next } $2 != b[$1] { printf "%s%s=%d", sep, $1, $2 - b[$1]; sep = " " }' \
			/tmp/stats.before "$STATS")
		dmesg >/tmp/dmesg.after
		w=$(diff /tmp/dmesg.before /tmp/dmesg.after | grep -E -c "$warn_re")
		if [ -f "$res/$t.notrun" ]; then
			st=notrun
		elif [ $rc = 0 ] && [ ! -f "$res/$t.out.bad" ] && [ ! -f "$res/$t.dmesg" ]; then
			st=pass
			rm -f "$res/$t.full"
		else
			st=fail
			diff /tmp/dmesg.before /tmp/dmesg.after >"$res/$t.kernel-log"
		fi
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$fs" "$knob" "$t" "$st" "$h" "$s" "$w" \
			"$moved" >>"$out/fstests.tsv"
		msg="fstests: $fs knob $knob $t: $st, $h hits, ${s}s"
		[ "$w" = 0 ] || msg="$msg, $w kernel warning lines"
		echo "$msg"
	done
done
# The test file system must still be clean.
umount /tmp/mnt/test 2>/dev/null
umount /tmp/mnt/scratch 2>/dev/null
exit 0

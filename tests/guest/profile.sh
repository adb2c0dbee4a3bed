#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make profile, guest side: one run of the workload whose instructions the QEMU plugin
# (scripts/insn-profile) counts, at knob $1. scripts/profile boots twice, knob 0 and
# knob 1, everything else equal, and subtracts. Only what runs between the two
# sdio-mark calls is counted: the fio run of 4 KiB O_DIRECT randreads of a 64 MiB
# file on memory-backed null_blk (set up by tests/guest/icount-lib.sh). /proc/kallsyms
# (module symbols included) is saved to map addresses to functions; the counters prove
# which path ran.
# Arguments: KNOB READS FS ENGINE QD POLLED [RW]  (RW: randread, or randwrite for
# overwrites of the laid-out file, with /sys/kernel/iomap/simple_write at 0 or rust for
# KNOB 0 or 1, counted by write_hits)
knob=$1 reads=$2 fs=$3 engine=$4 qd=$5 polled=$6 RW=${7:-randread}
. /run/sdio/bin/icount-lib.sh
nullb_file "$fs" || exit 1
if [ "$RW" = randwrite ]; then
	# Reads take the generic path in both runs; writes the knob's.
	echo 0 >/sys/kernel/iomap/simple_read || exit 1
	[ "$knob" = 1 ] && wknob=rust || wknob=0
	echo $wknob >/sys/kernel/iomap/simple_write || exit 1
	hits() { stat_of write_hits; }
else
	echo "$knob" >/sys/kernel/iomap/simple_read || exit 1
fi
h0=$(hits)
d0=$(stat_of fallback_fs_not_served)
sdio-mark
randread "$engine" "$qd" "$polled" "$reads" --output=/dev/null || exit 1
sdio-mark
h=$(($(hits) - h0))
d=$(($(stat_of fallback_fs_not_served) - d0))
echo "knob $knob: $reads ${RW#rand}s of 4 KiB, $fs, $engine QD $qd polled $polled: hits $h, fallback_fs_not_served $d"
if [ "$knob" = 0 ] && [ "$h" != 0 ]; then echo "FAIL: knob 0 had $h hits"; exit 1; fi
case $fs in
ext2) # declined: every read offered, none served
	if [ "$knob" = 1 ] && { [ "$h" != 0 ] || [ "$d" -lt "$reads" ]; }; then
		echo "FAIL: knob 1 on $fs: $h hits, $d declined"; exit 1
	fi ;;
*)
	if [ "$knob" = 1 ] && [ "$h" -lt "$reads" ]; then echo "FAIL: knob 1: $h hits < $reads"; exit 1; fi ;;
esac
umount /mnt
cat /proc/kallsyms >/run/sdio/kallsyms

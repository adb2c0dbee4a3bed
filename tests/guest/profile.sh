#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make profile, guest side: one run of the workload whose instructions the QEMU plugin
# (scripts/insn-profile) counts, at knob $1. scripts/profile boots twice, knob 0 and
# knob 1, everything else equal, and subtracts. Only what runs between the two
# sdio-mark calls is counted: the fio run of 4 KiB O_DIRECT randreads of a 64 MiB
# file on memory-backed null_blk (ext4 without lazy init, whose background zeroing
# would land in the counts). /proc/kallsyms (module symbols included) is saved to map
# addresses to functions; the counters prove which path ran.
# Arguments: KNOB READS FS ENGINE QD POLLED
knob=$1 reads=$2 fs=$3 engine=$4 qd=$5 polled=$6
insmod /run/sdio/modules/iomap_simple_dio.ko 2>/dev/null
STATS=/sys/kernel/debug/iomap_simple_dio/stats
hits() { awk '$1 == "hits" { print $2 }' $STATS; }
case $fs in
ext4) mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/nullb0 ;;
xfs) mkfs.xfs -q -f /dev/nullb0 ;;
*) echo "unknown file system $fs"; exit 2 ;;
esac
mount /dev/nullb0 /mnt || exit 1
fio --name=lay --filename=/mnt/f --size=64M --rw=write --bs=1M --direct=1 \
	--ioengine=psync --output=/dev/null || exit 1
hipri=
[ "$polled" = 1 ] && hipri=--hipri
echo "$knob" >/sys/kernel/iomap/simple_read || exit 1
h0=$(hits)
sdio-mark
fio --name=r --filename=/mnt/f --size=64M --io_size=$((reads * 4))k --direct=1 \
	--rw=randread --bs=4k --ioengine="$engine" --iodepth="$qd" $hipri \
	--norandommap --randrepeat=1 --iodepth_batch_submit=$(((qd + 3) / 4)) \
	--output=/dev/null || exit 1
sdio-mark
h=$(($(hits) - h0))
echo "knob $knob: $reads reads of 4 KiB, $fs, $engine QD $qd polled $polled: hits $h"
if [ "$knob" = 0 ] && [ "$h" != 0 ]; then echo "FAIL: knob 0 had $h hits"; exit 1; fi
if [ "$knob" = 1 ] && [ "$h" -lt "$reads" ]; then echo "FAIL: knob 1: $h hits < $reads"; exit 1; fi
umount /mnt
cat /proc/kallsyms >/run/sdio/kallsyms

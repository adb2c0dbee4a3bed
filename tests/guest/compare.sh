#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make compare, guest side: every measured point of one kernel, each bracketed by
# sdio-mark so that the instruction-count plugin (windows=1) writes one window per
# point. The order of the windows is written to /run/sdio/out/windows, one line each:
# "TARGET MODE KNOB HITS". Memory-backed null_blk (module parameters from the host):
# /dev/nullb0 is read raw, /dev/nullb1 carries ext4, then XFS.
# Arguments: KNOBS READS [RAW_ONCE]  (KNOBS: the knob values to measure, "0 c rust", "0 1",
# "1", or "-" for a kernel without the knob; RAW_ONCE 1: the raw device at the first only,
# which the knob cannot touch)
knobs=$1 reads=$2 raw_once=${3:-0}
KNOB=/sys/kernel/iomap/simple_read
STATS=/sys/kernel/debug/iomap_simple_dio/stats
W=/run/sdio/out/windows
mkdir -p /run/sdio/out
: >$W
insmod /run/sdio/modules/iomap_simple_dio.ko 2>/dev/null
MODES="uring poll psync uring8k uring16k"
hits() { [ -r $STATS ] && awk '$1 == "hits" { print $2 }' $STATS || echo -; }

# job FILE MODE: the fio job of one point; the same read sequence on every kernel.
job() {
	case $2 in
	uring) e=io_uring q=32 bs=4 p= ;;
	poll) e=io_uring q=32 bs=4 p=--hipri ;;
	psync) e=psync q=1 bs=4 p= ;;
	uring8k) e=io_uring q=32 bs=8 p= ;;
	uring16k) e=io_uring q=32 bs=16 p= ;;
	esac
	fio --name=r --filename="$1" --size=64M --io_size=$((reads * bs))k --direct=1 \
		--rw=randread --bs=${bs}k --ioengine=$e --iodepth=$q $p --norandommap \
		--randrepeat=1 --iodepth_batch_submit=$(((q + 3) / 4)) --output=/dev/null
}

# measure TARGET FILE: every mode at every knob, one window each.
measure() {
	for mode in $MODES; do
		ks=$knobs
		[ "$1" = raw ] && [ "$raw_once" = 1 ] && ks=${knobs%% *}
		for k in $ks; do
			[ "$k" = - ] || echo "$k" >$KNOB || exit 1
			h0=$(hits)
			sdio-mark
			job "$2" $mode || exit 1
			sdio-mark
			h1=$(hits)
			[ "$h0" = - ] && h=- || h=$((h1 - h0))
			echo "$1 $mode $k $h" >>$W
			echo "point $1 $mode knob $k: hits $h"
		done
	done
}

# Warm-up, not counted: the first fio runs of a boot fault in fio, its libraries and
# the kernel's caches, a one-off cost that would otherwise land in the first window.
n=$reads
reads=256
for mode in $MODES; do
	job /dev/nullb0 $mode || exit 1
done
reads=$n

measure raw /dev/nullb0
for fs in ext4 xfs; do
	case $fs in
	ext4) mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/nullb1 ;;
	xfs) mkfs.xfs -q -f /dev/nullb1 ;;
	esac
	mount /dev/nullb1 /mnt || exit 1
	fio --name=lay --filename=/mnt/f --size=64M --rw=write --bs=1M --direct=1 \
		--ioengine=psync --output=/dev/null || exit 1
	measure $fs /mnt/f
	umount /mnt
done
cat /proc/kallsyms >/run/sdio/kallsyms

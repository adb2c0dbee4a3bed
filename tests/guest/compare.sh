#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make compare, guest side: every measured point of one kernel, each bracketed by
# sdio-mark so that the instruction-count plugin (windows=1) writes one window per
# point. The order of the windows is written to /run/sdio/out/windows, one line each:
# "TARGET MODE KNOB HITS". Memory-backed null_blk (module parameters from the host):
# /dev/nullb0 is read raw, /dev/nullb1 carries ext4, then XFS.
# Arguments: KNOBS READS [RAW_ONCE [RW]]  (KNOBS: the knob values to measure, "0 c rust",
# "0 1", "1", or "-" for a kernel without the knob; RAW_ONCE 1: the raw device at the first
# only, which the knob cannot touch; RW: "read", "write" or "read write", the default)
# Writes (modes w*, kernels with /sys/kernel/iomap/simple_write only) are overwrites of the
# laid-out file, at knob 0 and rust only: simple_write follows the knob, and the C path
# serves no writes (at c they are the generic path's).
knobs=$1 reads=$2 raw_once=${3:-0} rw=${4:-read write}
KNOB=/sys/kernel/iomap/simple_read
WKNOB=/sys/kernel/iomap/simple_write
STATS=/sys/kernel/debug/iomap_simple_dio/stats
W=/run/sdio/out/windows
mkdir -p /run/sdio/out
: >$W
insmod /run/sdio/modules/iomap_simple_dio.ko 2>/dev/null
MODES=
case " $rw " in *" read "*) MODES="uring poll psync uring8k uring16k" ;; esac
case " $rw " in *" write "*) [ -e $WKNOB ] && MODES="$MODES wuring wpsync wdsync wuring16k" ;; esac
# hits MODE: the hit counter of the direction of MODE.
hits() {
	local c=hits
	case $1 in w*) c=write_hits ;; esac
	[ -r $STATS ] && awk -v c=$c '$1 == c { print $2 }' $STATS || echo -
}

# job FILE MODE: the fio job of one point; the same read sequence on every kernel.
job() {
	case $2 in
	uring) e=io_uring q=32 bs=4 p= ;;
	poll) e=io_uring q=32 bs=4 p=--hipri ;;
	psync) e=psync q=1 bs=4 p= ;;
	uring8k) e=io_uring q=32 bs=8 p= ;;
	uring16k) e=io_uring q=32 bs=16 p= ;;
	wuring) e=io_uring q=32 bs=4 p= ;;
	wpsync) e=psync q=1 bs=4 p= ;;
	wdsync) e=psync q=1 bs=4 p=--sync=dsync ;;
	wuring16k) e=io_uring q=32 bs=16 p= ;;
	esac
	case $2 in w*) op=randwrite ;; *) op=randread ;; esac
	fio --name=r --filename="$1" --size=64M --io_size=$((reads * bs))k --direct=1 \
		--rw=$op --bs=${bs}k --ioengine=$e --iodepth=$q $p --norandommap \
		--randrepeat=1 --iodepth_batch_submit=$(((q + 3) / 4)) --output=/dev/null
}

# measure TARGET FILE: every mode at every knob, one window each.
measure() {
	for mode in $MODES; do
		ks=$knobs
		[ "$1" = raw ] && [ "$raw_once" = 1 ] && ks=${knobs%% *}
		for k in $ks; do
			case $mode$k in w*c) continue ;; esac
			[ "$k" = - ] || echo "$k" >$KNOB || exit 1
			if [ -e $WKNOB ]; then
				[ "$k" = rust ] && echo rust >$WKNOB || echo 0 >$WKNOB
			fi
			h0=$(hits $mode)
			sdio-mark
			job "$2" $mode || exit 1
			sdio-mark
			h1=$(hits $mode)
			[ "$h0" = - ] && h=- || h=$((h1 - h0))
			echo "$1 $mode $k $h" >>$W
			echo "point $1 $mode knob $k: hits $h"
		done
	done
}

# phase MODES: warm-up (not counted: the first fio runs of a boot fault in fio, its
# libraries and the kernel's caches, a one-off cost that would otherwise land in the
# first window), then every point of MODES, the raw device's first.
phase() {
	MODES=$1
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
}
rmodes= wmodes=
for mode in $MODES; do
	case $mode in w*) wmodes="$wmodes $mode" ;; *) rmodes="$rmodes $mode" ;; esac
done
# Reads of the raw device as always (its pages never written: null_blk fills them);
# overwrites after it is laid out as the file is, so that no raw write allocates a page of
# null_blk's store, which a file system's overwrite never does.
[ -z "$rmodes" ] || phase "$rmodes"
if [ -n "$wmodes" ]; then
	fio --name=lay --filename=/dev/nullb0 --size=64M --rw=write --bs=1M --direct=1 \
		--ioengine=psync --output=/dev/null || exit 1
	phase "$wmodes"
fi
cat /proc/kallsyms >/run/sdio/kallsyms

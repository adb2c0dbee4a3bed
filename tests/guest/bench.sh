#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench, guest side: fio random reads on ext4, XFS and the raw device, over
# null_blk (memory backed, no emulation latency) and the emulated NVMe disk, knob 0
# and 1 interleaved (A B, B A, ...), every point repeated ROUNDS times. Writes one
# fio JSON per run and points.tsv (with the fast-path counter deltas of each run)
# to /run/sdio/out; scripts/bench_report.py makes the tables and the plot.
# Argument: quick (4k, QD 1 and 64) or full.
MODE=${1:-full}
OUT=/run/sdio/out
mkdir -p $OUT/json
JOBS=/run/sdio/bench
KNOB=/sys/kernel/iomap/simple_read
STATS=/sys/kernel/debug/iomap_simple_dio/stats
IDX=$OUT/points.tsv
ROUNDS=${BENCH_ROUNDS:-3}
SIZE=${BENCH_SIZE:-384M}
RUNTIME=${BENCH_RUNTIME:-2} RAMP=${BENCH_RAMP:-500ms}
[ -f $STATS ] || insmod /run/sdio/modules/iomap_simple_dio.ko || exit 1

if [ "$MODE" = quick ]; then
	RUNTIME=${BENCH_RUNTIME:-1} RAMP=${BENCH_RAMP:-500ms} SIZE=${BENCH_SIZE:-256M}
	POINTS="4k:libaio:1 4k:libaio:64 4k:io_uring:1 4k:io_uring:64 4k:io_uring_poll:1 4k:io_uring_poll:64"
else
	POINTS=""
	for e in libaio io_uring io_uring_poll; do
		for q in 1 64 128 256; do POINTS="$POINTS 4k:$e:$q"; done
	done
	for b in 8k 16k; do
		for q in 1 64; do POINTS="$POINTS $b:io_uring:$q"; done
	done
fi

stat() { awk -v k="$1" '$1 == k { print $2 }' $STATS; }
fallbacks() { awk '$1 ~ /^fallback_/ { s += $2 } END { print s + 0 }' $STATS; }

printf 'dev\tfs\tengine\tbs\tqd\tknob\tround\tjson\thits\tfallbacks\n' >$IDX
n=0
# run DEV FS FILE ENGINE BS QD KNOB ROUND
run() {
	n=$((n + 1))
	json=json/$n.json
	[ "$7" = - ] || echo "$7" >$KNOB
	h0=$(stat hits) f0=$(fallbacks)
	q=$6
	BATCH=1
	[ "$q" -gt 1 ] && BATCH=16
	FILE=$3 BS=$5 QD=$q BATCH=$BATCH SIZE=$SIZE RUNTIME=$RUNTIME RAMP=$RAMP \
		fio --output-format=json --output=$OUT/$json $JOBS/randread-$4.fio >/dev/null 2>$OUT/fio.err ||
		{ echo "fio failed: $*"; cat $OUT/fio.err; return 1; }
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$4" "$5" "$6" "$7" "$8" \
		"$json" $(($(stat hits) - h0)) $(($(fallbacks) - f0)) >>$IDX
}

for dev in nullb0 nvme0n1; do
	[ -b /dev/$dev ] || { echo "no /dev/$dev"; exit 1; }
	for fs in ext4 xfs; do
		case $fs in
		ext4) mkfs.ext4 -q -F /dev/$dev ;;
		xfs) mkfs.xfs -q -f /dev/$dev ;;
		esac
		mount /dev/$dev /mnt || exit 1
		fio --name=layout --filename=/mnt/f --size=$SIZE --rw=write --bs=1M --direct=1 \
			--ioengine=psync >/dev/null || exit 1
		sync
		echo "# $dev $fs: $(echo $POINTS | wc -w) points x $ROUNDS rounds"
		for p in $POINTS; do
			IFS=: read -r bs eng qd <<-P
			$p
			P
			r=1
			while [ $r -le $ROUNDS ]; do
				# Alternate the order so drift does not favour one side.
				if [ $((r % 2)) = 1 ]; then a=0 b=1; else a=1 b=0; fi
				run $dev $fs /mnt/f $eng $bs $qd $a $r || exit 1
				run $dev $fs /mnt/f $eng $bs $qd $b $r || exit 1
				# The raw device ceiling, once per device (measured in the ext4 pass).
				[ $fs = ext4 ] && { run $dev raw /dev/$dev $eng $bs $qd - $r || exit 1; }
				r=$((r + 1))
			done
			echo "#   $p done"
		done
		umount /mnt
	done
done
echo 1 >$KNOB
cat $STATS >$OUT/stats
uname -r >$OUT/kernel

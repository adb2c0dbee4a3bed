#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest test suite of make test: one TAP line per check in /run/sdio/out/results.
# Each fast-path check reads the path's counters before and after, so a read that
# silently fell back (or was served when it must not be) fails its check.
# Argument "full": longer variant (more reads per case).

R=/run/sdio/out/results
mkdir -p /run/sdio/out
: >$R
N=0
DEV=/dev/nvme0n1
MNT=/mnt
KNOB=/sys/kernel/iomap/simple_read
STATS=/sys/kernel/debug/iomap_simple_dio/stats
MOD=/run/sdio/modules/iomap_simple_dio.ko
COUNT=40
[ "${1:-}" = full ] && COUNT=400

ok() { N=$((N + 1)); echo "ok $N $*" | tee -a $R; }
not_ok() { N=$((N + 1)); echo "not ok $N $*" | tee -a $R; }
skip() { N=$((N + 1)); echo "ok $N $* # SKIP" | tee -a $R; }
# check NAME CMD...: ok when CMD succeeds; its output is shown on failure.
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; echo "$out" | sed 's/^/#   /'; fi
}
stat() { awk -v k="$1" '$1 == k { print $2 }' $STATS; }

# expect_stat STAT DELTA CMD...: CMD succeeds and counter STAT grows by exactly DELTA.
expect_stat() {
	st=$1 delta=$2
	shift 2
	before=$(stat "$st")
	"$@" || return 1
	after=$(stat "$st")
	[ "$((after - before))" = "$delta" ] ||
		{ echo "counter $st moved by $((after - before)), expected $delta"; return 1; }
}

# expect_hits DELTA CMD...: like expect_stat for the fast-path hit counter.
expect_hits() { expect_stat hits "$@"; }

echo "# simple-dio guest suite: kernel $(uname -r), CONFIG_IOMAP_SIMPLE_DIO=${SDIO_SIMPLE_DIO:-?}"

if [ "${SDIO_SIMPLE_DIO:-m}" = m ]; then
	check "module loads" insmod $MOD
fi
if [ "${SDIO_SIMPLE_DIO:-m}" = n ]; then
	skip "simple path not built (CONFIG_IOMAP_SIMPLE_DIO=n)"
	exit 0
fi
check "stats file exists" test -r $STATS
check "knob reads 1 by default" sh -c "[ \$(cat $KNOB) = 1 ]"
check "knob rejects 2" sh -c "! echo 2 > $KNOB"
check "knob rejects text" sh -c "! echo on > $KNOB"
check "knob rejects -1" sh -c "! echo -1 > $KNOB"
check "knob accepts 0" sh -c "echo 0 > $KNOB && [ \$(cat $KNOB) = 0 ]"
check "knob accepts 1" sh -c "echo 1 > $KNOB && [ \$(cat $KNOB) = 1 ]"

for fs in ext4 xfs; do
	case $fs in
	ext4) mkfs.ext4 -q -F -b 4096 $DEV ;;
	xfs) mkfs.xfs -q -f -b size=4096 $DEV ;;
	esac
	mount -t $fs $DEV $MNT || { not_ok "$fs: mount"; continue; }
	F=$MNT/data
	sdio-check fill $F 1M --seed 7 >/dev/null || not_ok "$fs: fill"

	for eng in pread aio uring uring-poll; do
		check "$fs: $eng 4k reads served by the fast path, data right" \
			expect_hits $COUNT sdio-check read $F --engine $eng --random --count $COUNT --seed 7
	done
	check "$fs: preadv2 RWF_NOWAIT 4k reads served, data right" \
		expect_hits $COUNT sdio-check read $F --engine preadv2 --nowait --random --count $COUNT --seed 7
	check "$fs: 512-byte read served, data right" \
		expect_hits 1 sdio-check read $F --off 4608 --len 512 --seed 7
	check "$fs: last block served, data right" \
		expect_hits 1 sdio-check read $F --off 1044480 --seed 7

	echo 0 >$KNOB
	for eng in pread aio uring uring-poll; do
		check "$fs: knob 0, $eng: no hit, same data" \
			expect_hits 0 sdio-check read $F --engine $eng --random --count 10 --seed 7
	done
	echo 1 >$KNOB

	# What the fast path must leave to the generic path, with what it returns.
	check "$fs: read past EOF falls back (beyond_eof), short read right" \
		expect_stat fallback_beyond_eof 1 sh -c "
			sdio-check fill $MNT/short 8292 --seed 3 >/dev/null &&
			sdio-check read $MNT/short --off 8192 --seed 3"
	check "$fs: 8k read falls back (too_large), data right" \
		expect_stat fallback_too_large 1 sdio-check read $F --off 8192 --len 8192 --seed 7
	check "$fs: hole falls back (not_mapped), zeros" \
		expect_stat fallback_not_mapped 1 sh -c "
			sdio-check fill $MNT/holey 4096 --seed 3 >/dev/null && truncate -s 1M $MNT/holey &&
			sdio-check read $MNT/holey --off 512k --zero"
	check "$fs: unwritten extent falls back (not_mapped), zeros" \
		expect_stat fallback_not_mapped 1 sh -c "
			fallocate -l 64k $MNT/prealloc && sdio-check read $MNT/prealloc --off 16k --zero"
	check "$fs: misaligned offset: EINVAL" \
		sdio-check read $F --off 100 --len 512 --expect-errno EINVAL
	check "$fs: misaligned length: EINVAL" \
		sdio-check read $F --off 0 --len 1000 --expect-errno EINVAL
	check "$fs: misaligned buffer: EINVAL" \
		sdio-check read $F --off 0 --buf-off 1 --expect-errno EINVAL
	check "$fs: read at EOF returns 0" \
		sdio-check read $F --off 1M --seed 7
	check "$fs: two-segment iovec read, data right" \
		sdio-check read $F --engine preadv2 --iov 2 --off 12288 --seed 7
	check "$fs: partly unmapped buffer: EFAULT" \
		sdio-check read $F --off 0 --len 4k --buf-off 2048 --unmapped --expect-errno EFAULT

	if [ "${SDIO_SIMPLE_DIO:-m}" = m ]; then
		# Unload while polled io_uring reads run: they go on through the generic path.
		sdio-check read $F --engine uring-poll --random --secs 6 --seed 7 >/tmp/loop.out 2>&1 &
		loop=$!
		sleep 2
		check "$fs: module unloads under polled io_uring load" rmmod iomap_simple_dio
		sleep 1
		check "$fs: module reloads" insmod $MOD
		# wait must run in this shell, which started the loop.
		wait $loop
		lrc=$?
		check "$fs: polled reads across unload/reload all right (exit $lrc)" test $lrc = 0
		sed 's/^/#   /' /tmp/loop.out
	fi
	umount $MNT
done

echo "# fast-path counters at the end:"
sed 's/^/#   /' $STATS
grep -c '^not ok' $R >/dev/null && exit 1
exit 0

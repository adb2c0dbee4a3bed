# SPDX-License-Identifier: GPL-2.0
# Shared helpers of the guest suites: sourced by suite.sh (and by any script run with
# scripts/vm that wants them). Results are TAP lines in /run/sdio/out/results.

R=/run/sdio/out/results
mkdir -p /run/sdio/out
N=0
DEV=/dev/nvme0n1
MNT=/mnt
KNOB=/sys/kernel/iomap/simple_read
# Where ext4 and XFS opt in through iomap_dio_read_simple() (Linux 7.3 on), the knob also
# selects the kernel's C path ("c") and names the registered path "rust"; before, it is 0/1.
case $(uname -r) in
7.2.*) OPT_IN=0 KNOB_ON=1 ;;
*) OPT_IN=1 KNOB_ON=rust ;;
esac
STATS=/sys/kernel/debug/iomap_simple_dio/stats
MOD=/run/sdio/modules/iomap_simple_dio.ko
CFG=/sys/kernel/config
COUNT=40

ok() { N=$((N + 1)); echo "ok $N $*" | tee -a $R; }
not_ok() { N=$((N + 1)); echo "not ok $N $*" | tee -a $R; }
skip() { N=$((N + 1)); echo "ok $N $* # SKIP" | tee -a $R; }
# plan: the TAP plan line, last: as many results as were written.
plan() { echo "1..$N" | tee -a $R; }
# check NAME CMD...: ok when CMD succeeds; its output is shown on failure.
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; echo "$out" | sed 's/^/#   /'; fi
}
# counter NAME: the current value of one of the path's counters.
counter() { awk -v k="$1" '$1 == k { print $2 }' $STATS; }

# expect_stat STAT DELTA CMD...: CMD succeeds and counter STAT grows by exactly DELTA.
expect_stat() {
	st=$1 delta=$2
	shift 2
	before=$(counter "$st")
	"$@" || return 1
	after=$(counter "$st")
	[ "$((after - before))" = "$delta" ] ||
		{ echo "counter $st moved by $((after - before)), expected $delta"; return 1; }
}

# expect_hits DELTA CMD...: like expect_stat for the fast-path hit counter.
expect_hits() { expect_stat hits "$@"; }

# loop_reads IMG ENGINE COUNT: COUNT random 4 KiB O_DIRECT reads, checked byte for byte, of
# a loop device with direct I/O over IMG (a pattern file, seed 9), detached afterwards.
loop_reads() {
	local dev rc
	dev=$(losetup --direct-io=on --show -f "$1") || return 1
	if [ "$(cat /sys/block/${dev#/dev/}/loop/dio)" != 1 ]; then
		echo "$dev: direct I/O is off"
		losetup -d "$dev"
		return 1
	fi
	sdio-check read "$dev" --engine "$2" --random --count "$3" --seed 9
	rc=$?
	losetup -d "$dev"
	return $rc
}

# pins: FOLL_PIN pages acquired minus released, system wide (per-CPU deltas folded first).
pins() {
	echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null
	awk '$1 == "nr_foll_pin_acquired" { a = $2 } $1 == "nr_foll_pin_released" { r = $2 }
		END { print a - r }' /proc/vmstat
}

# pins_released CMD...: CMD succeeds and leaves no user page pinned (an error path that
# forgot to unpin would leave its pages pinned forever).
pins_released() {
	local before after
	before=$(pins)
	"$@" || return 1
	after=$(pins)
	[ "$after" = "$before" ] || { echo "pinned pages: $before before, $after after"; return 1; }
}

# two_extents DIR: a file whose two blocks are not contiguous on disk (another file's
# block was allocated between them); an 8k read of both falls back and is right.
two_extents() {
	local n
	# Two written extents that are not physically contiguous, whatever the allocator does:
	# three blocks, then the middle one collapsed away (its successor moves to block 1,
	# two blocks from block 0 on disk), then block 1 rewritten in place with its pattern.
	# (Writing a wedge file in between is not enough: ext4's per-inode preallocation
	# keeps a file's next block right after its first.)
	sdio-check fill "$1/frag" 12288 --seed 4 >/dev/null && sync &&
		fallocate -c -o 4096 -l 4096 "$1/frag" &&
		sdio-check write "$1/frag" --off 4096 --len 4096 --seed 4 && sync || return 1
	n=$(filefrag "$1/frag" | awk '{ print $2 }')
	[ "$n" -ge 2 ] || { echo "set-up: frag has $n extent(s), not 2: $(filefrag -v "$1/frag")"; return 1; }
	expect_stat fallback_partial_mapping 1 sdio-check read "$1/frag" --len 8k --seed 4
}

# expect_hits_min MIN CMD...: CMD succeeds and the hit counter grows by MIN or more.
expect_hits_min() {
	local min=$1 before after
	shift
	before=$(counter hits)
	"$@" || return 1
	after=$(counter hits)
	[ "$((after - before))" -ge "$min" ] ||
		{ echo "hits moved by $((after - before)), expected >= $min"; return 1; }
}

# load_unload FILE SIZE: a fio verify load while the module is unloaded and loaded
# again twice; reads fall back and return, and verify, the same data throughout.
load_unload() {
	fio --name=verify --filename="$1" --size="$2" --rw=randread --bs=4k --direct=1 \
		--ioengine=io_uring --iodepth=32 --numjobs=2 --verify=crc32c \
		--verify_fatal=1 --runtime=10 --time_based --output=/tmp/fio.unload &
	local pid=$! i=0
	sleep 2
	while [ $i -lt 2 ]; do
		rmmod iomap_simple_dio || return 1
		sleep 1
		insmod $MOD || return 1
		sleep 1
		i=$((i + 1))
	done
	wait $pid || { cat /tmp/fio.unload; return 1; }
}

# dirty_read FILE OFF: buffered write left dirty, then an O_DIRECT read of it is
# served (after the flush) and returns the new data.
dirty_read() {
	sdio-check write "$1" --off "$2" --len 4096 --seed 9 &&
		expect_hits 1 sdio-check read "$1" --off "$2" --seed 9
}

# nowait_dirty FILE OFF: RWF_NOWAIT over dirty page cache is EAGAIN (counted), and
# the data is right once read without it.
nowait_dirty() {
	sdio-check write "$1" --off "$2" --len 4096 --seed 9 &&
		expect_stat eagain_nowait 1 sdio-check read "$1" --engine preadv2 --nowait \
			--off "$2" --expect-errno EAGAIN &&
		sdio-check read "$1" --off "$2" --seed 9
}


# dio_trace CMD...: runs CMD and prints the iomap_dio_* trace events it caused, one a
# line, from the event name on (no task, CPU or time columns); fails if CMD fails.
dio_trace() {
	local t=/sys/kernel/tracing e rc
	echo 0 >$t/tracing_on
	: >$t/trace
	for e in iomap_dio_rw_begin iomap_dio_rw_queued iomap_dio_complete; do
		echo 1 >$t/events/iomap/$e/enable
	done
	echo 1 >$t/tracing_on
	"$@" >/dev/null 2>&1
	rc=$?
	echo 0 >$t/tracing_on
	echo 0 >$t/events/iomap/enable
	sed -n 's/^.* \(iomap_dio_[a-z_]*: .*\)$/\1/p' $t/trace
	return $rc
}

# same_trace CMD...: CMD succeeds at knob 0 and 1 and causes the same iomap_dio_* trace
# events at both; the knob is 1 afterwards.
same_trace() {
	local a b
	echo 0 >$KNOB
	a=$(dio_trace "$@") || { echo 1 >$KNOB; echo "knob 0: $* failed"; return 1; }
	echo 1 >$KNOB
	b=$(dio_trace "$@") || { echo "knob 1: $* failed"; return 1; }
	[ -n "$a" ] && [ "$a" = "$b" ] ||
		{ printf 'knob 0:\n%s\nknob 1:\n%s\n' "$a" "$b"; return 1; }
}

# iter_events CMD...: runs CMD and prints how many iomap_iter trace events it caused: the
# generic path's mapping loop emits them, the simple paths (Rust and C) never do.
iter_events() {
	local t=/sys/kernel/tracing rc
	echo 0 >$t/tracing_on
	: >$t/trace
	echo 1 >$t/events/iomap/iomap_iter/enable
	echo 1 >$t/tracing_on
	"$@" >/dev/null 2>&1
	rc=$?
	echo 0 >$t/tracing_on
	echo 0 >$t/events/iomap/iomap_iter/enable
	grep -c 'iomap_iter:' $t/trace
	return $rc
}

# expect_path PATH HITS CMD...: CMD succeeds, the Rust path's hit counter grows by HITS,
# and the read took PATH: "generic" (iomap_iter events) or "simple" (none: the Rust path
# or the C path).
expect_path() {
	local path=$1 hits=$2 n
	shift 2
	n=$(expect_hits "$hits" iter_events "$@") || { echo "$n"; return 1; }
	case $path in
	generic) [ "$n" -gt 0 ] || { echo "no iomap_iter event: the generic path did not run"; return 1; } ;;
	simple) [ "$n" = 0 ] || { echo "$n iomap_iter events: the generic path ran"; return 1; } ;;
	esac
}

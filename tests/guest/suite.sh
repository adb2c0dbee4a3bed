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

	# Page cache over the range: flushed first, the read returns the new data.
	sdio-check fill $MNT/dirty 64k --seed 7 >/dev/null
	check "$fs: buffered write not yet flushed: read served, new data" dirty_read $MNT/dirty 40960
	check "$fs: RWF_NOWAIT over dirty page cache: EAGAIN, counted" nowait_dirty $MNT/dirty 45056
	# The iomap trace events show the path in tracefs.
	T=/sys/kernel/tracing
	if [ -d $T/events/iomap/iomap_dio_rw_begin ]; then
		echo 0 >$T/tracing_on; : >$T/trace
		echo 1 >$T/events/iomap/iomap_dio_rw_begin/enable
		echo 1 >$T/events/iomap/iomap_dio_rw_queued/enable
		echo 1 >$T/events/iomap/iomap_dio_complete/enable
		echo 1 >$T/events/iomap/iomap_iter/enable
		echo 1 >$T/tracing_on
		sdio-check read $F --engine uring --off 8192 --seed 7 >/dev/null
		echo 0 >$T/tracing_on
		echo 0 >$T/events/iomap/enable
		# No iomap_iter event: the generic path did not run.
		check "$fs: trace shows iomap_dio_rw_begin/queued/complete and no iomap_iter" sh -c "
			grep -q 'iomap_dio_rw_begin:.*offset 0x2000 length 0x1000' $T/trace &&
			grep -q 'iomap_dio_rw_queued:.*offset 0x3000 length 0x0' $T/trace &&
			grep -q 'iomap_dio_complete:.*aio 1 error 0 ret 4096' $T/trace &&
			! grep -q 'iomap_iter:' $T/trace || { cat $T/trace; exit 1; }"
		# What a tracer sees is what the generic path shows: served, and failed before
		# submission (misaligned after mapping; EAGAIN before it).
		check "$fs: served pread: the generic path's trace events" \
			expect_hits 1 same_trace sdio-check read $F --off 8192 --seed 7
		check "$fs: misaligned read: EINVAL, the generic path's trace events" \
			expect_stat einval_unaligned 1 same_trace sdio-check read $F --off 100 --len 512 \
			--expect-errno EINVAL
		# Writeback does not start on its own within the two reads: the page stays dirty.
		sdio-check write $MNT/dirty --off 49152 --len 4096 --seed 9
		check "$fs: RWF_NOWAIT over dirty page cache: EAGAIN, the generic path's trace events" \
			expect_stat eagain_nowait 1 same_trace sdio-check read $MNT/dirty --engine preadv2 \
			--nowait --off 49152 --expect-errno EAGAIN
	else
		not_ok "$fs: no iomap trace events in tracefs"
	fi

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
	# Multi-block reads that one extent covers: served up to 64 KiB.
	for kib in 8 16 32 64; do
		for eng in pread uring-poll; do
			check "$fs: ${kib}k $eng reads served, data right" \
				expect_hits 20 sdio-check read $F --engine $eng --len ${kib}k --random --count 20 --seed 7
		done
	done
	check "$fs: 128k read falls back (too_large), data right" \
		expect_stat fallback_too_large 1 sdio-check read $F --off 128k --len 128k --seed 7
	check "$fs: 68k read falls back (too_large), data right" \
		expect_stat fallback_too_large 1 sdio-check read $F --off 64k --len 68k --seed 7
	check "$fs: 8k read over two extents falls back (partial_mapping), data right" \
		two_extents $MNT
	check "$fs: 8k read over data + hole falls back (partial_mapping), data right" \
		expect_stat fallback_partial_mapping 1 sh -c "
			sdio-check fill $MNT/datahole 4096 --seed 3 >/dev/null && truncate -s 64k $MNT/datahole &&
			sdio-check read $MNT/datahole --off 0 --len 8k --seed 3 --zero-from 4096"
	check "$fs: 8k read over data + unwritten falls back (partial_mapping), data right" \
		expect_stat fallback_partial_mapping 1 sh -c "
			sdio-check fill $MNT/dataunw 4096 --seed 3 >/dev/null &&
			fallocate -o 4096 -l 60k $MNT/dataunw &&
			sdio-check read $MNT/dataunw --off 0 --len 8k --seed 3 --zero-from 4096"
	check "$fs: hole falls back (not_mapped), zeros" \
		expect_stat fallback_not_mapped 1 sh -c "
			sdio-check fill $MNT/holey 4096 --seed 3 >/dev/null && truncate -s 1M $MNT/holey &&
			sdio-check read $MNT/holey --off 512k --zero"
	check "$fs: unwritten extent falls back (not_mapped), zeros" \
		expect_stat fallback_not_mapped 1 sh -c "
			fallocate -l 64k $MNT/prealloc && sdio-check read $MNT/prealloc --off 16k --zero"
	# The generic path reports an error of its mapping loop through fserror, misalignment
	# included (iomap_dio_complete()): so does the path, at either knob.
	for knob in 1 0; do
		echo $knob >$KNOB
		check "$fs: misaligned offset, knob $knob: EINVAL, FAN_FS_ERROR EINVAL" \
			sdio-check read $F --off 100 --len 512 --expect-errno EINVAL --fs-error EINVAL
	done
	echo 1 >$KNOB
	check "$fs: misaligned length: EINVAL" \
		sdio-check read $F --off 0 --len 1000 --expect-errno EINVAL
	check "$fs: misaligned buffer: EINVAL" \
		sdio-check read $F --off 0 --buf-off 1 --expect-errno EINVAL
	# A buffer that starts inside a page spans one page more than it is long; each page
	# is pinned into a vector of its own, and every pin is dropped again.
	for kib in 4 16 64; do
		for eng in pread uring; do
			check "$fs: ${kib}k $eng read into a buffer 512 bytes into a page: served, data right, pins dropped" \
				expect_hits 1 pins_released sdio-check read $F --engine $eng --off 64k --len ${kib}k \
				--buf-off 512 --seed 7
		done
	done
	# A registered io_uring buffer comes as an ITER_BVEC iterator, as loop's and nfsd's
	# reads do: bio_iov_iter_get_pages() uses its pages in place, nothing is pinned or
	# dirtied by the path, and io_uring drops its own pins when the buffer is unregistered.
	for kib in 4 64; do
		check "$fs: ${kib}k read into a registered io_uring buffer (ITER_BVEC): served, data right" \
			expect_hits 1 pins_released sdio-check read $F --engine uring-fixed --off 64k \
			--len ${kib}k --seed 7
	done
	check "$fs: 16k registered-buffer read 512 bytes into a page: served, data right" \
		expect_hits 1 pins_released sdio-check read $F --engine uring-fixed --off 64k --len 16k \
		--buf-off 512 --seed 7
	# A loop device with direct I/O reads its backing file through ->read_iter from its
	# worker, asynchronously (->ki_complete from the bio's completion), into the request's
	# pages (ITER_BVEC): each 4 KiB read of the device is one read served.
	sdio-check fill $MNT/loopimg 1M --seed 9 >/dev/null
	for eng in pread uring; do
		check "$fs: $eng reads of a loop device (direct I/O) over a file on $fs: served, data right" \
			expect_hits 64 loop_reads $MNT/loopimg $eng 64
	done
	# File pages (a shared mapping) are not anonymous: bio_set_pages_dirty() dirties them.
	check "$fs: read into a shared mapping of a tmpfs file: served, data right, pins dropped" \
		expect_hits 1 pins_released sdio-check read $F --off 8k --buf-file /tmp/sdio-buf --seed 7
	check "$fs: uring read into a shared mapping of a file on $fs: served, data right, pins dropped" \
		expect_hits 1 pins_released sdio-check read $F --engine uring --off 8k --len 16k \
		--buf-file $MNT/bufmap --seed 7
	check "$fs: read at EOF returns 0" \
		sdio-check read $F --off 1M --seed 7
	check "$fs: two-segment iovec read, data right" \
		sdio-check read $F --engine preadv2 --iov 2 --off 12288 --seed 7
	check "$fs: partly unmapped buffer: EFAULT, no page left pinned" \
		pins_released sdio-check read $F --off 0 --len 4k --buf-off 2048 --unmapped \
		--expect-errno EFAULT

	check "$fs: zero-length read returns 0" sdio-check read $F --off 4096 --len 0
	check "$fs: reads racing truncate/extend: no stale data past EOF" sh -c "
		sdio-check fill $MNT/race 256k --seed 6 >/dev/null &&
		sdio-check read $MNT/race --engine uring --random --race-truncate --secs 3 --seed 6"

	# Knob flipped 0/1 while reads run on every engine: data stays right.
	pids=""
	for eng in pread aio uring uring-poll; do
		sdio-check read $F --engine $eng --random --secs 4 --seed 7 >/tmp/flip.$eng 2>&1 &
		pids="$pids $!"
	done
	i=0
	while [ $i -lt 200 ]; do echo $((i % 2)) >$KNOB; i=$((i + 1)); done
	echo 1 >$KNOB
	frc=0
	for p in $pids; do wait $p || frc=1; done
	check "$fs: knob flipped 200 times under reads on 4 engines, data right" test $frc = 0
	[ $frc = 0 ] || cat /tmp/flip.*

	# fio verify load: several jobs, QD 32, both engines, crc32c over every block.
	LOADSIZE=256M
	[ "${1:-}" = full ] && LOADSIZE=1G
	# A debug kernel (KASAN, lockdep, kmemleak) writes the layout ten times slower under
	# TCG: a smaller file keeps make test DEBUG=1 within its time (the reads are timed).
	[ -e /sys/kernel/debug/kmemleak ] && LOADSIZE=32M
	# Verify headers are per block: written and read with the same 4k block size.
	fio --name=lay --filename=$MNT/load --size=$LOADSIZE --rw=write --bs=4k --direct=1 \
		--ioengine=libaio --iodepth=32 --verify=crc32c --do_verify=0 --eta=never --output=/dev/null
	for eng in libaio io_uring; do
		check "$fs: fio verify randread $LOADSIZE, 4 jobs, QD 32, $eng: no verify error" \
			expect_hits_min 1000 fio --name=verify --filename=$MNT/load --size=$LOADSIZE \
			--rw=randread --bs=4k --direct=1 --ioengine=$eng --iodepth=32 --numjobs=4 \
			--verify=crc32c --verify_fatal=1 --runtime=8 --time_based \
			--group_reporting --output=/tmp/fio.$eng
	done

	if [ "${SDIO_SIMPLE_DIO:-m}" = m ]; then
		check "$fs: fio verify load across module unload/reload: no verify error" \
			load_unload $MNT/load $LOADSIZE

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

# Other callers of iomap_dio_rw(): the path declines file systems it does not serve
# (fallback_fs_not_served counts every read, hits none), and their reads stay right at
# both knob settings. erofs is the case that needs a real struct iomap_iter: its
# ->iomap_begin container_of()s the iomap to find its per-call context.
other_fs_reads() {
	local fs=$1 f=$2 kib eng
	for kib in 4 16; do
		for eng in pread uring; do
			check "$fs: ${kib}k $eng reads declined (fs_not_served), no hit, data right" \
				expect_hits 0 expect_stat fallback_fs_not_served 10 \
				sdio-check read $f --engine $eng --len ${kib}k --random --count 10 --seed 8
		done
	done
	check "$fs: 512-byte read declined, data right" \
		expect_stat fallback_fs_not_served 1 sdio-check read $f --off 1536 --len 512 --seed 8
	echo 0 >$KNOB
	check "$fs: knob 0: not offered, data right" \
		expect_stat fallback_fs_not_served 0 sdio-check read $f --len 16k --random --count 10 --seed 8
	echo 1 >$KNOB
}
for fs in ext2 exfat erofs; do
	case $fs in
	ext2) mkfs.ext2 -q -F -b 4096 $DEV && mount -t ext2 $DEV $MNT &&
		sdio-check fill $MNT/data 1M --seed 8 >/dev/null ;;
	exfat) mkfs.exfat $DEV >/dev/null && mount -t exfat $DEV $MNT &&
		sdio-check fill $MNT/data 1M --seed 8 >/dev/null ;;
	# An uncompressed image of known files, written to the NVMe disk.
	erofs) rm -rf /tmp/erofs.src && mkdir /tmp/erofs.src &&
		sdio-check fill /tmp/erofs.src/data 1M --seed 8 >/dev/null &&
		mkfs.erofs /tmp/erofs.img /tmp/erofs.src >/dev/null &&
		dd if=/tmp/erofs.img of=$DEV bs=1M oflag=direct status=none &&
		rm -rf /tmp/erofs.src /tmp/erofs.img && mount -t erofs -o ro $DEV $MNT ;;
	esac || { not_ok "$fs: make and mount"; umount $MNT 2>/dev/null; continue; }
	other_fs_reads $fs $MNT/data
	if [ $fs != erofs ]; then
		check "$fs: reads racing truncate/extend: no stale data past EOF" sh -c "
			sdio-check fill $MNT/race 256k --seed 6 >/dev/null &&
			sdio-check read $MNT/race --engine uring --random --race-truncate --secs 3 --seed 6"
	fi
	umount $MNT
done

# Fault injection: a memory-backed null_blk with a poll queue (so every engine,
# REQ_NOWAIT and polled I/O included, works on it); bad blocks are set under one block
# of a file while the file system stays mounted. Served reads of that block must fail
# with EIO on every engine, async completions through the workqueue, and the error must
# reach userspace as a fanotify FAN_FS_ERROR event (fserror), no page may stay pinned;
# the block reads back right once the bad blocks are cleared.
mountpoint -q $CFG || mount -t configfs configfs $CFG
NB=$CFG/nullb/sdiofault
for fs in ext4 xfs; do
	mkdir $NB && echo 1024 >$NB/size && echo 1 >$NB/memory_backed &&
		echo 1 >$NB/poll_queues && echo 1 >$NB/power || { not_ok "$fs: null_blk setup"; break; }
	# A configfs null_blk disk is named after its directory.
	NBDEV=/dev/sdiofault
	case $fs in
	ext4) mkfs.ext4 -q -F $NBDEV ;;
	xfs) mkfs.xfs -q -f $NBDEV ;;
	esac
	mount $NBDEV $MNT || { not_ok "$fs: mount $NBDEV"; echo 0 >$NB/power; rmdir $NB; continue; }
	sdio-check fill $MNT/victim 64k --seed 5 >/dev/null
	# Physical start, in 512-byte sectors, of the file's block 4.
	P=$(filefrag -v -b512 $MNT/victim | awk '$1 == "0:" { sub(/\.\./, "", $4); print $4 + 32 }')
	[ -n "$P" ] || not_ok "$fs: filefrag"
	echo "+$P-$((P + 7))" >$NB/badblocks
	for eng in pread aio uring uring-poll; do
		work=1
		[ $eng = pread ] && work=0
		check "$fs: device error, $eng: EIO, served, counted, FAN_FS_ERROR" \
			expect_stat read_errors 1 expect_stat work_completions $work \
			expect_hits 1 pins_released sdio-check read $MNT/victim --engine $eng --off 16k \
			--expect-errno EIO --fs-error EIO
	done
	echo 0 >$KNOB
	check "$fs: device error, knob 0: the generic path reports it the same way" \
		expect_hits 0 sdio-check read $MNT/victim --engine aio --off 16k --expect-errno EIO \
		--fs-error EIO
	echo 1 >$KNOB
	check "$fs: device error: neighbouring block still reads right" \
		sdio-check read $MNT/victim --engine uring --off 12k --seed 5
	echo "-$P-$((P + 7))" >$NB/badblocks
	check "$fs: bad blocks cleared: block reads right again" \
		expect_hits 1 sdio-check read $MNT/victim --engine aio --off 16k --seed 5
	umount $MNT
	echo 0 >$NB/power
	rmdir $NB
done

. /run/sdio/bin/stacks.sh

# A debug kernel's kmemleak must find nothing (a leaked bio, say) after all of it.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	check "kmemleak: no leak reported" sh -c "! grep -q unreferenced /sys/kernel/debug/kmemleak || { head -60 /sys/kernel/debug/kmemleak; exit 1; }"
fi

echo "# fast-path counters at the end:"
sed 's/^/#   /' $STATS
plan
grep -c '^not ok' $R >/dev/null && exit 1
exit 0

# SPDX-License-Identifier: GPL-2.0
# The iomap trace events: what a tracer sees is what the generic path shows.
# Sourced by suite.sh for each of ext4 and XFS, mounted on $MNT ($fs), with the 1 MiB
# pattern file $F (seed 7).

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

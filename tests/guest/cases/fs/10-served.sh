# SPDX-License-Identifier: GPL-2.0
# Reads the path serves: every engine, small and last blocks, dirty page cache.
# Sourced by suite.sh for each of ext4 and XFS, mounted on $MNT ($fs), with the 1 MiB
# pattern file $F (seed 7).

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

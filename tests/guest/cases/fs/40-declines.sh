# SPDX-License-Identifier: GPL-2.0
# What the path leaves to the generic path, each with its counter, and what it returns.
# Sourced by suite.sh for each of ext4 and XFS, mounted on $MNT ($fs), with the 1 MiB
# pattern file $F (seed 7).

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

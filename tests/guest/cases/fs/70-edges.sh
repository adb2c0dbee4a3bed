# SPDX-License-Identifier: GPL-2.0
# Edges: EOF, iovecs, unmapped buffers, zero length, truncate races.
# Sourced by suite.sh for each of ext4 and XFS, mounted on $MNT ($fs), with the 1 MiB
# pattern file $F (seed 7).

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

# SPDX-License-Identifier: GPL-2.0
# Buffers of every kind: inside a page, registered io_uring buffers, loop devices,
# shared file mappings; pins dropped.
# Sourced by suite.sh for each of ext4 and XFS, mounted on $MNT ($fs), with the 1 MiB
# pattern file $F (seed 7).

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

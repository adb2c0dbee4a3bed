# SPDX-License-Identifier: GPL-2.0
# Direct overwrites: served when /sys/kernel/iomap/simple_write selects the path, declined
# with a counter of their own where the generic path would do something else, and the data
# read back byte for byte after each write (direct) and over the whole file at the end
# (direct, then buffered). Sourced by suite.sh for each of ext4 and XFS, mounted on $MNT
# ($fs).

WKNOB=/sys/kernel/iomap/simple_write
W=$MNT/wdata
# wfill: $W as a fresh 1 MiB pattern file (seed 3), clean, its page cache dropped.
wfill() { sdio-check fill $W 1M --seed 3 >/dev/null; }
# wcheck NAME STAT DELTA ARGS...: a dwrite of $W, fresh, must succeed, leave the file right
# and move counter STAT by exactly DELTA.
wcheck() {
	local name=$1 st=$2 delta=$3
	shift 3
	wfill
	check "$fs: $name" expect_stat $st $delta sdio-check dwrite $W --base-seed 3 "$@"
}

# nowait_writes FILE: 8 RWF_NOWAIT overwrites of FILE. A file system fails one with EAGAIN
# before it offers it when the write must update the file's timestamps (kiocb_modified()), at
# either setting; every other one is served, and every one that succeeds is right.
nowait_writes() {
	local h0 out allowed
	h0=$(counter write_hits)
	out=$(sdio-check dwrite $1 --engine pwritev2 --nowait --random --count 8 --seed 23 \
		--allow-errno EAGAIN --base-seed 3) || { echo "$out"; return 1; }
	allowed=$(echo "$out" | awk '/^allowed:/ { print $2 }')
	[ $(($(counter write_hits) - h0)) = $((8 - allowed)) ] || {
		echo "$out"
		echo "write_hits +$(($(counter write_hits) - h0)), expected $((8 - allowed))"
		return 1
	}
}

if [ ! -e $WKNOB ]; then
	skip "$fs: no simple_write knob (no file system offers writes before Linux 7.3)"
else
	check "$fs: simple_write is 0 by default" [ "$(cat $WKNOB)" = 0 ]
	wcheck "knob 0: 4k overwrites take the generic path, data right" write_hits 0 \
		--random --count 8 --seed 11
	echo rust >$WKNOB
	check "$fs: simple_write reads back rust" [ "$(cat $WKNOB)" = rust ]
	for eng in pwrite aio uring uring-poll uring-fixed; do
		wcheck "$eng 4k overwrites served, data right" write_hits $COUNT \
			--engine $eng --random --count $COUNT --seed 11
	done
	for len in 8k 16k 64k; do
		wcheck "$len overwrites served, data right" write_hits 4 \
			--len $len --random --count 4 --seed 13
	done
	# XFS writes a range that is not block aligned with xfs_file_dio_write_unaligned(),
	# under the exclusive lock, which offers nothing; ext4 offers it when no zeroing is due.
	n512=4
	[ $fs = xfs ] && n512=0
	wcheck "512-byte overwrites: $n512 served, data right" write_hits $n512 \
		--len 512 --random --count 4 --seed 13
	wcheck "16k from two iovecs served, data right" write_hits 4 \
		--len 16k --iov 2 --random --count 4 --seed 17
	wcheck "buffer at an offset inside its page served, data right" write_hits 4 \
		--buf-off 512 --random --count 4 --seed 19
	wfill
	check "$fs: RWF_NOWAIT overwrites: each served or EAGAIN before the offer, data right" \
		nowait_writes $W
	# The emulated NVMe disk has a volatile write cache and FUA: a dsync overwrite whose
	# mapping needs no metadata sync is written through, with nothing to sync after.
	for eng in pwritev2 uring; do
		wfill
		check "$fs: RWF_DSYNC $eng overwrites served, REQ_FUA, data right" \
			expect_stat write_fua 8 expect_stat write_hits 8 \
			sdio-check dwrite $W --engine $eng --dsync --random --count 8 --seed 29 \
			--base-seed 3
	done

	# RWF_SYNC (IOCB_SYNC): never FUA, a full sync of the file after each write.
	wfill
	check "$fs: RWF_SYNC overwrites served, synced after, no REQ_FUA, data right" \
		expect_stat write_fua 0 expect_stat write_hits 8 \
		sdio-check dwrite $W --engine pwritev2 --sync --random --count 8 --seed 31 \
		--base-seed 3

	# Declines: each with its counter, and the generic path writes the data.
	wcheck "128k write: declined, too large" write_fallback_too_large 1 \
		--len 128k --off 256k --seed 37
	wfill
	cat $W >/dev/null
	check "$fs: overwrite over cached pages: declined, buffered reads see the new data" \
		expect_stat write_fallback_pages_cached 1 expect_stat write_hits 0 \
		sdio-check dwrite $W --off 64k --seed 41 --base-seed 3
	wfill
	truncate -s $((1048576 - 512)) $W
	check "$fs: overwrite ending at an i_size inside a block: declined, tail left to the generic path" \
		expect_stat write_fallback_eof_tail 1 expect_stat write_hits 0 \
		sdio-check dwrite $W --off $((1048576 - 1024)) --len 512 --seed 43
	wfill
	if [ $fs = xfs ]; then
		check "$fs: extending write: declined, beyond EOF" \
			expect_stat write_fallback_beyond_eof 1 expect_stat write_hits 0 \
			sdio-check dwrite $W --off 1M --seed 47
	else
		# ext4 offers no extending write (it waits for those with the inode locked).
		check "$fs: extending write: not served, data right" \
			expect_stat write_hits 0 sdio-check dwrite $W --off 1M --seed 47
	fi
	rm -f $MNT/wsparse $MNT/wunwritten
	truncate -s 64k $MNT/wsparse
	check "$fs: write into a hole: declined, not an overwrite" \
		expect_stat write_fallback_not_overwrite 1 expect_stat write_hits 0 \
		sdio-check dwrite $MNT/wsparse --off 16k --seed 53
	fallocate -l 64k $MNT/wunwritten
	check "$fs: write into a preallocated range: declined, not mapped" \
		expect_stat write_fallback_not_mapped 1 expect_stat write_hits 0 \
		sdio-check dwrite $MNT/wunwritten --off 16k --seed 59
	check "$fs: the range written once: served" \
		expect_stat write_hits 1 sdio-check dwrite $MNT/wunwritten --off 16k --seed 61
	rm -f $MNT/wsparse $MNT/wunwritten
	if [ $fs = xfs ]; then
		wfill
		if cp --reflink=always $W $MNT/wreflink 2>/dev/null; then
			# XFS offers no write of a reflinked inode: mapping a shared range
			# allocates COW blocks before the path could decline it.
			check "$fs: overwrite of a reflinked file: not served while shared, data right" \
				expect_stat write_fallback_not_overwrite 0 expect_stat write_hits 0 \
				sdio-check dwrite $MNT/wreflink --off 128k --seed 67 --base-seed 3
			check "$fs: the source of the reflink still holds its data" \
				sdio-check read $W --off 128k --seed 3
			# funshare copies the shared blocks through the page cache; it clears the
			# inode's reflink flag only when the inode has neither dirty pages nor COW
			# fork blocks, which the first leaves (speculative COW preallocation) until
			# the inode is evicted: once mounted again, a second funshare clears it.
			xfs_io -c "funshare 0 1m" -c fsync $MNT/wreflink && umount $MNT &&
				mount -t $fs $DEV $MNT && xfs_io -c "funshare 0 1m" $MNT/wreflink
			check "$fs: overwrite of the unshared file: served" \
				expect_stat write_hits 1 sdio-check dwrite $MNT/wreflink --off 256k --seed 71
			rm -f $MNT/wreflink
		else
			skip "$fs: reflink (no reflink support)"
		fi
	fi
	# A loop device with direct I/O over the file: the loop driver's writes (ITER_BVEC,
	# asynchronous) are overwrites the path serves, each read back through the loop device.
	wfill
	if ldev=$(losetup --direct-io=on --show -f $W) &&
		[ "$(cat /sys/block/${ldev#/dev/}/loop/dio)" = 1 ]; then
		check "$fs: overwrites through a loop device with direct I/O: served, data right" \
			expect_stat write_hits 16 sdio-check dwrite $ldev --engine aio --random \
			--count 16 --seed 97 --base-seed 3
		losetup -d $ldev
	else
		[ -n "$ldev" ] && losetup -d $ldev
		not_ok "$fs: loop device with direct I/O over $W"
	fi
	# An overwrite on the generic path and then on the simple path of the same range.
	wfill
	echo 0 >$WKNOB
	sdio-check dwrite $W --off 8k --seed 73 >/dev/null
	echo rust >$WKNOB
	check "$fs: overwrite after a generic one: served, data right" \
		expect_stat write_hits 1 sdio-check dwrite $W --off 8k --seed 79 --base-seed 3
	# Buffered readers race the overwrites: every write lands, and what the page cache holds
	# afterwards is the new data (invalidated after each write that found pages).
	wfill
	( while :; do cat $W >/dev/null; done ) &
	reader=$!
	check "$fs: overwrites raced by buffered reads: data right directly and buffered" \
		sdio-check dwrite $W --engine uring --random --count $COUNT --seed 83
	kill $reader
	wait $reader 2>/dev/null
	check "$fs: after the race: the whole file right through the page cache" \
		sdio-check dwrite $W --random --count $COUNT --seed 83 --check-only --base-seed 3
	# A device that needs stable pages during writeback: the file system is mounted again
	# over it (the flag reaches a file's mapping when its inode is set up).
	SW=/sys/block/${DEV#/dev/}/queue/stable_writes
	if [ -w $SW ]; then
		umount $MNT && echo 1 >$SW && mount -t $fs $DEV $MNT
		wcheck "stable writes: declined, data right" write_fallback_stable_writes 1 \
			--off 64k --seed 89
		umount $MNT && echo 0 >$SW && mount -t $fs $DEV $MNT
		wcheck "stable writes off again: served" write_hits 1 --off 64k --seed 89
	else
		skip "$fs: stable writes (no writable $SW)"
	fi
	echo 0 >$WKNOB
	rm -f $W
fi

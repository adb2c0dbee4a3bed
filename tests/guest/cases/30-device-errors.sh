# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh.

# Fault injection: a memory-backed null_blk with a poll queue (so every engine, polled
# I/O included, works on it); bad blocks are set under one block
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

# SPDX-License-Identifier: GPL-2.0
# Device errors under direct overwrites. Sourced by suite.sh.
#
# As in 30-device-errors.sh: a memory-backed null_blk with a poll queue, bad blocks set
# under one block of a file while the file system stays mounted. An overwrite of that block
# fails with EIO on every engine, served and counted at simple_write=rust, and the error
# reaches userspace as a FAN_FS_ERROR event, as on the generic path; no page stays pinned;
# the block takes writes again once the bad blocks are cleared. The same with the block
# mapped to device-mapper's error target.
WKNOB=/sys/kernel/iomap/simple_write
if [ ! -e $WKNOB ]; then
	skip "write errors: no simple_write knob (no file system offers writes before Linux 7.3)"
else
	mountpoint -q $CFG || mount -t configfs configfs $CFG
	NB=$CFG/nullb/sdiowfault
	for fs in ext4 xfs; do
		mkdir $NB && echo 1024 >$NB/size && echo 1 >$NB/memory_backed &&
			echo 1 >$NB/poll_queues && echo 1 >$NB/power ||
			{ not_ok "$fs: write errors: null_blk setup"; break; }
		NBDEV=/dev/sdiowfault
		case $fs in
		ext4) mkfs.ext4 -q -F $NBDEV ;;
		xfs) mkfs.xfs -q -f $NBDEV ;;
		esac
		mount $NBDEV $MNT ||
			{ not_ok "$fs: mount $NBDEV"; echo 0 >$NB/power; rmdir $NB; continue; }
		sdio-check fill $MNT/victim 64k --seed 5 >/dev/null
		# Physical start, in 512-byte sectors, of the file's block 4.
		P=$(filefrag -v -b512 $MNT/victim | awk '$1 == "0:" { sub(/\.\./, "", $4); print $4 + 32 }')
		[ -n "$P" ] || not_ok "$fs: filefrag"
		echo "+$P-$((P + 7))" >$NB/badblocks
		echo rust >$WKNOB
		for eng in pwrite aio uring uring-poll; do
			work=1
			[ $eng = pwrite ] && work=0
			check "$fs: write error, $eng: EIO, served, counted, FAN_FS_ERROR" \
				expect_stat write_errors 1 expect_stat write_work_completions $work \
				expect_stat write_hits 1 pins_released \
				sdio-check dwrite $MNT/victim --engine $eng --off 16k --seed 6 \
				--expect-errno EIO --fs-error EIO
		done
		check "$fs: write error, RWF_DSYNC: EIO, served, counted" \
			expect_stat write_errors 1 expect_stat write_hits 1 \
			sdio-check dwrite $MNT/victim --engine pwritev2 --dsync --off 16k --seed 6 \
			--expect-errno EIO
		echo 0 >$WKNOB
		check "$fs: write error, simple_write 0: the generic path reports it the same way" \
			expect_stat write_hits 0 sdio-check dwrite $MNT/victim --engine aio --off 16k \
			--seed 6 --expect-errno EIO --fs-error EIO
		echo rust >$WKNOB
		check "$fs: write error: the neighbouring block still written right" \
			expect_stat write_hits 1 sdio-check dwrite $MNT/victim --engine uring --off 12k \
			--seed 6
		echo "-$P-$((P + 7))" >$NB/badblocks
		check "$fs: bad blocks cleared: the block written right again" \
			expect_stat write_hits 1 sdio-check dwrite $MNT/victim --engine aio --off 16k \
			--seed 6
		echo 0 >$WKNOB
		umount $MNT
		echo 0 >$NB/power
		rmdir $NB
	done
	# The same error from device-mapper: the file system on dm-linear, then the file's
	# block mapped to the error target (the table reloaded under the mounted file system).
	for fs in ext4 xfs; do
		mkdir $NB && echo 1024 >$NB/size && echo 1 >$NB/memory_backed &&
			echo 1 >$NB/power || { not_ok "$fs: dm-error: null_blk setup"; break; }
		S=$(blockdev --getsz /dev/sdiowfault)
		if ! dmsetup create sdio-werr --table "0 $S linear /dev/sdiowfault 0" ||
			! dmsetup mknodes sdio-werr; then
			not_ok "$fs: dm-error: dm-linear setup"
			echo 0 >$NB/power; rmdir $NB
			continue
		fi
		DMDEV=/dev/mapper/sdio-werr
		case $fs in
		ext4) mkfs.ext4 -q -F $DMDEV ;;
		xfs) mkfs.xfs -q -f $DMDEV ;;
		esac
		if mount $DMDEV $MNT; then
			sdio-check fill $MNT/victim 64k --seed 5 >/dev/null
			P=$(filefrag -v -b512 $MNT/victim | awk '$1 == "0:" { sub(/\.\./, "", $4); print $4 + 32 }')
			# A table of several lines comes on standard input.
			if [ -n "$P" ] && dmsetup suspend sdio-werr &&
				printf '%s\n' "0 $P linear /dev/sdiowfault 0" "$P 8 error" \
					"$((P + 8)) $((S - P - 8)) linear /dev/sdiowfault $((P + 8))" |
				dmsetup load sdio-werr && dmsetup resume sdio-werr; then
				for knob in rust 0; do
					echo $knob >$WKNOB
					want=0
					[ $knob = rust ] && want=1
					check "$fs: dm-error under the block, simple_write $knob: EIO, FAN_FS_ERROR, served as the knob says" \
						expect_stat write_hits $want expect_stat write_errors $want \
						sdio-check dwrite $MNT/victim --engine uring --off 16k --seed 6 \
						--expect-errno EIO --fs-error EIO
				done
				echo 0 >$WKNOB
				dmsetup suspend sdio-werr &&
					dmsetup load sdio-werr --table "0 $S linear /dev/sdiowfault 0" &&
					dmsetup resume sdio-werr
			else
				not_ok "$fs: dm-error: table with an error target"
			fi
			umount $MNT
		else
			not_ok "$fs: dm-error: mount"
		fi
		dmsetup remove sdio-werr
		echo 0 >$NB/power
		rmdir $NB
	done
fi

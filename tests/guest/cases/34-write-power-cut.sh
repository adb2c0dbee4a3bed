# SPDX-License-Identifier: GPL-2.0
# A power cut after acknowledged overwrites, on the three kinds of disk a file system can
# see. Sourced by suite.sh.
#
# Each run makes ext4 or XFS on a fresh disk and acknowledges, at simple_write=rust
# (served) and at 0:
#   - 16 plain overwrites followed by fdatasync(), first;
#   - one RWF_DSYNC overwrite right after the file grew (truncate): the size change is
#     metadata the overwrite's sync must commit, so it must take generic_write_sync(), not
#     REQ_FUA (write_fua does not move), and the new size must survive;
#   - 32 RWF_DSYNC overwrites with pwritev2 and 32 with io_uring (each on a file of its
#     own).
# What is under test comes last, with nothing after it that flushes (no periodic commit or
# writeback either): the REQ_FUA overwrites where the disk has FUA, the overwrite after
# the size change where it has not. A write that was not made durable is lost then.
# Then power is cut: dm-flakey drops every write (and flush) from that moment on, the file
# system is unmounted (what it writes then is lost), and whatever volatile cache the disk
# had is lost. After mounting again (log recovery), every acknowledged write must be there
# and nothing else changed. The disks, each checked to be what the file system sees:
#   nocache     dm-flakey over a memory-backed null_blk: no volatile cache; the path sets
#               REQ_FUA, which the block layer drops;
#   cache-nofua a buffered loop device over a written file of ext4 on the nocache disk:
#               the file's page cache is the volatile cache (no periodic writeback while
#               the case runs), a flush is an fsync of the file; loop has no FUA, so O_DSYNC
#               overwrites take generic_write_sync() (write_fua does not move). The cut is
#               made on the disk below, and the page cache goes with the ext4 below;
#   cache-fua   dm-log-writes (its log on a null_blk of its own, unused) over that loop
#               device: a target that takes flushes offers a volatile cache and FUA, and
#               the block layer below makes a REQ_FUA write a write and a flush (fsync).
# (null_blk's own cache_size cache does not do: it writes an overwrite of a page it holds
# already straight to its store, so no overwrite is ever lost with it.)
WKNOB=/sys/kernel/iomap/simple_write
if [ ! -e $WKNOB ]; then
	skip "power cut: no simple_write knob (no file system offers writes before Linux 7.3)"
else
	mountpoint -q $CFG || mount -t configfs configfs $CFG
	PC=$CFG/nullb/sdiopcut
	PCLOG=$CFG/nullb/sdiopclog
	LOWER=/run/sdio-lower
	mkdir -p $LOWER
	# pc_table DOWN: the flakey table, up for an hour, or down (dropping writes) for one.
	pc_table() {
		if [ "$1" = down ]; then
			echo "0 $PC_SECTORS flakey /dev/sdiopcut 0 0 3600 1 drop_writes"
		else
			echo "0 $PC_SECTORS flakey /dev/sdiopcut 0 3600 0"
		fi
	}
	# pc_switch up|down: loads that table without flushing anything first.
	# A failed load must not leave the device suspended (every later write would hang).
	pc_switch() {
		dmsetup suspend --nolockfs --noflush sdio-pcut || return 1
		dmsetup load sdio-pcut --table "$(pc_table $1)" ||
			{ dmsetup resume sdio-pcut; return 1; }
		dmsetup resume sdio-pcut
	}
	pc_flakey() {
		dmsetup create sdio-pcut --table "$(pc_table up)" && dmsetup mknodes sdio-pcut
	}
	# pc_disk KIND: makes the disk of KIND; PC_DEV is what the file system goes on.
	pc_disk() {
		mkdir $PC && echo 512 >$PC/size && echo 1 >$PC/memory_backed && echo 1 >$PC/power ||
			return 1
		PC_SECTORS=$(blockdev --getsz /dev/sdiopcut)
		pc_flakey || return 1
		PC_DEV=/dev/mapper/sdio-pcut
		[ $1 = nocache ] && return 0
		# The file is written through, so the loop device's writes are overwrites that
		# stay in the page cache until a flush (no allocation for a commit to order).
		mkfs.ext4 -q -F $PC_DEV && mount -onoinit_itable,commit=600 $PC_DEV $LOWER &&
			dd if=/dev/zero of=$LOWER/img bs=1M count=320 conv=fsync status=none &&
			pc_upper $1
	}
	# pc_upper KIND: the loop device (and dm-log-writes for cache-fua) over $LOWER/img.
	pc_upper() {
		PC_DEV=$(losetup --direct-io=off --show -f $LOWER/img) || return 1
		[ $1 = cache-fua ] || return 0
		if [ ! -d $PCLOG ]; then
			mkdir $PCLOG && echo 1024 >$PCLOG/size && echo 1 >$PCLOG/memory_backed &&
				echo 1 >$PCLOG/power || return 1
		fi
		dmsetup create sdio-pcfua \
			--table "0 $(blockdev --getsz $PC_DEV) log-writes $PC_DEV /dev/sdiopclog" &&
			dmsetup mknodes sdio-pcfua && PC_DEV=/dev/mapper/sdio-pcfua
	}
	# pc_kind_is KIND: the queue of PC_DEV says KIND.
	pc_kind_is() {
		local want q=/sys/dev/block/$(printf %d:%d 0x$(stat -L -c %t $PC_DEV) 0x$(stat -L -c %T $PC_DEV))/queue
		case $1 in
		nocache) want="write through 0" ;;
		cache-fua) want="write back 1" ;;
		cache-nofua) want="write back 0" ;;
		esac
		[ "$(cat $q/write_cache) $(cat $q/fua)" = "$want" ] ||
			{ echo "$PC_DEV: write_cache $(cat $q/write_cache), fua $(cat $q/fua); expected $want"; return 1; }
	}
	# pc_cut KIND: the cut, then the disk back as it came through it.
	pc_cut() {
		pc_switch down || return 1
		umount $MNT || return 1
		if [ $1 != nocache ]; then
			if [ $1 = cache-fua ]; then
				dmsetup remove --retry sdio-pcfua || return 1
			fi
			losetup -d $(losetup -n -O NAME -j $LOWER/img) || return 1
			# The loop device's cache, the page cache of the file, goes with it.
			umount $LOWER || return 1
		fi
		dmsetup remove --retry sdio-pcut && pc_flakey || return 1
		PC_DEV=/dev/mapper/sdio-pcut
		[ $1 = nocache ] && return 0
		mount -onoinit_itable,commit=600 $PC_DEV $LOWER && pc_upper $1
	}
	# pc_gone: takes down whatever pc_run left (it ran in a subshell: no variable of it).
	pc_gone() {
		local d
		dmsetup resume sdio-pcut 2>/dev/null
		mountpoint -q $MNT && umount $MNT
		dmsetup remove --retry sdio-pcfua 2>/dev/null
		if mountpoint -q $LOWER; then
			for d in $(losetup -n -O NAME -j $LOWER/img); do losetup -d $d; done
			umount $LOWER
		fi
		dmsetup remove --retry sdio-pcut 2>/dev/null
		dmsetup info sdio-pcut >/dev/null 2>&1 && not_ok "power cut: sdio-pcut left behind"
		for d in $PC $PCLOG; do
			[ -d $d ] || continue
			echo 0 >$d/power
			rmdir $d
		done
	}
	# pc_mount_opt FS: no periodic journal commit (ext4; XFS: xfssyncd_centisecs, set
	# below) flushes the cache between the acknowledgements and the cut, where it would
	# save a write that was not made durable.
	pc_mount_opt() { [ $1 = ext4 ] && echo -onoinit_itable,commit=600; }
	# pc_meta: the file grows, then one RWF_DSYNC overwrite, which must not be REQ_FUA.
	pc_meta() {
		local fm=$(counter write_fua)
		truncate -s 2M $MNT/meta &&
			sdio-check dwrite $MNT/meta --engine pwritev2 --dsync --off 8k --seed 101 \
				>/dev/null || return 1
		[ "$(counter write_fua)" = "$fm" ] ||
			{ echo "the O_DSYNC overwrite after a size change was sent with REQ_FUA"; return 1; }
	}
	# pc_run FS KIND KNOB: the whole sequence; fails on the first step that does.
	pc_run() {
		local fs=$1 kind=$2 knob=$3 h0 f0 hits=0 fua=0 f
		if [ $knob = rust ]; then
			hits=81
			[ $kind = cache-nofua ] || fua=64
		fi
		pc_disk $kind || { echo "disk setup failed"; return 1; }
		pc_kind_is $kind || return 1
		# No discard: loop would punch holes in the file below it.
		case $fs in
		ext4) mkfs.ext4 -q -F -E nodiscard $PC_DEV ;;
		xfs) mkfs.xfs -q -f -K $PC_DEV ;;
		esac
		mount $(pc_mount_opt $fs) $PC_DEV $MNT || return 1
		for f in sync async fds meta; do
			sdio-check fill $MNT/$f 1M --seed 3 >/dev/null || return 1
		done
		sync
		echo $knob >$WKNOB
		h0=$(counter write_hits) f0=$(counter write_fua)
		# What syncs (and so flushes the cache) goes first, the writes under test last,
		# right before the cut, with nothing after them that flushes: the REQ_FUA ones
		# where the disk has FUA, the overwrite after the size change where it has not
		# (there every O_DSYNC overwrite syncs, and would commit the size for it).
		sdio-check dwrite $MNT/fds --engine pwrite --random --count 16 --seed 83 \
			--fdatasync >/dev/null || return 1
		[ $kind = cache-nofua ] || pc_meta || return 1
		sdio-check dwrite $MNT/sync --engine pwritev2 --dsync --random --count 32 \
			--seed 89 >/dev/null &&
			sdio-check dwrite $MNT/async --engine uring --dsync --random --count 32 \
				--seed 97 >/dev/null || return 1
		[ $kind != cache-nofua ] || pc_meta || return 1
		[ $(($(counter write_hits) - h0)) = $hits ] ||
			{ echo "write_hits +$(($(counter write_hits) - h0)), expected $hits"; return 1; }
		[ $(($(counter write_fua) - f0)) = $fua ] ||
			{ echo "write_fua +$(($(counter write_fua) - f0)), expected $fua"; return 1; }
		pc_cut $kind || { echo "the cut failed"; return 1; }
		mount $(pc_mount_opt $fs) $PC_DEV $MNT || { echo "mount after the cut failed"; return 1; }
		sdio-check dwrite $MNT/sync --random --count 32 --seed 89 --check-only \
			--base-seed 3 &&
			sdio-check dwrite $MNT/async --random --count 32 --seed 97 --check-only \
				--base-seed 3 &&
			sdio-check dwrite $MNT/fds --random --count 16 --seed 83 --check-only \
				--base-seed 3 &&
			sdio-check dwrite $MNT/meta --off 8k --seed 101 --check-only || return 1
		[ "$(stat -c %s $MNT/meta)" = 2097152 ] ||
			{ echo "meta: size $(stat -c %s $MNT/meta) after the cut, expected 2097152"; return 1; }
	}
	syncd=$(cat /proc/sys/fs/xfs/xfssyncd_centisecs)
	echo 720000 >/proc/sys/fs/xfs/xfssyncd_centisecs
	# No periodic writeback of the loop device's file: its page cache is a volatile cache
	# that only a flush (fsync) empties.
	wb=$(cat /proc/sys/vm/dirty_writeback_centisecs)
	echo 0 >/proc/sys/vm/dirty_writeback_centisecs
	for fs in ext4 xfs; do
		for kind in nocache cache-nofua cache-fua; do
			for knob in rust 0; do
				check "$fs: power cut, $kind disk, simple_write $knob: every acknowledged overwrite kept" \
					pc_run $fs $kind $knob
				pc_gone
			done
		done
	done
	echo $syncd >/proc/sys/fs/xfs/xfssyncd_centisecs
	echo $wb >/proc/sys/vm/dirty_writeback_centisecs
	echo 0 >$WKNOB
fi

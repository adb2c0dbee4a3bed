# SPDX-License-Identifier: GPL-2.0
# Acknowledged overwrites replayed from a dm-log-writes log, as fstests proves durability.
# Sourced by suite.sh.
#
# ext4 and XFS are made and used through dm-log-writes (a disk with a volatile cache and
# FUA, as device-mapper presents it), which logs a write only once it is stable: when it
# was REQ_FUA, or when a flush that covers it completes. A mark set in the log after an
# acknowledgement therefore records what the disk held had power been cut then. After
# each of these, at simple_write=rust (served) and at 0, a mark is set:
#   m1  16 RWF_DSYNC overwrites with pwritev2;
#   m2  16 RWF_DSYNC overwrites with io_uring;
#   m3  16 plain overwrites, then fdatasync();
#   m4  the file grew (truncate), then one RWF_DSYNC overwrite, which must take
#       generic_write_sync() and not REQ_FUA (write_fua does not move).
# The log is then replayed onto a zeroed disk up to each mark in turn (sdio-check
# replay-log), the file system mounted (log recovery): every write acknowledged before the
# mark must be there, the files not yet written hold what they were filled with, and the
# grown file has its new size from m4 on.
WKNOB=/sys/kernel/iomap/simple_write
if [ ! -e $WKNOB ]; then
	skip "log replay: no simple_write knob (no file system offers writes before Linux 7.3)"
else
	mountpoint -q $CFG || mount -t configfs configfs $CFG
	RP=/run/sdio-replay
	mkdir -p $RP
	# lw_null NAME MIB: a fresh memory-backed null_blk /dev/NAME, all zeros.
	lw_null() {
		mkdir $CFG/nullb/$1 && echo $2 >$CFG/nullb/$1/size &&
			echo 1 >$CFG/nullb/$1/memory_backed && echo 1 >$CFG/nullb/$1/power
	}
	lw_null_gone() {
		[ -d $CFG/nullb/$1 ] || return 0
		echo 0 >$CFG/nullb/$1/power
		rmdir $CFG/nullb/$1
	}
	lw_gone() {
		mountpoint -q $MNT && umount $MNT
		mountpoint -q $RP && umount $RP
		dmsetup remove --retry sdio-lw 2>/dev/null
		dmsetup info sdio-lw >/dev/null 2>&1 && not_ok "log replay: sdio-lw left behind"
		lw_null_gone sdiolwd
		lw_null_gone sdiolwl
		lw_null_gone sdiolwr
	}
	lw_mark() { dmsetup message sdio-lw 0 mark $1; }
	# lw_check FS MARK: the log replayed to MARK onto a zeroed disk holds every write
	# acknowledged before MARK, and nothing else.
	lw_check() {
		local fs=$1 m=$2 opt=
		lw_null sdiolwr 512 || return 1
		sdio-check replay-log /dev/sdiolwl /dev/sdiolwr --end-mark $m || return 1
		[ $fs = ext4 ] && opt=-onoinit_itable
		mount $opt /dev/sdiolwr $RP || { echo "$m: mount of the replay failed"; return 1; }
		lw_file $m m1 sync 89 16 && lw_file $m m2 async 97 16 && lw_file $m m3 fds 83 16 ||
			return 1
		if [ $m = m4 ]; then
			sdio-check dwrite $RP/meta --off 8k --seed 101 --check-only >/dev/null &&
				[ "$(stat -c %s $RP/meta)" = 2097152 ] ||
				{ echo "$m: meta: the overwrite or the new size ($(stat -c %s $RP/meta)) is lost"; return 1; }
		else
			sdio-check dwrite $RP/meta --count 0 --check-only --base-seed 3 >/dev/null ||
				{ echo "$m: meta changed before it was written"; return 1; }
		fi
		umount $RP
		lw_null_gone sdiolwr
	}
	# lw_file MARK WHEN FILE SEED COUNT: FILE holds its writes if WHEN <= MARK, else its fill.
	lw_file() {
		local n=$5
		[ ${2#m} -gt ${1#m} ] && n=0
		sdio-check dwrite $RP/$3 --random --count $n --seed $4 --check-only --base-seed 3 \
			>/dev/null || { echo "$1: $3 (written before $2) is not what it must be"; return 1; }
	}
	# lw_run FS KNOB: the whole sequence; fails on the first step that does.
	lw_run() {
		local fs=$1 knob=$2 h0 f0 fm hits=0 fua=0 f sectors m opt=
		[ $knob = rust ] && hits=49 fua=32
		lw_null sdiolwd 512 && lw_null sdiolwl 2048 || { echo "null_blk setup failed"; return 1; }
		sectors=$(blockdev --getsz /dev/sdiolwd)
		dmsetup create sdio-lw --table "0 $sectors log-writes /dev/sdiolwd /dev/sdiolwl" &&
			dmsetup mknodes sdio-lw || { echo "dm-log-writes setup failed"; return 1; }
		# No discards (the replay has no zeroing discard to give) and no lazy inode table
		# initialisation (a kernel thread would write all along).
		case $fs in
		ext4)
			mkfs.ext4 -q -F -E nodiscard /dev/mapper/sdio-lw
			opt=-onoinit_itable
			;;
		xfs) mkfs.xfs -q -f -K /dev/mapper/sdio-lw ;;
		esac
		# No periodic journal commit (ext4; XFS: xfssyncd_centisecs below) whose flush
		# would log a write that was not made stable before its mark.
		[ $fs = ext4 ] && opt=$opt,commit=600
		mount $opt /dev/mapper/sdio-lw $MNT || return 1
		for f in sync async fds meta; do
			sdio-check fill $MNT/$f 1M --seed 3 >/dev/null || return 1
		done
		sync
		lw_mark m0 || return 1
		echo $knob >$WKNOB
		h0=$(counter write_hits) f0=$(counter write_fua)
		sdio-check dwrite $MNT/sync --engine pwritev2 --dsync --random --count 16 \
			--seed 89 >/dev/null && lw_mark m1 &&
			sdio-check dwrite $MNT/async --engine uring --dsync --random --count 16 \
				--seed 97 >/dev/null && lw_mark m2 &&
			sdio-check dwrite $MNT/fds --engine pwrite --random --count 16 --seed 83 \
				--fdatasync >/dev/null && lw_mark m3 || return 1
		fm=$(counter write_fua)
		truncate -s 2M $MNT/meta &&
			sdio-check dwrite $MNT/meta --engine pwritev2 --dsync --off 8k --seed 101 \
				>/dev/null && lw_mark m4 || return 1
		[ "$(counter write_fua)" = "$fm" ] ||
			{ echo "the O_DSYNC overwrite after a size change was sent with REQ_FUA"; return 1; }
		[ $(($(counter write_hits) - h0)) = $hits ] ||
			{ echo "write_hits +$(($(counter write_hits) - h0)), expected $hits"; return 1; }
		[ $(($(counter write_fua) - f0)) = $fua ] ||
			{ echo "write_fua +$(($(counter write_fua) - f0)), expected $fua"; return 1; }
		echo 0 >$WKNOB
		umount $MNT && dmsetup remove --retry sdio-lw || return 1
		for m in m0 m1 m2 m3 m4; do
			lw_check $fs $m || return 1
		done
	}
	syncd=$(cat /proc/sys/fs/xfs/xfssyncd_centisecs)
	echo 720000 >/proc/sys/fs/xfs/xfssyncd_centisecs
	for fs in ext4 xfs; do
		for knob in rust 0; do
			check "$fs: dm-log-writes replay to each acknowledgement, simple_write $knob: every acknowledged overwrite kept" \
				lw_run $fs $knob
			lw_gone
		done
	done
	echo $syncd >/proc/sys/fs/xfs/xfssyncd_centisecs
	echo 0 >$WKNOB
fi

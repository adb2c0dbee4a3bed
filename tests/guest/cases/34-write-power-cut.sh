# SPDX-License-Identifier: GPL-2.0
# A power cut after acknowledged O_DSYNC overwrites. Sourced by suite.sh.
#
# ext4 and XFS on dm-flakey over a memory-backed null_blk. Overwrites with RWF_DSYNC are
# acknowledged (a synchronous engine and an asynchronous one, each on a file of its own);
# then dm-flakey drops every write from that moment on, as a power cut would, the file
# system is unmounted (what it writes then is lost), the device comes back and the file
# system is mounted again (log recovery). Every acknowledged overwrite must be there, and
# nothing else changed, at simple_write=rust (served) as at 0. The disk has no volatile
# cache to lose: what REQ_FUA buys is counted by the write_fua checks of fs/45-writes.sh.
WKNOB=/sys/kernel/iomap/simple_write
if [ ! -e $WKNOB ]; then
	skip "power cut: no simple_write knob (no file system offers writes before Linux 7.3)"
else
	mountpoint -q $CFG || mount -t configfs configfs $CFG
	PC=$CFG/nullb/sdiopcut
	# pc_table DOWN: the flakey table, up for an hour, or down (dropping writes) for one.
	pc_table() {
		if [ "$1" = down ]; then
			echo "0 $PC_SECTORS flakey /dev/sdiopcut 0 0 3600 1 drop_writes"
		else
			echo "0 $PC_SECTORS flakey /dev/sdiopcut 0 3600 0"
		fi
	}
	# pc_switch up|down: loads that table without flushing anything first.
	pc_switch() {
		dmsetup suspend --nolockfs --noflush sdio-pcut &&
			dmsetup load sdio-pcut --table "$(pc_table $1)" &&
			dmsetup resume sdio-pcut
	}
	# pc_run FS KNOB: the whole sequence; fails on the first step that does.
	pc_run() {
		local fs=$1 knob=$2 h0 want=0
		[ $knob = rust ] && want=64
		case $fs in
		ext4) mkfs.ext4 -q -F $PC_DEV ;;
		xfs) mkfs.xfs -q -f $PC_DEV ;;
		esac
		mount $PC_DEV $MNT || return 1
		sdio-check fill $MNT/sync 1M --seed 3 >/dev/null &&
			sdio-check fill $MNT/async 1M --seed 3 >/dev/null || return 1
		echo $knob >$WKNOB
		h0=$(counter write_hits)
		sdio-check dwrite $MNT/sync --engine pwritev2 --dsync --random --count 32 \
			--seed 89 >/dev/null &&
			sdio-check dwrite $MNT/async --engine uring --dsync --random --count 32 \
				--seed 97 >/dev/null || return 1
		[ $(($(counter write_hits) - h0)) = $want ] ||
			{ echo "write_hits +$(($(counter write_hits) - h0)), expected $want"; return 1; }
		pc_switch down || return 1
		umount $MNT
		pc_switch up || return 1
		mount $PC_DEV $MNT || { echo "mount after the cut failed"; return 1; }
		sdio-check dwrite $MNT/sync --random --count 32 --seed 89 --check-only \
			--base-seed 3 &&
			sdio-check dwrite $MNT/async --random --count 32 --seed 97 --check-only \
				--base-seed 3
	}
	if mkdir $PC && echo 256 >$PC/size && echo 1 >$PC/memory_backed && echo 1 >$PC/power; then
		PC_SECTORS=$(blockdev --getsz /dev/sdiopcut)
		if dmsetup create sdio-pcut --table "$(pc_table up)" && dmsetup mknodes sdio-pcut; then
			PC_DEV=/dev/mapper/sdio-pcut
			for fs in ext4 xfs; do
				for knob in rust 0; do
					check "$fs: power cut after acknowledged RWF_DSYNC overwrites, simple_write $knob: every one kept" \
						pc_run $fs $knob
					mountpoint -q $MNT && umount $MNT
					pc_switch up >/dev/null 2>&1
				done
			done
			dmsetup remove sdio-pcut
		else
			not_ok "power cut: dm-flakey setup"
		fi
		echo 0 >$PC/power
		rmdir $PC
	else
		not_ok "power cut: null_blk setup"
	fi
	echo 0 >$WKNOB
fi

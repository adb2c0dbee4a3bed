# SPDX-License-Identifier: GPL-2.0
# Sourced by bench-icount.sh and profile.sh: the module, its hit counter, the file
# system on null_blk and the fio read job that both instruction measures run.
insmod /run/sdio/modules/iomap_simple_dio.ko 2>/dev/null
STATS=/sys/kernel/debug/iomap_simple_dio/stats
stat_of() { awk -v n="$1" '$1 == n { print $2 }' $STATS; }
hits() { stat_of hits; }

# nullb_file FS: make FS on /dev/nullb0, mount it on /mnt and lay out /mnt/f (64 MiB).
# ext4 is made without lazy init: its background zeroing of inode tables would run
# during the reads, a different amount in each run.
nullb_file() {
	case $1 in
	ext4) mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/nullb0 ;;
	xfs) mkfs.xfs -q -f /dev/nullb0 ;;
	# Not served: what the hook costs a file system the path declines.
	ext2) mkfs.ext2 -q -F /dev/nullb0 ;;
	*) echo "unknown file system $1"; return 2 ;;
	esac
	mount /dev/nullb0 /mnt || return 1
	fio --name=lay --filename=/mnt/f --size=64M --rw=write --bs=1M --direct=1 \
		--ioengine=psync --output=/dev/null
}

# randread ENGINE QD POLLED READS FIO-OUTPUT-ARGS...: 4 KiB O_DIRECT random reads of
# /mnt/f, the same sequence every run. RW=randwrite (in the environment): overwrites of the
# laid-out file instead.
randread() {
	_e=$1 _q=$2 _p=$3 _n=$4
	shift 4
	fio --name=r --filename=/mnt/f --size=64M --io_size=$((_n * 4))k --direct=1 \
		--rw=${RW:-randread} --bs=4k --ioengine="$_e" --iodepth="$_q" \
		$([ "$_p" = 1 ] && echo --hipri) \
		--norandommap --randrepeat=1 --iodepth_batch_submit=$(((_q + 3) / 4)) "$@"
}

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make run: ext4 and XFS on the NVMe disk, O_DIRECT reads, and what path served them.
set -e
dev=/dev/nvme0n1
stats=/sys/kernel/debug/iomap_simple_dio/stats
[ -d /sys/module/iomap_simple_dio ] || [ -f "$stats" ] ||
	{ ls /run/sdio/modules/*.ko >/dev/null 2>&1 && insmod /run/sdio/modules/iomap_simple_dio.ko; } || true
echo "knob /sys/kernel/iomap/simple_read: $(cat /sys/kernel/iomap/simple_read 2>/dev/null || echo absent)"
for fs in ext4 xfs; do
	echo "== $fs on $dev"
	case $fs in
	ext4) mkfs.ext4 -q -F $dev ;;
	xfs) mkfs.xfs -q -f $dev ;;
	esac
	mount -t $fs $dev /mnt
	printf 'hello from %s, block %s\n' $fs 0 | dd of=/mnt/f bs=4096 conv=sync status=none
	yes "$fs direct I/O" | head -c 1048576 | dd of=/mnt/f bs=4096 seek=1 status=none
	sync
	echo "-- dd iflag=direct bs=4096 count=1:"
	dd if=/mnt/f iflag=direct bs=4096 count=1 status=none | tr -d '\0'
	echo "-- dd iflag=direct bs=4096 skip=7 count=1 | head -c 40:"
	dd if=/mnt/f iflag=direct bs=4096 skip=7 count=1 status=none | head -c 40; echo
	echo "-- fio 4k randread, io_uring QD 8, 2048 reads of a 1 MiB file:"
	fio --name=demo --filename=/mnt/f --direct=1 --rw=randread --bs=4k --ioengine=io_uring \
		--iodepth=8 --size=1M --io_size=8M --output-format=terse --terse-version=3 |
		awk -F';' '{ printf "   read %s KiB in %s ms, %s IOPS\n", $6, $9, $8 }'
	umount /mnt
done
if [ -f $stats ]; then echo "== fast-path counters ($stats)"; cat $stats; fi

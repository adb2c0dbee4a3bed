#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench ICOUNT=1, guest side: run under QEMU -icount shift=0,sleep=off, where
# virtual time advances one nanosecond per guest instruction, so a fixed number of
# 4 KiB reads on memory-backed null_blk takes a virtual time proportional to the
# instructions it costs: deterministic, repeatable across boots and host load.
# Knob 0 and 1 back to back on ext4 and XFS; the counters prove which path ran.
. /run/sdio/bin/icount-lib.sh
irqmode=$(cat /sys/module/null_blk/parameters/irqmode)
for fs in ext4 xfs; do
	nullb_file $fs || exit 1
	for p in "libaio 1 0" "io_uring 1 0" "io_uring 32 0" "io_uring 32 1"; do
		set -- $p
		for k in 0 1; do
			echo $k >/sys/kernel/iomap/simple_read
			h0=$(hits)
			randread $1 $2 $3 65536 --output-format=json --output=/tmp/o.json || exit 1
			ios=$(grep -m1 '"total_ios"' /tmp/o.json | tr -dc 0-9)
			ms=$(grep -m1 '"runtime"' /tmp/o.json | tr -dc 0-9)
			printf '%s\t%s\tqd %s\tpolled %s\tirqmode %s\tknob %s\t%s I/Os\t%s ms virtual\t%s ns/IO\thits %s\n' \
				$fs $1 $2 $3 $irqmode $k $ios $ms $((ms * 1000000 / ios)) $(($(hits) - h0))
		done
	done
	umount /mnt
done
echo 1 >/sys/kernel/iomap/simple_read

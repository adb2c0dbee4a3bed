# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh.

# Other callers of iomap_dio_rw(): the path declines file systems it does not serve
# (fallback_fs_not_served counts every read, hits none), and their reads stay right at
# both knob settings. erofs is the case that needs a real struct iomap_iter: its
# ->iomap_begin container_of()s the iomap to find its per-call context. Where file
# systems opt in, these do not: their reads never reach the path (nothing counted).
other_fs_reads() {
	local fs=$1 f=$2 kib eng ns=10 ns1=1
	[ $OPT_IN = 1 ] && ns=0 ns1=0
	for kib in 4 16; do
		for eng in pread uring; do
			check "$fs: ${kib}k $eng reads not served (fs_not_served $ns), data right" \
				expect_hits 0 expect_stat fallback_fs_not_served $ns \
				sdio-check read $f --engine $eng --len ${kib}k --random --count 10 --seed 8
		done
	done
	check "$fs: 512-byte read not served, data right" \
		expect_stat fallback_fs_not_served $ns1 sdio-check read $f --off 1536 --len 512 --seed 8
	echo 0 >$KNOB
	check "$fs: knob 0: not offered, data right" \
		expect_stat fallback_fs_not_served 0 sdio-check read $f --len 16k --random --count 10 --seed 8
	echo 1 >$KNOB
}
for fs in ext2 exfat erofs; do
	case $fs in
	ext2) mkfs.ext2 -q -F -b 4096 $DEV && mount -t ext2 $DEV $MNT &&
		sdio-check fill $MNT/data 1M --seed 8 >/dev/null ;;
	exfat) mkfs.exfat $DEV >/dev/null && mount -t exfat $DEV $MNT &&
		sdio-check fill $MNT/data 1M --seed 8 >/dev/null ;;
	# An uncompressed image of known files, written to the NVMe disk.
	erofs) rm -rf /tmp/erofs.src && mkdir /tmp/erofs.src &&
		sdio-check fill /tmp/erofs.src/data 1M --seed 8 >/dev/null &&
		mkfs.erofs /tmp/erofs.img /tmp/erofs.src >/dev/null &&
		dd if=/tmp/erofs.img of=$DEV bs=1M oflag=direct status=none &&
		rm -rf /tmp/erofs.src /tmp/erofs.img && mount -t erofs -o ro $DEV $MNT ;;
	esac || { not_ok "$fs: make and mount"; umount $MNT 2>/dev/null; continue; }
	other_fs_reads $fs $MNT/data
	if [ $fs != erofs ]; then
		check "$fs: reads racing truncate/extend: no stale data past EOF" sh -c "
			sdio-check fill $MNT/race 256k --seed 6 >/dev/null &&
			sdio-check read $MNT/race --engine uring --random --race-truncate --secs 3 --seed 6"
	fi
	umount $MNT
done

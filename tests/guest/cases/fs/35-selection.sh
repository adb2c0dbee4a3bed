# SPDX-License-Identifier: GPL-2.0
# Where ext4 and XFS opt in (Linux 7.3 on): the knob selects the Rust path, the kernel's
# C path or the generic path, in one kernel; each read shows which ran (the Rust path's
# hits, the generic path's iomap_iter events; the C path has neither), with the same data.
# Sourced by suite.sh for each of ext4 and XFS, mounted on $MNT ($fs), with the 1 MiB
# pattern file $F (seed 7).

if [ $OPT_IN = 1 ]; then
	for eng in pread uring; do
		check "$fs: knob rust, 4k $eng: the Rust path" \
			expect_path simple 4 sdio-check read $F --engine $eng --random --count 4 --seed 7
		check "$fs: knob rust, 16k $eng: the Rust path (past the C path's one block)" \
			expect_path simple 4 sdio-check read $F --engine $eng --len 16k --random --count 4 --seed 7
		echo c >$KNOB
		check "$fs: knob c, 4k $eng: the C path" \
			expect_path simple 0 sdio-check read $F --engine $eng --random --count 4 --seed 7
		check "$fs: knob c, 16k $eng: the generic path (the C path serves one block)" \
			expect_path generic 0 sdio-check read $F --engine $eng --len 16k --random --count 4 --seed 7
		echo 0 >$KNOB
		check "$fs: knob 0, 4k $eng: the generic path" \
			expect_path generic 0 sdio-check read $F --engine $eng --random --count 4 --seed 7
		echo rust >$KNOB
	done
	# A read the Rust path declines goes back to the file system, which reads it with
	# iomap_dio_rw(): past EOF, served short by the generic path.
	sdio-check fill $MNT/short 8292 --seed 3 >/dev/null
	check "$fs: knob rust, read past EOF: declined, the generic path, short read right" \
		expect_stat fallback_beyond_eof 1 expect_path generic 0 \
		sdio-check read $MNT/short --off 8192 --seed 3
	if [ "${SDIO_SIMPLE_DIO:-m}" = m ]; then
		rmmod iomap_simple_dio
		n=$(iter_events sdio-check read $F --random --count 4 --seed 7)
		if [ $? = 0 ] && [ "$n" = 0 ]; then
			ok "$fs: knob rust, module unloaded, 4k pread: the C path"
		else
			not_ok "$fs: knob rust, module unloaded, 4k pread: the C path"
			echo "#   read failed or $n iomap_iter events"
		fi
		insmod $MOD || not_ok "$fs: module reloads"
		# The knob keeps its word across an unload: at 0, the generic path.
		echo 0 >$KNOB
		rmmod iomap_simple_dio
		n=$(iter_events sdio-check read $F --random --count 4 --seed 7)
		if [ $? = 0 ] && [ "$n" -gt 0 ] && [ "$(cat $KNOB)" = 0 ]; then
			ok "$fs: knob 0, module unloaded, 4k pread: the generic path"
		else
			not_ok "$fs: knob 0, module unloaded, 4k pread: the generic path"
			echo "#   read failed or $n iomap_iter events, knob $(cat $KNOB)"
		fi
		echo rust >$KNOB
		insmod $MOD || not_ok "$fs: module reloads"
	fi
else
	skip "$fs: knob c (no C path before Linux 7.3)"
fi

# SPDX-License-Identifier: GPL-2.0
# Knob 0: nothing served, the same data.
# Sourced by suite.sh for each of ext4 and XFS, mounted on $MNT ($fs), with the 1 MiB
# pattern file $F (seed 7).

echo 0 >$KNOB
for eng in pread aio uring uring-poll; do
	check "$fs: knob 0, $eng: no hit, same data" \
		expect_hits 0 sdio-check read $F --engine $eng --random --count 10 --seed 7
done
echo 1 >$KNOB

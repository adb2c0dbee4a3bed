# SPDX-License-Identifier: GPL-2.0
# Under load: the knob flipped under reads, fio verify, module unload and reload.
# Sourced by suite.sh for each of ext4 and XFS, mounted on $MNT ($fs), with the 1 MiB
# pattern file $F (seed 7).

# Knob flipped 0/1 while reads run on every engine: data stays right.
pids=""
for eng in pread aio uring uring-poll; do
	sdio-check read $F --engine $eng --random --secs 4 --seed 7 >/tmp/flip.$eng 2>&1 &
	pids="$pids $!"
done
i=0
while [ $i -lt 200 ]; do echo $((i % 2)) >$KNOB; i=$((i + 1)); done
echo 1 >$KNOB
frc=0
for p in $pids; do wait $p || frc=1; done
check "$fs: knob flipped 200 times under reads on 4 engines, data right" test $frc = 0
[ $frc = 0 ] || cat /tmp/flip.*

# fio verify load: several jobs, QD 32, both engines, crc32c over every block.
LOADSIZE=256M
[ "${1:-}" = full ] && LOADSIZE=1G
# A debug kernel (KASAN, lockdep, kmemleak) writes the layout ten times slower under
# TCG: a smaller file keeps make test DEBUG=1 within its time (the reads are timed).
[ -e /sys/kernel/debug/kmemleak ] && LOADSIZE=32M
# Verify headers are per block: written and read with the same 4k block size.
fio --name=lay --filename=$MNT/load --size=$LOADSIZE --rw=write --bs=4k --direct=1 \
	--ioengine=libaio --iodepth=32 --verify=crc32c --do_verify=0 --eta=never --output=/dev/null
for eng in libaio io_uring; do
	check "$fs: fio verify randread $LOADSIZE, 4 jobs, QD 32, $eng: no verify error" \
		expect_hits_min 1000 fio --name=verify --filename=$MNT/load --size=$LOADSIZE \
		--rw=randread --bs=4k --direct=1 --ioengine=$eng --iodepth=32 --numjobs=4 \
		--verify=crc32c --verify_fatal=1 --runtime=8 --time_based \
		--group_reporting --output=/tmp/fio.$eng
done

if [ "${SDIO_SIMPLE_DIO:-m}" = m ]; then
	check "$fs: fio verify load across module unload/reload: no verify error" \
		load_unload $MNT/load $LOADSIZE

	# Unload while polled io_uring reads run: they go on through the generic path.
	sdio-check read $F --engine uring-poll --random --secs 6 --seed 7 >/tmp/loop.out 2>&1 &
	loop=$!
	sleep 2
	check "$fs: module unloads under polled io_uring load" rmmod iomap_simple_dio
	sleep 1
	check "$fs: module reloads" insmod $MOD
	# wait must run in this shell, which started the loop.
	wait $loop
	lrc=$?
	check "$fs: polled reads across unload/reload all right (exit $lrc)" test $lrc = 0
	sed 's/^/#   /' /tmp/loop.out
fi

# SPDX-License-Identifier: GPL-2.0
# Fault injection, at each knob setting, on every engine: the device failing the read's bio
# (fail_make_request on the NVMe disk; under dm-crypt: 70-stacks.sh), allocations failing
# (failslab with fail_page_alloc: those that cannot sleep, as under IOCB_NOWAIT, then every
# one), an NVMe command timing out, and CPU hotplug. Each
# injection is task-filtered: sdio-check marks itself (--fail-self) around each read only,
# so the file system's own I/O and allocations, and io-wq's retries, are untouched.
# A device error must give EIO and a FAN_FS_ERROR at every setting. An allocation failure
# may give ENOMEM (EAGAIN where the read must not block: an RWF_NOWAIT read whose bio
# cannot be had without sleeping, as upstream's C path does), never another errno or wrong
# data, and the simple paths never fail more blocking reads than the generic one. Failing
# every allocation is tried on the synchronous engine alone: aio and io_uring fail their
# own request allocation at submission (EAGAIN) before any path runs. Every case leaves no
# page pinned, and a truncate afterwards returns (no direct read left counted in
# i_dio_count). One row a case in /run/sdio/out/faults.tsv.
# Sourced by suite.sh for each of ext4 and XFS, mounted on $MNT ($fs).

DBG=/sys/kernel/debug
FV=$MNT/fault
TSV=/run/sdio/out/faults.tsv
[ -f $TSV ] || printf 'fs\tsetting\tinjection\tengine\tresult\thits\tread_errors\tpins\n' >$TSV
# The generic path first: the simple paths are held to what it gave.
if [ $OPT_IN = 1 ]; then settings="0 c rust"; else settings="0 1"; fi
disk=${DEV#/dev/}

# fault_on NAME [ATTR=VALUE...]: injection NAME on, task-filtered, every time, quiet.
fault_on() {
	local d=$DBG/$1 kv
	shift
	echo 1 >$d/task-filter && echo 100 >$d/probability && echo -1 >$d/times &&
		echo 0 >$d/verbose && echo 1 >$d/interval || return 1
	for kv in "$@"; do echo "${kv#*=}" >$d/${kv%%=*} || return 1; done
}
fault_off() { [ ! -d $DBG/$1 ] || echo 0 >$DBG/$1/probability; }

# inject NAME: switch the injection of case NAME on (all of it, or nothing).
inject() {
	case $1 in
	bio-error) fault_on fail_make_request && echo 1 >/sys/block/$disk/make-it-fail ;;
	alloc-nowait)
		fault_on failslab ignore-gfp-wait=Y &&
			fault_on fail_page_alloc ignore-gfp-wait=Y ignore-gfp-highmem=N min-order=0 ;;
	alloc-all)
		fault_on failslab ignore-gfp-wait=N &&
			fault_on fail_page_alloc ignore-gfp-wait=N ignore-gfp-highmem=N min-order=0 ;;
	esac
}
uninject() {
	echo 0 >/sys/block/$disk/make-it-fail
	fault_off fail_make_request
	fault_off failslab
	fault_off fail_page_alloc
}

# Allocation failures need CONFIG_FAILSLAB and CONFIG_FAIL_PAGE_ALLOC, which only the debug
# build has (make test DEBUG=1): they cost a call on every allocation.
injections=bio-error
if [ -d $DBG/failslab ] && [ -d $DBG/fail_page_alloc ]; then
	injections="$injections alloc-nowait alloc-all"
else
	skip "$fs: allocation failures (failslab, fail_page_alloc: make test DEBUG=1)"
fi
if [ ! -d $DBG/fail_make_request ]; then
	skip "$fs: fault injection (no fail_make_request)"
else
	sdio-check fill $FV 64k --seed 6 >/dev/null && sync
	for inj in $injections; do
		for setting in $settings; do
			echo $setting >$KNOB
			engines="pread preadv2 aio uring uring-poll"
			[ $inj = alloc-all ] && engines=pread
			for eng in $engines; do
				h0=$(counter hits) e0=$(counter read_errors) p0=$(pins)
				since=$(dmesg | wc -l)
				nw=""
				[ $eng = preadv2 ] && nw=--nowait
				case $inj in
				bio-error) args="--expect-errno EIO --fs-error EIO" ;;
				*) args="--allow-errno ENOMEM${nw:+,EAGAIN} --seed 6" ;;
				esac
				inject $inj || { not_ok "$fs: $inj: set-up"; uninject; break 3; }
				out=$(sdio-check read $FV --engine $eng $nw --off 16k --count 4 --fail-self \
					$args 2>&1)
				rc=$?
				uninject
				p1=$(pins)
				hits=$(($(counter hits) - h0)) errs=$(($(counter read_errors) - e0))
				failed=$(echo "$out" | sed -n 's/^allowed: \([0-9]*\) of .*/\1/p')
				case $inj in
				bio-error) result=EIO ;;
				*) result="failed ${failed:-?}/4" ;;
				esac
				[ $rc = 0 ] || result="FAIL"
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $fs $setting $inj $eng "$result" \
					$hits $errs $((p1 - p0)) >>$TSV
				why=""
				[ $rc = 0 ] || why="sdio-check: $out"
				[ "$p1" = "$p0" ] || why="$why; $((p1 - p0)) pages left pinned"
				dmesg | tail -n +$((since + 1)) | grep -qE 'BUG:|WARNING:|Oops|hung_task' &&
					why="$why; the kernel log has a warning"
				# What each path counts: the Rust path serves (4 hits) and counts every
				# device error; the others never touch its counters. Under allocation
				# failure a read the path served is a hit whatever its result.
				case $setting in
				rust | 1)
					case $inj in
					bio-error) [ $hits = 4 ] && [ $errs = 4 ] ||
						why="$why; hits +$hits, read_errors +$errs (want 4, 4)" ;;
					*) [ $errs = 0 ] || why="$why; read_errors +$errs" ;;
					esac ;;
				*) [ $hits = 0 ] && [ $errs = 0 ] ||
					why="$why; Rust counters moved at knob $setting" ;;
				esac
				# Never more failures of a blocking read than the generic path, at the
				# same injection.
				if [ -n "$nw" ]; then
					:
				elif [ "$setting" = 0 ]; then
					eval "gen_$(echo $inj | tr - _)_$(echo $eng | tr - _)=${failed:-0}"
				elif [ -n "$failed" ]; then
					eval "gen=\$gen_$(echo $inj | tr - _)_$(echo $eng | tr - _)"
					[ "$failed" -le "${gen:-0}" ] ||
						why="$why; $failed reads failed, $gen at knob 0"
				fi
				if [ -z "$why" ]; then
					ok "$fs: $inj, knob $setting, $eng: $result, nothing pinned"
				else
					not_ok "$fs: $inj, knob $setting, $eng: $result"
					echo "#   ${why#; }" | head -20
				fi
			done
			# No read is left counted in i_dio_count: truncate waits for them.
			check "$fs: $inj, knob $setting: truncate after the faults returns" \
				timeout 30 truncate -s 0 $FV
			sdio-check fill $FV 64k --seed 6 >/dev/null && sync
		done
	done
	uninject
	echo $KNOB_ON >$KNOB
	check "$fs: after the faults, the file reads right" \
		expect_hits 1 sdio-check read $FV --engine uring --off 16k --seed 6
	rm -f $FV
fi

# An NVMe command timeout under a read: the completion of the next command the disk
# completes is dropped (fail_io_timeout, once; it acts where the device completes, so no
# task filter), which the driver's timeout handler meets with an abort, then a controller
# reset, after which the command is retried. The read returns the right data at every
# setting, the Rust path serving it once, and nothing stays pinned.
if [ -d $DBG/fail_io_timeout ] && [ -w /sys/block/$disk/io-timeout-fail ]; then
	tmo=$(cat /sys/block/$disk/queue/io_timeout)
	echo 1000 >/sys/block/$disk/queue/io_timeout
	sdio-check fill $FV 64k --seed 6 >/dev/null && sync
	for setting in $settings; do
		echo $setting >$KNOB
		h0=$(counter hits) e0=$(counter read_errors) p0=$(pins)
		since=$(dmesg | wc -l)
		fault_on fail_io_timeout task-filter=0 times=1 &&
			echo 1 >/sys/block/$disk/io-timeout-fail
		out=$(timeout 120 sdio-check read $FV --engine pread --off 16k --count 1 --seed 6 2>&1)
		rc=$?
		echo 0 >/sys/block/$disk/io-timeout-fail
		fault_off fail_io_timeout
		p1=$(pins)
		hits=$(($(counter hits) - h0)) errs=$(($(counter read_errors) - e0))
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $fs $setting nvme-timeout pread \
			"$([ $rc = 0 ] && echo data || echo FAIL)" $hits $errs $((p1 - p0)) >>$TSV
		why=""
		[ $rc = 0 ] || why="sdio-check: $out"
		[ "$p1" = "$p0" ] || why="$why; $((p1 - p0)) pages left pinned"
		dmesg | tail -n +$((since + 1)) | grep -qE 'BUG:|WARNING:|Oops|hung_task' &&
			why="$why; the kernel log has a warning"
		dmesg | tail -n +$((since + 1)) | grep -q 'timeout' ||
			why="$why; no command timed out (the injection did not fire)"
		case $setting in
		rust | 1) [ $hits = 1 ] && [ $errs = 0 ] ||
			why="$why; hits +$hits, read_errors +$errs (want 1, 0)" ;;
		*) [ $hits = 0 ] || why="$why; Rust counters moved at knob $setting" ;;
		esac
		if [ -z "$why" ]; then
			ok "$fs: NVMe command timeout, knob $setting: data right, nothing pinned"
		else
			not_ok "$fs: NVMe command timeout, knob $setting"
			echo "#   ${why#; }" | head -20
			dmesg | tail -n +$((since + 1)) | tail -n 8 | sed 's/^/#   /'
		fi
	done
	echo $tmo >/sys/block/$disk/queue/io_timeout
	echo $KNOB_ON >$KNOB
	rm -f $FV
else
	skip "$fs: NVMe command timeouts (no fail_io_timeout)"
fi

# CPU hotplug while reads run on every engine: the per-CPU bio caches of a CPU that goes
# offline are freed under the reads; data stays right and nothing stays pinned.
if [ -w /sys/devices/system/cpu/cpu1/online ]; then
	for setting in $settings; do
		echo $setting >$KNOB
		pids="" p0=$(pins)
		for eng in pread aio uring uring-poll; do
			sdio-check read $F --engine $eng --random --secs 4 --seed 7 >/tmp/hp.$eng 2>&1 &
			pids="$pids $!"
		done
		i=0
		while [ $i -lt 6 ]; do
			echo 0 >/sys/devices/system/cpu/cpu1/online
			sleep 0.3
			echo 1 >/sys/devices/system/cpu/cpu1/online
			sleep 0.3
			i=$((i + 1))
		done
		hrc=0
		for p in $pids; do wait $p || hrc=1; done
		p1=$(pins)
		name="$fs: knob $setting: CPU 1 offline/online 6 times under reads on 4 engines, data right, nothing pinned"
		if [ $hrc = 0 ] && [ "$p1" = "$p0" ]; then
			ok "$name"
		else
			not_ok "$name"
			echo "#   pinned before $p0, after $p1"
			sed 's/^/#   /' /tmp/hp.*
		fi
	done
	echo $KNOB_ON >$KNOB
else
	skip "$fs: CPU hotplug (one CPU, or no CONFIG_HOTPLUG_CPU)"
fi

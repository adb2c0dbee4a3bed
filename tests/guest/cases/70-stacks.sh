# SPDX-License-Identifier: GPL-2.0
# Block stacks: ext4 and XFS on the device-mapper and md stacks servers run, with reads
# of every engine at each knob setting, overwrites of every engine at simple_write rust and 0
# (Linux 7.3), and a device error below dm-crypt at each. Sourced by suite.sh; runs on its
# own too.
#
# Knob 1 must never be worse than knob 0: the same data, no error anywhere. Most stacks
# cannot take REQ_NOWAIT bios (no BLK_FEAT_NOWAIT: dm-crypt, dm-flakey, md raid1), which
# submit_bio_noacct() fails with EOPNOTSUPP, and a REQ_NOWAIT bio the device would split
# fails with EAGAIN; the generic path sets no REQ_NOWAIT on reads, so neither may the
# simple path. Each read at knob 1 is served exactly once (hits, no second submission
# through io-wq), none is counted as an error or an EAGAIN, and no FAN_FS_ERROR event
# reaches userspace; dm-linear (nowait-capable) is the control.

STK_COUNT=16
STK_KEY=/tmp/sdio-stack.key
STK_MB=512

# stk_nullb N: a memory-backed configfs null_blk, /dev/sdiostkN, with a poll queue.
stk_nullb() {
	local d=$CFG/nullb/sdiostk$1
	mkdir $d && echo $STK_MB >$d/size && echo 1 >$d/memory_backed &&
		echo 1 >$d/poll_queues && echo 1 >$d/power
}

stk_nullb_rm() {
	local d=$CFG/nullb/sdiostk$1
	[ -d $d ] || return 0
	echo 0 >$d/power
	rmdir $d
}

# stk_node NAME: the device node of device-mapper device NAME (no udev in the guest:
# dmsetup makes /dev/mapper/NAME itself).
stk_node() {
	dmsetup mknodes "$1" && [ -b /dev/mapper/$1 ] && echo /dev/mapper/$1
}

# stk_up STACK: builds STACK over the null_blk devices and prints its device.
stk_up() {
	local sectors=$((STK_MB * 2048))
	case $1 in
	linear)
		dmsetup create sdio-linear --table "0 $sectors linear /dev/sdiostk0 0" &&
			stk_node sdio-linear ;;
	flakey)
		# Up for an hour, never down: a pure pass-through without BLK_FEAT_NOWAIT.
		dmsetup create sdio-flakey --table "0 $sectors flakey /dev/sdiostk0 0 3600 0" &&
			stk_node sdio-flakey ;;
	crypt)
		head -c 64 /dev/urandom >$STK_KEY &&
			cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 \
				--pbkdf-force-iterations 1000 --key-file $STK_KEY \
				/dev/sdiostk0 </dev/null >&2 &&
			cryptsetup open --disable-keyring --key-file $STK_KEY /dev/sdiostk0 \
				sdio-crypt </dev/null >&2 &&
			stk_node sdio-crypt ;;
	raid1)
		MDADM_NO_UDEV=1 mdadm --create /dev/md0 --run --level=1 --raid-devices=2 \
			--metadata=1.2 --assume-clean --bitmap=none /dev/sdiostk0 /dev/sdiostk1 \
			</dev/null >&2 && echo /dev/md0 ;;
	esac
}

stk_down() {
	case $1 in
	linear | flakey) dmsetup remove sdio-$1 ;;
	crypt) cryptsetup close sdio-crypt ;;
	raid1) mdadm --stop /dev/md0 >/dev/null 2>&1 ;;
	esac
}

# stk_engines STACK DEV: the engines to try on DEV; polled io_uring where its queue polls.
# dm-crypt advertises polling (its devices poll), but submits its clones from kcryptd,
# where nobody polls them: null_blk times them out, at either knob.
stk_engines() {
	local q=/sys/dev/block/$(stat -L -c '%Hr:%Lr' "$2")/queue
	echo "pread nowait aio uring"
	[ "$1" != crypt ] && [ "$(cat $q/io_poll 2>/dev/null)" = 1 ] && echo uring-poll
}

# stk_read STACK FS FILE ENGINE KIB KNOB: STK_COUNT random reads, checked byte for byte,
# with the counters knob KNOB must leave: every read served once at 1, none at 0 or c; never a
# read error, an EAGAIN or a file-system error event. KNOB "-": a kernel without the path
# (upstream's), where only the reads are checked. Each case is a row of $STK_TSV.
stk_read() {
	local stack=$1 fs=$2 f=$3 eng=$4 kib=$5 knob=$6 args out rc want=0
	local h0=0 e0=0 a0=0 h1=0 e1=0 a1=0 res fserr
	[ "$knob" = 1 ] && want=$STK_COUNT
	case $eng in
	nowait) args="--engine preadv2 --nowait" ;;
	*) args="--engine $eng" ;;
	esac
	[ "$knob" = - ] || echo "$knob" >$KNOB
	[ -r $STATS ] && h0=$(counter hits) e0=$(counter read_errors) a0=$(counter eagain_nowait)
	out=$(sdio-check read "$f" $args --len ${kib}k --random --count $STK_COUNT --seed 7 \
		--fs-error none 2>&1)
	rc=$?
	[ -r $STATS ] && h1=$(counter hits) e1=$(counter read_errors) a1=$(counter eagain_nowait)
	res=ok
	[ $rc = 0 ] || res=$(echo "$out" | tail -n 1 | sed 's/^sdio-check: //')
	fserr=0
	case $out in *"FAN_FS_ERROR"*) fserr=1 ;; esac
	printf '%s\t%s\t%s\t%sk\t%s\t%s\t%s\t%s\t%s\n' "$stack" "$fs" "$eng" "$kib" "$knob" \
		"$res" $((h1 - h0)) $((e1 - e0)) $fserr >>$STK_TSV
	[ $rc = 0 ] || { echo "$out"; return 1; }
	[ "$knob" = - ] && return 0
	[ $((h1 - h0)) = $want ] && [ $((e1 - e0)) = 0 ] && [ $((a1 - a0)) = 0 ] || {
		echo "hits +$((h1 - h0)) (expected $want), read_errors +$((e1 - e0)), eagain_nowait +$((a1 - a0))"
		return 1
	}
}

# stk_write STACK FS FILE ENGINE KIB KNOB: STK_COUNT random O_DIRECT overwrites of FILE (a
# pattern file, seed 3), each read back at once, and the whole file checked at the end; at
# simple_write=rust every one served once (none where the stack needs stable pages, which
# the path declines), at 0 none; never a write error, an EAGAIN or a file-system error
# event. A row of $STK_TSV, its engine prefixed "write-".
stk_write() {
	local stack=$1 fs=$2 f=$3 eng=$4 kib=$5 knob=$6 out rc want=0 dev
	local h0 e0 a0 h1 e1 a1 res fserr
	dev=/sys/dev/block/$(stat -c '%Hd:%Ld' "$f")/queue/stable_writes
	[ "$knob" = rust ] && [ "$(cat $dev 2>/dev/null)" != 1 ] && want=$STK_COUNT
	echo $knob >$WKNOB
	sdio-check fill "$f" 1M --seed 3 >/dev/null || return 1
	h0=$(counter write_hits) e0=$(counter write_errors) a0=$(counter write_eagain_nowait)
	out=$(sdio-check dwrite "$f" --engine $eng --len ${kib}k --random --count $STK_COUNT \
		--seed 11 --base-seed 3 --fs-error none 2>&1)
	rc=$?
	h1=$(counter write_hits) e1=$(counter write_errors) a1=$(counter write_eagain_nowait)
	echo 0 >$WKNOB
	res=ok
	[ $rc = 0 ] || res=$(echo "$out" | tail -n 1 | sed 's/^sdio-check: //')
	fserr=0
	case $out in *"FAN_FS_ERROR"*) fserr=1 ;; esac
	printf '%s\t%s\twrite-%s\t%sk\t%s\t%s\t%s\t%s\t%s\n' "$stack" "$fs" "$eng" "$kib" \
		"$knob" "$res" $((h1 - h0)) $((e1 - e0)) $fserr >>$STK_TSV
	[ $rc = 0 ] || { echo "$out"; return 1; }
	[ $((h1 - h0)) = $want ] && [ $((e1 - e0)) = 0 ] && [ $((a1 - a0)) = 0 ] || {
		echo "write_hits +$((h1 - h0)) (expected $want), write_errors +$((e1 - e0)), write_eagain_nowait +$((a1 - a0))"
		return 1
	}
}

# stk_dmesg_clean SINCE: no kernel line after line SINCE of dmesg reports an error.
# stk_fault FS FILE KNOB: the disk under dm-crypt fails each clone of four 4 KiB preads
# (fail_make_request, filtered to the reading task: dm-crypt submits a read's clone from it).
# Every setting gives EIO and a FAN_FS_ERROR; the Rust path serves the reads and counts each
# error; nothing stays pinned. A row in faults.tsv.
STK_FMR=/sys/kernel/debug/fail_make_request
stk_fault() {
	local fs=$1 f=$2 knob=$3 p0 h0 e0 hits errs rc out
	[ "$knob" = - ] || echo $knob >$KNOB
	p0=$(pins) h0=$(counter hits) e0=$(counter read_errors)
	echo 1 >$STK_FMR/task-filter && echo 100 >$STK_FMR/probability &&
		echo -1 >$STK_FMR/times && echo 0 >$STK_FMR/verbose && echo 1 >$STK_FMR/interval &&
		echo 1 >/sys/block/sdiostk0/make-it-fail || return 1
	out=$(sdio-check read $f --engine pread --off 16k --count 4 --fail-self \
		--expect-errno EIO --fs-error EIO 2>&1)
	rc=$?
	echo 0 >/sys/block/sdiostk0/make-it-fail
	echo 0 >$STK_FMR/probability
	hits=$(($(counter hits) - h0)) errs=$(($(counter read_errors) - e0))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $fs $knob bio-error-under-crypt pread \
		"$([ $rc = 0 ] && echo EIO || echo FAIL)" $hits $errs $(($(pins) - p0)) \
		>>/run/sdio/out/faults.tsv
	[ $rc = 0 ] || { echo "$out"; return 1; }
	[ "$(pins)" = "$p0" ] || { echo "pages left pinned"; return 1; }
	case $knob in
	1 | rust) [ $hits = 4 ] && [ $errs = 4 ] ||
		{ echo "hits +$hits, read_errors +$errs (want 4, 4)"; return 1; } ;;
	*) [ $hits = 0 ] && [ $errs = 0 ] ||
		{ echo "Rust counters moved at knob $knob"; return 1; } ;;
	esac
}

stk_dmesg_clean() {
	local new
	new=$(dmesg | sed -n "$(($1 + 1)),${2:-\$}p" | grep -iE 'error|fail|critical' || true)
	[ -z "$new" ] || { echo "$new"; return 1; }
}

# Run on its own (scripts/vm run tests/guest/cases/70-stacks.sh), as on a kernel without
# the path.
if [ -z "${N+set}" ]; then
	. /run/sdio/bin/lib.sh
	: >$R
	STK_STANDALONE=1
	[ -f $MOD ] && insmod $MOD
fi
STK_TSV=/run/sdio/out/stacks.tsv
WKNOB=/sys/kernel/iomap/simple_write
printf 'stack\tfs\tengine\tsize\tknob\tresult\thits\tread_errors\tfs_error\n' >$STK_TSV
# Where ext4 and XFS opt in (7.3), the kernel's C path too: the knob's "c".
STK_KNOBS="1 0"
[ "$OPT_IN" = 1 ] && STK_KNOBS="1 c 0"
[ -e $KNOB ] || STK_KNOBS=-
mountpoint -q $CFG || mount -t configfs configfs $CFG
for stack in linear flakey crypt raid1; do
	if ! stk_nullb 0 || ! stk_nullb 1; then
		not_ok "$stack: null_blk setup"
		stk_nullb_rm 0; stk_nullb_rm 1
		continue
	fi
	if ! sdev=$(stk_up $stack); then
		not_ok "$stack: set up the stack"
		stk_nullb_rm 0; stk_nullb_rm 1
		continue
	fi
	for fs in ext4 xfs; do
		since=$(dmesg | wc -l)
		case $fs in
		ext4) mkfs.ext4 -q -F -b 4096 $sdev ;;
		xfs) mkfs.xfs -q -f -b size=4096 $sdev ;;
		esac
		if ! mount -t $fs $sdev $MNT; then
			not_ok "$stack: $fs: mkfs and mount"
			continue
		fi
		sdio-check fill $MNT/data 1M --seed 7 >/dev/null || not_ok "$stack: $fs: fill"
		for eng in $(stk_engines $stack $sdev); do
			for kib in 4 16; do
				for knob in $STK_KNOBS; do
					check "$stack: $fs: ${kib}k $eng, knob $knob: data right, served as the knob says, no error" \
						stk_read $stack $fs $MNT/data $eng $kib $knob
				done
			done
		done
		if [ -e $WKNOB ]; then
			for eng in $(stk_engines $stack $sdev); do
				[ $eng = nowait ] && eng=pwritev2
				for kib in 4 16; do
					for knob in rust 0; do
						check "$stack: $fs: ${kib}k $eng overwrites, simple_write $knob: data right, served as the knob says, no error" \
							stk_write $stack $fs $MNT/wdata $eng $kib $knob
					done
				done
			done
		fi
		upto=$(dmesg | wc -l)
		if [ $stack = crypt ] && [ -d $STK_FMR ]; then
			for knob in $STK_KNOBS; do
				check "$stack: $fs: bio error below dm-crypt, knob $knob: EIO and FAN_FS_ERROR, counters as documented, nothing pinned" \
					stk_fault $fs $MNT/data $knob
			done
		fi
		umount $MNT
		check "$stack: $fs: no error in the kernel log" stk_dmesg_clean $since $upto
	done
	stk_down $stack
	stk_nullb_rm 0
	stk_nullb_rm 1
done
[ -e $KNOB ] && echo 1 >$KNOB
sed 's/^/#   /' $STK_TSV
if [ -n "${STK_STANDALONE:-}" ]; then
	plan
	! grep -q '^not ok' $R
fi

# SPDX-License-Identifier: GPL-2.0
# Direct overwrites raced by whatever else may change the same file: buffered reads and
# writes, writes through a shared mapping, truncate, punch hole, FALLOC_FL_ZERO_RANGE, and
# on XFS reflinks of the file into another (FICLONE).
# Afterwards every sector holds one whole pattern the race allows (no torn or misplaced
# write, no stale data where a truncation cut the file), and buffered reads return what
# O_DIRECT reads do (no stale page cache). At simple_write=rust, some of the overwrites are
# served (each race leaves written blocks the path can take), at 0 none. Sourced by
# suite.sh for each of ext4 and XFS, mounted on $MNT ($fs).
#
# Where a buffered or mmap writer dirties a page of the range between a direct write's
# submission and its completion, kiocb_invalidate_post_direct_write() cannot drop it and
# the kernel logs "Page cache invalidation failure on direct I/O": at either setting, as
# the generic path does; the data check above is what must hold.

WKNOB=/sys/kernel/iomap/simple_write
# race_writes KNOB KIND: 200 random 4 KiB overwrites of a fresh pattern file raced by KIND;
# at rust some served, at 0 none.
race_writes() {
	local knob=$1 kind=$2 h0 h
	sdio-check fill $MNT/wrace 1M --seed 3 >/dev/null || return 1
	echo $knob >$WKNOB
	h0=$(counter write_hits)
	sdio-check dwrite $MNT/wrace --engine uring --random --count 200 --seed 11 \
		--base-seed 3 --race $kind || return 1
	h=$(($(counter write_hits) - h0))
	echo 0 >$WKNOB
	case $knob in
	# Once reflinked, XFS offers the file's writes no more: a clone race may serve none.
	rust) [ $h -gt 0 ] || [ $kind = clone ] || { echo "no overwrite served"; return 1; } ;;
	*) [ $h = 0 ] || { echo "$h overwrites served at simple_write $knob"; return 1; } ;;
	esac
}

if [ ! -e $WKNOB ]; then
	skip "$fs: write races: no simple_write knob (no file system offers writes before Linux 7.3)"
else
	kinds="bufread bufwrite mmap truncate punch zero"
	# Reflinks of the file while it is written: XFS (ext4 has none).
	[ $fs = xfs ] && kinds="$kinds clone"
	for kind in $kinds; do
		for knob in rust 0; do
			check "$fs: overwrites raced by $kind, simple_write $knob: every sector right, page cache coherent" \
				race_writes $knob $kind
		done
	done
	rm -f $MNT/wrace $MNT/wrace.clone
fi

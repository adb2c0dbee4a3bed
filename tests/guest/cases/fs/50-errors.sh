# SPDX-License-Identifier: GPL-2.0
# Bad input: misaligned offset, length and buffer.
# Sourced by suite.sh for each of ext4 and XFS, mounted on $MNT ($fs), with the 1 MiB
# pattern file $F (seed 7).

# The generic path reports an error of its mapping loop through fserror, misalignment
# included (iomap_dio_complete()): so does the path, at either knob.
for knob in 1 0; do
	echo $knob >$KNOB
	check "$fs: misaligned offset, knob $knob: EINVAL, FAN_FS_ERROR EINVAL" \
		sdio-check read $F --off 100 --len 512 --expect-errno EINVAL --fs-error EINVAL
done
echo 1 >$KNOB
check "$fs: misaligned length: EINVAL" \
	sdio-check read $F --off 0 --len 1000 --expect-errno EINVAL
check "$fs: misaligned buffer: EINVAL" \
	sdio-check read $F --off 0 --buf-off 1 --expect-errno EINVAL

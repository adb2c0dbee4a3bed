// SPDX-License-Identifier: GPL-2.0

#include <linux/blkdev.h>
#include <linux/kdev_t.h>

__rust_helper unsigned int
rust_helper_bdev_logical_block_size(struct block_device *bdev)
{
	return bdev_logical_block_size(bdev);
}

__rust_helper unsigned int rust_helper_bdev_dma_alignment(struct block_device *bdev)
{
	return bdev_dma_alignment(bdev);
}

__rust_helper bool rust_helper_bdev_write_cache(struct block_device *bdev)
{
	return bdev_write_cache(bdev);
}

__rust_helper bool rust_helper_bdev_fua(struct block_device *bdev)
{
	return bdev_fua(bdev);
}

__rust_helper bool rust_helper_bdev_nowait(struct block_device *bdev)
{
	return bdev_nowait(bdev);
}

__rust_helper bool rust_helper_bdev_stable_writes(struct block_device *bdev)
{
	return bdev_stable_writes(bdev);
}

__rust_helper dev_t rust_helper_MKDEV(unsigned int major, unsigned int minor)
{
	return MKDEV(major, minor);
}

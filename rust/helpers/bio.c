// SPDX-License-Identifier: GPL-2.0

#include <linux/bio.h>
#include <linux/blkdev.h>

__rust_helper int rust_helper_bio_iov_vecs_to_alloc(struct iov_iter *iter,
						    int max_segs)
{
	return bio_iov_vecs_to_alloc(iter, max_segs);
}

__rust_helper void rust_helper_bio_release_pages(struct bio *bio,
						 bool mark_dirty)
{
	bio_release_pages(bio, mark_dirty);
}

__rust_helper unsigned int
rust_helper_bdev_logical_block_size(struct block_device *bdev)
{
	return bdev_logical_block_size(bdev);
}

__rust_helper unsigned int
rust_helper_bdev_dma_alignment(struct block_device *bdev)
{
	return bdev_dma_alignment(bdev);
}

__rust_helper bool rust_helper_PageDirty(const struct page *page)
{
	return PageDirty(page);
}

// SPDX-License-Identifier: GPL-2.0

#include <linux/bio.h>
#include <linux/page-flags.h>

__rust_helper bool rust_helper_bio_flagged(const struct bio *bio, unsigned int bit)
{
	return bio_flagged(bio, bit);
}

__rust_helper void rust_helper_bio_set_flag(struct bio *bio, unsigned int bit)
{
	bio_set_flag(bio, bit);
}

__rust_helper void rust_helper_bio_clear_flag(struct bio *bio, unsigned int bit)
{
	bio_clear_flag(bio, bit);
}

__rust_helper bool rust_helper_PageAnon(const struct page *page)
{
	return PageAnon(page);
}

__rust_helper bool rust_helper_PageDirty(const struct page *page)
{
	return PageDirty(page);
}

__rust_helper enum req_op rust_helper_bio_op(const struct bio *bio)
{
	return bio_op(bio);
}

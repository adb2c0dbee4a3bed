// SPDX-License-Identifier: GPL-2.0

#include <linux/page-flags.h>

__rust_helper bool rust_helper_PageDirty(const struct page *page)
{
	return PageDirty(page);
}

__rust_helper bool rust_helper_PageAnon(const struct page *page)
{
	return PageAnon(page);
}

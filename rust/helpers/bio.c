// SPDX-License-Identifier: GPL-2.0

#include <linux/page-flags.h>

__rust_helper const struct folio *rust_helper_page_folio(const struct page *page)
{
	return page_folio(page);
}

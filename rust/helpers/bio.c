// SPDX-License-Identifier: GPL-2.0

#include <linux/page-flags.h>

__rust_helper bool rust_helper_PageDirty(const struct page *page)
{
	return PageDirty(page);
}

/*
 * PageAnon(page) && PageDirty(page) with one page_folio() and one call: the test
 * Bio::add_iter_pages() makes on each page of a read's user buffer.
 */
__rust_helper bool rust_helper_PageAnonDirty(const struct page *page)
{
	const struct folio *folio = page_folio(page);

	return folio_test_anon(folio) && folio_test_dirty(folio);
}

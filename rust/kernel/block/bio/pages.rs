// SPDX-License-Identifier: GPL-2.0

//! The pages a bio reads into: pinning a buffer into it, dirtying and unpinning them.

use super::{device::BlockDevice, Bio};
use crate::{
    bindings,
    error::{to_result, Result},
    iov::IovIterDest,
    page::PAGE_SIZE,
    prelude::*,
};

/// The `bi_flags` bit that says the bio holds page pins (`bio_release_pages()` drops them).
const BIO_PAGE_PINNED: u16 = 1 << bindings::BIO_PAGE_PINNED;
/// The `bi_flags` bit that says the bio's vectors are not its own (a bvec iterator's).
const BIO_CLONED: u16 = 1 << bindings::BIO_CLONED;

/// Page pointers a `struct bio_vec` holds (`PAGE_PTRS_PER_BVEC` in lib/iov_iter.c): at least
/// two, or a vector could not be written over its own page pointer only.
const PAGE_PTRS_PER_BVEC: usize = {
    let n = size_of::<bindings::bio_vec>() / size_of::<*mut bindings::page>();
    assert!(n >= 2);
    n
};

/// The flags word and the mapping of the folio of `page` (`page_folio()`).
///
/// # Safety
///
/// `page` must be a page the caller holds (pinned into a bio it owns): its folio cannot be
/// freed or split under it.
#[inline(always)]
unsafe fn folio_flags_mapping(page: *const bindings::page) -> (usize, usize) {
    // SAFETY: `page` is valid (the caller's guarantee); `page_folio()` only reads it.
    let folio = unsafe { bindings::page_folio(page) };
    // SAFETY: The folio of a held page is valid. Its flags change under it (atomic bit
    // operations) and are read as `test_bit()` reads them, with a volatile load; the mapping
    // of a held folio is set (`folio_test_anon()` reads it plainly).
    unsafe {
        let f = &raw const (*folio).__bindgen_anon_1.__bindgen_anon_1;
        let flags = (&raw const (*f).flags.f).read_volatile();
        let mapping = (&raw const (*f).mapping).read_volatile();
        (flags as usize, mapping as usize)
    }
}

/// `PageDirty(page)`: `folio_test_dirty()` of its folio.
///
/// # Safety
///
/// As for [`folio_flags_mapping`].
#[inline(always)]
unsafe fn page_dirty(page: *const bindings::page) -> bool {
    // SAFETY: The caller's guarantee.
    let (flags, _) = unsafe { folio_flags_mapping(page) };
    flags & (1 << bindings::pageflags_PG_dirty) != 0
}

/// `PageAnon(page) && PageDirty(page)`, with one look at the folio: `folio_test_anon()` and
/// `folio_test_dirty()`.
///
/// # Safety
///
/// As for [`folio_flags_mapping`].
#[inline(always)]
unsafe fn page_anon_dirty(page: *const bindings::page) -> bool {
    // SAFETY: The caller's guarantee.
    let (flags, mapping) = unsafe { folio_flags_mapping(page) };
    mapping & bindings::FOLIO_MAPPING_ANON as usize != 0
        && flags & (1 << bindings::pageflags_PG_dirty) != 0
}

impl<D> Bio<'_, D> {
    /// Pins the pages of `iter` into the bio for a read into them, advancing `iter` by the
    /// bytes added.
    ///
    /// `len_align_mask` is the mask every segment length must satisfy; the memory alignment
    /// the device needs is checked too. Fails with `EFAULT` for unmapped user memory and
    /// `EINVAL` for misaligned segments. User pages are pinned (and unpinned by
    /// [`Bio::release_pages`] or on drop) and marked dirty, as `bio_set_pages_dirty()` does
    /// before a direct-I/O read (the device writes them behind the page tables' back); kernel
    /// pages are neither. It may sleep.
    ///
    /// A bvec iterator's vectors are used in place, as `bio_iov_iter_get_pages()` uses them:
    /// that needs an empty bio allocated with no vectors (`bio_iov_vecs_to_alloc()`), and
    /// fails with `EINVAL` otherwise.
    ///
    /// A single user buffer (`read()`, io_uring) that fits the bio's vectors whole is pinned
    /// here, one vector a page; every other iterator, and a buffer that could be pinned only in
    /// part (or holds memory `pin_user_pages_fast()` refuses without `FOLL_PCI_P2PDMA`), goes
    /// to `bio_iov_iter_get_pages()`, as it would without this.
    ///
    /// It may sleep: process context only.
    ///
    /// # Safety
    ///
    /// The memory `iter` describes must stay valid until the bio is dropped, as the device
    /// writes to it: the buffer of a direct-I/O request in progress is, until the request
    /// completes. The bio must have a device (`bi_bdev`, from [`BioSet::alloc_read`]) that is
    /// still valid: a `Bio` does not borrow its device.
    // Once per read: inlined.
    #[inline(always)]
    pub unsafe fn add_iter_pages(
        &mut self,
        iter: &mut IovIterDest<'_>,
        len_align_mask: u32,
    ) -> Result {
        // SAFETY: The bio's device is valid, by the caller's guarantee.
        let bdev = unsafe { BlockDevice::from_raw((*self.as_raw()).bi_bdev) };
        let mem_align_mask = bdev.dma_alignment();
        // SAFETY: We own the bio, which is not submitted, and the caller guarantees the
        // buffer.
        if unsafe { self.pin_user_buf(iter, mem_align_mask, len_align_mask) }? {
            return Ok(());
        }
        // SAFETY: We own the bio, which is not submitted.
        let (max_vecs, size, flags) = unsafe {
            let b = self.as_raw();
            ((*b).bi_max_vecs, (*b).bi_iter.bi_size, (*b).bi_flags)
        };
        // `bio_iov_iter_get_pages()` warns and fails for a bio that took a bvec iterator's
        // vectors already (`BIO_CLONED`), and `bio_iov_iter_set()` puts a bvec iterator's
        // vectors in place of the bio's own: only a bio allocated without vectors and given
        // nothing yet may take them, or the bio's array would be lost and `bio_free()` would
        // free the caller's array into a biovec slab.
        if flags & BIO_CLONED != 0 || (iter.is_bvec() && (max_vecs != 0 || size != 0)) {
            return Err(EINVAL);
        }
        let user_backed = iter.is_user_backed();
        // SAFETY: We own the bio, which is not submitted, and `iter` is valid. A bvec iterator
        // meets an empty bio without vectors (tested above).
        to_result(unsafe {
            bindings::bio_iov_iter_get_pages(
                self.as_raw(),
                iter.as_raw(),
                mem_align_mask,
                len_align_mask,
            )
        })?;
        if user_backed {
            self.set_pages_dirty();
        }
        Ok(())
    }

    /// Pins a whole single user buffer into an empty bio, a vector per page, and marks its
    /// pages dirty, as `bio_iov_iter_get_pages()` and `bio_set_pages_dirty()` would (without
    /// merging the pages of a folio into one vector); returns `false`, with bio and iterator
    /// untouched, for anything else.
    ///
    /// For such a buffer `bio_iov_iter_get_pages()` comes down to `pin_user_pages_fast()` too,
    /// after extracting a page array, walking the folios to merge their pages and dispatching
    /// on the iterator type: doing only the pinning here saves all of that.
    ///
    /// # Safety
    ///
    /// As for [`Bio::add_iter_pages`].
    #[inline(always)]
    unsafe fn pin_user_buf(
        &mut self,
        iter: &mut IovIterDest<'_>,
        mem_align_mask: u32,
        len_align_mask: u32,
    ) -> Result<bool> {
        let Some((addr, len)) = iter.ubuf() else {
            return Ok(false);
        };
        let bio = self.as_raw();
        let it = iter.as_raw();
        // SAFETY: `it` is a valid `ITER_UBUF` iterator: `count` is the member of its union in
        // use. We own the bio, which is not submitted: nothing else uses its vectors,
        // `bi_max_vecs` of them, so the `nr <= bi_max_vecs` page pointers
        // `pin_user_pages_fast()` writes from the middle of them stay inside. The helpers get
        // pages it pinned, and `bio_set_pages_dirty()` a bio that holds them.
        unsafe {
            if (*bio).bi_vcnt != 0 {
                return Ok(false);
            }
            // The memory alignment the device needs, as `iov_iter_extract_bvecs()` checks it.
            if (addr | len) & mem_align_mask as usize != 0 {
                return Err(EINVAL);
            }
            let max_vecs = usize::from((*bio).bi_max_vecs);
            // What C would trim or fail, and what cannot fit: left to C. With `len` at most
            // `max_vecs` pages, nothing below overflows.
            if len == 0 || len & len_align_mask as usize != 0 || len > max_vecs * PAGE_SIZE {
                return Ok(false);
            }
            let off = addr % PAGE_SIZE;
            let nr = (off + len).div_ceil(PAGE_SIZE);
            if nr > max_vecs {
                return Ok(false);
            }
            // The page array lives at the end of the vectors, as in
            // `iov_iter_extract_bvecs()` (`PAGE_PTRS_PER_BVEC - 1` pointers a vector in):
            // vector `i` overlaps only page pointers up to `i`, which are read before it is
            // written.
            let bv = (*bio).bi_io_vec;
            let pages = bv
                .cast::<*mut bindings::page>()
                .add(max_vecs * (PAGE_PTRS_PER_BVEC - 1));
            let mut flags = bindings::FOLL_WRITE;
            if (*it).nofault {
                flags |= bindings::FOLL_NOFAULT;
            }
            // `nr` is at most `bi_max_vecs`, a `u16`: the cast is lossless.
            let got = bindings::pin_user_pages_fast(addr - off, nr as i32, flags, pages);
            if got != nr as i32 {
                if got > 0 {
                    bindings::unpin_user_pages(pages, got as usize);
                }
                return Ok(false);
            }
            let (mut off, mut left) = (off, len);
            // See `set_pages_dirty`: tested while the vectors are filled, which saves walking
            // them again.
            let mut anon_dirty = true;
            for i in 0..nr {
                let page = pages.add(i).read();
                anon_dirty = anon_dirty && page_anon_dirty(page);
                let n = left.min(PAGE_SIZE - off);
                // Lossless: `n` is at most `PAGE_SIZE`, `off` below it.
                bv.add(i).write(bindings::bio_vec {
                    bv_page: page,
                    bv_len: n as u32,
                    bv_offset: off as u32,
                });
                left -= n;
                off = 0;
            }
            // Lossless: `nr` is at most `bi_max_vecs`, and `len` below `nr` pages.
            (*bio).bi_vcnt = nr as u16;
            (*bio).bi_iter.bi_size = len as u32;
            (*bio).bi_flags |= BIO_PAGE_PINNED;
            // `iov_iter_advance()` of a `ITER_UBUF` iterator.
            (*it).iov_offset += len;
            (*it).__bindgen_anon_1.__bindgen_anon_1.as_mut().count -= len;
            if !anon_dirty {
                bindings::bio_set_pages_dirty(bio);
            }
        }
        Ok(true)
    }

    /// Marks the bio's pages dirty, before a read into user memory.
    ///
    /// It may sleep (it locks pages that need it): only from process context.
    #[inline(always)]
    fn set_pages_dirty(&mut self) {
        // User buffers are almost always anonymous memory that is dirty already. For such a
        // folio, `bio_set_pages_dirty()`'s lock, `folio_mark_dirty()` and unlock change
        // nothing (`noop_dirty_folio()`; on a swap-cache folio they would also clear a stale
        // `PG_reclaim`, which `folio_mark_dirty()`'s own comment calls a trivial problem) and
        // cost a lock round trip a page. A file page may be dirty with clean buffers, which
        // `folio_mark_dirty()` must still dirty: a bio with any other page takes the C path
        // for all of them. The test is cheap against the lock and unlock it saves.
        // SAFETY: A page the bio holds.
        let anon_dirty = |page: *const bindings::page| unsafe { page_anon_dirty(page) };
        if !self.all_pages(anon_dirty) {
            // SAFETY: The bio is valid and owned.
            unsafe { bindings::bio_set_pages_dirty(self.as_raw()) };
        }
    }

    /// Returns whether `test` holds for every page of the bio's vectors.
    #[inline(always)]
    fn all_pages(&self, mut test: impl FnMut(*const bindings::page) -> bool) -> bool {
        let bio = self.as_raw();
        // SAFETY: The bio is valid; `bi_io_vec[..bi_vcnt]` are its initialised vectors. A
        // vector spans several pages only where their `struct page`s are contiguous: within a
        // folio (`folio_page()` is `&folio->page + n`), or where `bvec_try_merge_page()` in
        // block/bio.c merged a page because `bv_page + n` is that page. So `bv_page.add(n)`
        // for each page of the vector is that page, as `bio_for_each_folio_all()` also walks
        // them (`folio_next()` is pointer arithmetic on `struct page`).
        unsafe {
            let mut bv = (*bio).bi_io_vec.cast_const();
            let vecs_end = bv.add(usize::from((*bio).bi_vcnt));
            // Pointer walks: fewer values live across the calls of `test` than with indices.
            while bv != vecs_end {
                let (off, len) = ((*bv).bv_offset as usize, (*bv).bv_len as usize);
                let first = (*bv).bv_page.cast_const();
                let mut page = first.add(off / PAGE_SIZE);
                // Rounded up: an empty vector (none is ever built) walks no page.
                let pages_end = first.add((off + len).div_ceil(PAGE_SIZE));
                while page != pages_end {
                    if !test(page) {
                        return false;
                    }
                    page = page.add(1);
                }
                bv = bv.add(1);
            }
        }
        true
    }

    /// Returns whether every page of the bio is still dirty.
    ///
    /// After a read into user memory this is the common case; a page cleaned by writeback
    /// meanwhile must be dirtied again from process context with
    /// [`Bio::release_pages`]`(true)`.
    // Once per completion: inlined wherever the completion is.
    #[inline(always)]
    pub fn pages_all_dirty(&self) -> bool {
        // A vector may span folios; `page_dirty` tests the folio of each page, so that is fine.
        // SAFETY: A page the bio holds.
        self.all_pages(|page| unsafe { page_dirty(page) })
    }

    /// Unpins the bio's pages; then none are pinned.
    ///
    /// It does not sleep. Calling it again, or dropping the bio after it, unpins nothing more.
    #[inline(always)]
    pub fn release_pages(&mut self) {
        // SAFETY: Without `mark_dirty`, `__bio_release_pages()` only unpins, which does not
        // sleep.
        unsafe { self.release_pages_marked(false) }
    }

    /// Marks the bio's pages dirty and unpins them, as after a read into user memory; then
    /// none are pinned.
    ///
    /// # Safety
    ///
    /// Process context only: `__bio_release_pages(bio, true)` locks the pages
    /// (`folio_mark_dirty_lock()`), which may sleep.
    // Used by `kernel::fs::iomap` only, which exists with CONFIG_IOMAP_SIMPLE_DIO.
    #[cfg_attr(not(CONFIG_IOMAP_SIMPLE_DIO), allow(dead_code))]
    #[inline(always)]
    pub(crate) unsafe fn release_pages_dirty(&mut self) {
        // SAFETY: The caller's guarantee.
        unsafe { self.release_pages_marked(true) }
    }

    /// `bio_release_pages()`, once.
    ///
    /// # Safety
    ///
    /// With `mark_dirty`, process context only (it may sleep).
    #[inline(always)]
    unsafe fn release_pages_marked(&mut self, mark_dirty: bool) {
        let bio = self.as_raw();
        // SAFETY: The bio is valid and owned. This is `bio_release_pages()`, which unpins only
        // while `BIO_PAGE_PINNED` is set and does not clear it: clearing it here makes every pin
        // be dropped exactly once.
        unsafe {
            if (*bio).bi_flags & BIO_PAGE_PINNED != 0 {
                bindings::__bio_release_pages(bio, mark_dirty);
                (*bio).bi_flags &= !BIO_PAGE_PINNED;
            }
        }
    }
}

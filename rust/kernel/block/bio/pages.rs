// SPDX-License-Identifier: GPL-2.0

//! The pages a bio carries: a page at a time, or pinned from an I/O vector; dirtying and
//! unpinning them.

use super::Bio;
use crate::{
    bindings,
    block::bdev::BlockDevice,
    error::Result,
    iov::{IovIterDest, IovIterSource},
    page::{Page, PAGE_SIZE},
    prelude::*,
};

mod private {
    pub trait Sealed {}
}

/// An I/O vector whose pages a bio can carry: the buffer of a read ([`IovIterDest`]), which
/// the device writes, or of a write ([`IovIterSource`]), which it reads.
///
/// Sealed: a bio trusts it for the direction of the I/O and what the memory may be used for.
pub trait BioIter<'a>: private::Sealed {
    /// Whether the device writes the memory: a bio that reads the device (`REQ_OP_READ`)
    /// takes it, and its user pages are dirtied.
    const DEVICE_WRITES: bool;

    /// Returns the raw `struct iov_iter`.
    fn raw(&mut self) -> *mut bindings::iov_iter;

    /// Returns whether the memory is user memory, whose pages are pinned.
    fn user_backed(&self) -> bool;

    /// Returns whether the vector is an array of `bio_vec`s, which a bio uses in place.
    fn bvec(&self) -> bool;

    /// Returns the number of bytes left.
    fn remaining(&self) -> usize;

    /// Returns the address and length of a single user buffer (`ITER_UBUF`), if it is one.
    fn single_ubuf(&self) -> Option<(usize, usize)>;

    /// Returns the number of pages the vector spans, at most `max` (`iov_iter_npages()`).
    fn pages(&self, max: i32) -> i32;

    /// Goes back `bytes` bytes (`iov_iter_revert()`).
    ///
    /// # Safety
    ///
    /// The vector must have been advanced by at least `bytes` bytes.
    unsafe fn go_back(&mut self, bytes: usize);
}

/// Implements [`BioIter`] for an I/O vector type of the given direction.
macro_rules! impl_bio_iter {
    ($ty:ident, $device_writes:literal) => {
        impl private::Sealed for $ty<'_> {}

        // The memory may be written (a destination) or read (a source) for `'d`, which
        // outlives `'a`: the type invariant of either vector type.
        impl<'a, 'd: 'a> BioIter<'a> for $ty<'d> {
            const DEVICE_WRITES: bool = $device_writes;

            #[inline(always)]
            fn raw(&mut self) -> *mut bindings::iov_iter {
                self.as_raw()
            }

            #[inline(always)]
            fn user_backed(&self) -> bool {
                self.is_user_backed()
            }

            #[inline(always)]
            fn bvec(&self) -> bool {
                self.is_bvec()
            }

            #[inline(always)]
            fn remaining(&self) -> usize {
                self.len()
            }

            #[inline(always)]
            fn single_ubuf(&self) -> Option<(usize, usize)> {
                self.ubuf()
            }

            #[inline(always)]
            fn pages(&self, max: i32) -> i32 {
                self.npages(max)
            }

            #[inline(always)]
            unsafe fn go_back(&mut self, bytes: usize) {
                // SAFETY: The caller's guarantee.
                unsafe { self.revert(bytes) }
            }
        }
    };
}

impl_bio_iter!(IovIterDest, true);
impl_bio_iter!(IovIterSource, false);

/// Whether the bio holds page pins (`bio_release_pages()` drops them): `BIO_PAGE_PINNED`.
///
/// # Safety
///
/// `bio` must be valid.
#[inline(always)]
unsafe fn pages_pinned(bio: *const bindings::bio) -> bool {
    // SAFETY: The caller's guarantee.
    unsafe { bindings::bio_flagged(bio, bindings::BIO_PAGE_PINNED) }
}

/// `PageAnon(page) && PageDirty(page)`.
///
/// # Safety
///
/// `page` must be a page the caller holds (pinned into a bio it owns): its folio cannot be
/// freed or split under it.
#[inline(always)]
unsafe fn page_anon_dirty(page: *const bindings::page) -> bool {
    // SAFETY: The caller's guarantee.
    unsafe { bindings::PageAnon(page) && bindings::PageDirty(page) }
}

impl<'a, D> Bio<'a, D> {
    /// Adds `len` bytes of `page`, from `offset`, to the bio (`bio_add_page()`).
    ///
    /// The bio borrows the page: the device reads it for a write and writes it for a read, and
    /// `Page`'s accessors of its content are `unsafe`, their callers vouching that nothing else
    /// uses it meanwhile. Fails with `EINVAL` for an empty range or one past the page, a bio
    /// that took an I/O vector's own vectors, one that holds pinned pages (unpinning them would
    /// unpin this one too), one that was submitted, or one that is full.
    pub fn add_page(&mut self, page: &'a Page, len: usize, offset: usize) -> Result {
        if len == 0 || offset.checked_add(len).is_none_or(|end| end > PAGE_SIZE) {
            return Err(EINVAL);
        }
        let bio = self.as_raw();
        // SAFETY: We own the bio, which is not in flight. `bio_add_page()` warns for a cloned
        // bio (tested here) and an empty range (tested above).
        let (cloned, pinned) = unsafe {
            (
                bindings::bio_flagged(bio, bindings::BIO_CLONED),
                pages_pinned(bio),
            )
        };
        if cloned || pinned || self.submitted() {
            return Err(EINVAL);
        }
        // The range is within the page: lossless.
        let (len, offset) = (len as u32, offset as u32);
        // SAFETY: As above; the page is valid for `'a`, which the bio holds it for.
        let added = unsafe { bindings::bio_add_page(bio, page.as_ptr(), len, offset) };
        if added == 0 {
            return Err(EINVAL);
        }
        Ok(())
    }

    /// Pins the pages of `iter` into the bio, advancing `iter` by the bytes added: the
    /// buffer of a read into it ([`IovIterDest`]) for a bio that reads the device, or of a
    /// write from it ([`IovIterSource`]) for one that writes.
    ///
    /// `len_align_mask` is the mask every segment length must satisfy; the memory alignment
    /// the device needs is checked too. Fails with `EFAULT` for unmapped user memory, and with
    /// `EINVAL` for misaligned segments (then the bio is left empty, every vector and pin it
    /// held given back, and the iterator may be left advanced past the segments before the
    /// misaligned one), a vector of the other direction than the bio's, a bio without a
    /// device, one that was submitted, one that is full, and one that would mix pinned user
    /// pages with pages that are not pinned (their release unpins all or none). User pages
    /// are pinned (and unpinned by [`Bio::release_pages`] or on drop); for a read they are
    /// also marked dirty, as `bio_set_pages_dirty()` does before a direct-I/O read (the
    /// device writes them behind the page tables' back). Kernel pages are neither.
    ///
    /// A bvec iterator's vectors are used in place, as `bio_iov_iter_get_pages()` uses them:
    /// that needs an empty bio allocated with no vectors (`bio_iov_vecs_to_alloc()`), and
    /// fails with `EINVAL` otherwise.
    ///
    /// A single user buffer (`read()`, `write()`, io_uring) that fits an empty bio whole is
    /// pinned by `bio_iov_ubuf_get_pages()`, a vector a page; every other iterator, and a
    /// buffer it does not take, goes to `bio_iov_iter_get_pages()`.
    ///
    /// It may sleep: process context only.
    // Once per read: inlined.
    #[inline(always)]
    pub fn add_iter_pages<I: BioIter<'a>>(&mut self, iter: &mut I, len_align_mask: u32) -> Result {
        let bio = self.as_raw();
        // SAFETY: We own the bio, which is not in flight.
        if unsafe { (*bio).bi_bdev }.is_null() || self.submitted() {
            return Err(EINVAL);
        }
        // SAFETY: We own the bio, which is not in flight, and it has a device, which
        // `bio_iov_ubuf_get_pages()` needs. It writes anywhere in the bio's own `bi_max_vecs`
        // vectors, which are the bio's alone: every `Bio` comes from `bio_alloc_bioset()` on a
        // set with `BIOSET_NEED_BVECS` (`BioSet`) or from `bio_init()` with its storage's
        // vectors (`BioStorage`), and a bio that took an iterator's vectors instead
        // (`BIO_CLONED`) or holds pages is left alone. `iter` is valid, and the memory
        // it describes may be used as the device uses it for `'a` (`BioIter`), which the bio
        // holds it for: `bio_iov_ubuf_get_pages()` refuses (`EINVAL`) a bio whose device would
        // write a source or read a destination.
        let added = unsafe { bindings::bio_iov_ubuf_get_pages(bio, iter.raw(), len_align_mask) };
        match added {
            0 => self.add_iter_pages_slow(iter, len_align_mask),
            1.. => Ok(()),
            // An errno: it fits an `i32`.
            _ => Err(Error::from_errno(added as i32)),
        }
    }

    /// [`Bio::add_iter_pages`] for what `bio_iov_ubuf_get_pages()` does not take.
    #[inline(never)]
    fn add_iter_pages_slow<I: BioIter<'a>>(&mut self, iter: &mut I, len_align_mask: u32) -> Result {
        let bio = self.as_raw();
        // SAFETY: We own the bio, which is not in flight; the caller tested it has a device,
        // which is valid for `'a` (type invariant).
        let mem_align_mask = unsafe { BlockDevice::from_raw((*bio).bi_bdev) }.dma_alignment();
        // SAFETY: We own the bio, which is not in flight.
        let (vcnt, max_vecs, size, cloned, pinned) = unsafe {
            (
                (*bio).bi_vcnt,
                (*bio).bi_max_vecs,
                (*bio).bi_iter.bi_size,
                bindings::bio_flagged(bio, bindings::BIO_CLONED),
                pages_pinned(bio),
            )
        };
        // `Op` has two values: a bio that does not read writes. (`bio_iov_ubuf_get_pages()`
        // asks `op_is_write()`, which agrees for both.)
        // SAFETY: The bio is valid.
        let reads_device = unsafe { bindings::bio_op(bio) } == bindings::req_op_REQ_OP_READ;
        let user_backed = iter.user_backed();
        let refused = if reads_device != I::DEVICE_WRITES {
            // The device would write memory that may only be read, or read memory that may
            // be uninitialised: as `bio_iov_ubuf_get_pages()` also checks.
            true
        } else if iter.bvec() {
            // `bio_iov_iter_set()` puts a bvec iterator's vectors in place of the bio's own:
            // only a bio allocated without vectors and given nothing yet may take them, or the
            // bio's array would be lost and `bio_free()` would free the caller's array into a
            // biovec slab.
            max_vecs != 0 || size != 0
        } else {
            // `want_pages_array()` warns of no room for a page; `__bio_release_pages()` unpins
            // every page of a bio flagged `BIO_PAGE_PINNED`, or none.
            vcnt >= max_vecs || (size != 0 && pinned != user_backed)
        };
        // `bio_iov_iter_get_pages()` warns and fails for a bio that took a bvec iterator's
        // vectors already (`BIO_CLONED`).
        if cloned || refused {
            return Err(EINVAL);
        }
        // SAFETY: We own the bio, which is not in flight, and `iter` is valid; the memory it
        // describes may be used as the device uses it for `'a` (`BioIter`, the direction
        // tested above), which the bio holds it for. A bvec iterator meets an empty bio
        // without vectors (tested above).
        let ret = unsafe {
            bindings::bio_iov_iter_get_pages(bio, iter.raw(), mem_align_mask, len_align_mask)
        };
        if ret < 0 {
            // A misaligned segment makes `bio_iov_iter_get_pages()` unpin every page and drop
            // the vectors, but not the size: the bio would then look ready, its size over
            // pages it no longer holds.
            // SAFETY: We own the bio, which is not in flight.
            unsafe {
                if (*bio).bi_vcnt == 0 {
                    (*bio).bi_iter.bi_size = 0;
                }
            }
            return Err(Error::from_errno(ret));
        }
        if I::DEVICE_WRITES && user_backed {
            self.set_pages_dirty();
        }
        Ok(())
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
        if !self.every_page(anon_dirty) {
            // SAFETY: The bio is valid and owned.
            unsafe { bindings::bio_set_pages_dirty(self.as_raw()) };
        }
    }

    /// Returns whether `test` holds for every page of the bio's vectors.
    #[inline(always)]
    fn every_page(&self, mut test: impl FnMut(*const bindings::page) -> bool) -> bool {
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
    pub fn pages_still_dirty(&self) -> bool {
        // A vector may span folios; `PageDirty()` tests the folio of each page, so that is fine.
        // SAFETY: A page the bio holds.
        self.every_page(|page| unsafe { bindings::PageDirty(page) })
    }

    /// Unpins the bio's pinned pages; then it holds no page that was pinned, and no vector
    /// (pages it was given with [`Bio::add_page`] alone stay: they were not pinned).
    ///
    /// It does not sleep. Calling it again, or dropping the bio after it, unpins nothing more.
    #[inline(always)]
    pub fn release_pages(&mut self) {
        // SAFETY: Without `mark_dirty`, `__bio_release_pages()` only unpins, which does not
        // sleep.
        unsafe { self.bio_release_pages(false) }
    }

    /// Unpins the pages still pinned, for [`Drop`]: the bio is put (or ended in its storage)
    /// right after, so its flag and vectors are left as they are.
    ///
    /// # Safety
    ///
    /// The bio must be used for nothing but `bio_put()` or `bio_uninit()` afterwards: it still
    /// says its pages are pinned.
    #[inline(always)]
    pub(super) unsafe fn unpin_before_put(&mut self) {
        let bio = self.as_raw();
        // SAFETY: The bio is valid and owned; `__bio_release_pages()` without `mark_dirty` only
        // unpins, which does not sleep. `release_pages` clears `BIO_PAGE_PINNED`, so no pin it
        // dropped is dropped again here, and the caller uses the bio for nothing else after.
        unsafe {
            if pages_pinned(bio) {
                bindings::__bio_release_pages(bio, false);
            }
        }
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
    pub(crate) unsafe fn redirty_and_unpin(&mut self) {
        // SAFETY: The caller's guarantee.
        unsafe { self.bio_release_pages(true) }
    }

    /// `bio_release_pages()`, once.
    ///
    /// # Safety
    ///
    /// With `mark_dirty`, process context only (it may sleep).
    #[inline(always)]
    unsafe fn bio_release_pages(&mut self, mark_dirty: bool) {
        let bio = self.as_raw();
        // SAFETY: The bio is valid and owned. This is `bio_release_pages()`, which unpins only
        // while `BIO_PAGE_PINNED` is set and does not clear it: clearing it here makes every pin
        // be dropped exactly once.
        // The vectors go with the pins: a bio whose pages may be gone is never submitted (it
        // carries nothing then).
        unsafe {
            if pages_pinned(bio) {
                bindings::__bio_release_pages(bio, mark_dirty);
                bindings::bio_clear_flag(bio, bindings::BIO_PAGE_PINNED);
                (*bio).bi_vcnt = 0;
                (*bio).bi_iter.bi_size = 0;
            }
        }
    }
}

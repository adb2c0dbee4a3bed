// SPDX-License-Identifier: GPL-2.0

//! Block I/O requests (`struct bio`) and bio sets whose front pad embeds per-request data.
//!
//! A [`BioSet<D>`] allocates each bio with room in front of it for a `D`, so a caller's
//! per-request state and the bio come from one allocation: [`Bio<D>`] owns both. A bio that is
//! waited for can instead live, with its `D`, in a [`BioStorage`] its owner keeps (on the stack),
//! which costs no allocation. A bio is built from pages ([`Bio::add_page`]) or from an I/O vector
//! ([`Bio::add_iter_pages`]), then submitted and waited for ([`Bio::submit_wait`]), or submitted
//! to complete through an [`EndIo`] implementation, which sees it as a [`CompletedBio`] in the
//! interrupt context it may complete in. One concept a file: [`BioSet`] (the set and its front
//! pad), [`BioStorage`] (room for a bio its owner provides), [`Bio`] (here), the pages a bio
//! carries (`pages.rs`) and its completion (`completion.rs`). The device is a
//! [`BlockDevice`](crate::block::bdev::BlockDevice).
//!
//! # Examples
//!
//! A driver writing a page to a RAM disk and reading it back:
//!
//! ```
//! use kernel::block::{
//!     bdev::{BdevFile, OpenMode},
//!     bio::{BioSet, Op},
//! };
//! use kernel::{bindings, page::{Page, PAGE_SIZE}, prelude::*};
//!
//! // The first RAM disk (`brd`).
//! let file = BdevFile::open(bindings::RAMDISK_MAJOR, 0, OpenMode::READ_WRITE)?;
//! let set = KBox::pin_init(BioSet::<u32>::new(2), GFP_KERNEL)?;
//! let (src, dst) = (Page::alloc_page(GFP_KERNEL)?, Page::alloc_page(GFP_KERNEL)?);
//! let pattern = [0x5au8; PAGE_SIZE];
//! // SAFETY: `pattern` holds `PAGE_SIZE` bytes; no bio uses the page yet.
//! unsafe { src.write_raw(pattern.as_ptr(), 0, PAGE_SIZE)? };
//!
//! let mut bio = set.alloc(file.bdev(), Op::Write, 1, GFP_KERNEL, 1)?;
//! bio.set_sector(8);
//! bio.add_page(&src, PAGE_SIZE, 0)?;
//! bio.submit_wait()?;
//!
//! let mut bio = set.alloc(file.bdev(), Op::Read, 1, GFP_KERNEL, 2)?;
//! bio.set_sector(8);
//! bio.add_page(&dst, PAGE_SIZE, 0)?;
//! bio.submit_wait()?;
//! assert_eq!(*bio.data(), 2);
//! drop(bio);
//!
//! let mut back = [0u8; PAGE_SIZE];
//! // SAFETY: `back` holds `PAGE_SIZE` bytes; the bio that read into the page is done.
//! unsafe { dst.read_raw(back.as_mut_ptr(), 0, PAGE_SIZE)? };
//! assert!(back == pattern);
//! # Ok::<(), Error>(())
//! ```
//!
//! C header: [`include/linux/bio.h`](srctree/include/linux/bio.h)

use crate::{
    bindings,
    error::{Error, Result},
    prelude::*,
};
use core::{marker::PhantomData, mem::offset_of, ptr::NonNull};

mod completion;
mod pages;
mod set;
mod storage;
mod tests;

use self::set::BioWithData;
pub use self::{
    completion::{CompletedBio, EndIo},
    pages::BioIter,
    set::BioSet,
    storage::BioStorage,
};

/// What a bio does (`enum req_op`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Read from the device into the bio's pages (`REQ_OP_READ`).
    Read,
    /// Write the bio's pages to the device (`REQ_OP_WRITE`).
    Write,
}

impl Op {
    #[inline]
    fn as_raw(self) -> bindings::blk_opf_t {
        match self {
            Op::Read => bindings::req_op_REQ_OP_READ,
            Op::Write => bindings::req_op_REQ_OP_WRITE,
        }
    }
}

/// Flags of a bio's operation (`blk_opf_t`), those a submitter chooses.
///
/// `REQ_NOWAIT` is not among them: a device without `BLK_FEAT_NOWAIT` (dm-crypt, md, most dm
/// targets) fails such a bio with `EOPNOTSUPP`, and one that would have to split it fails it
/// with `EAGAIN`, where the same bio without it would be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReqFlags(bindings::blk_opf_t);

impl ReqFlags {
    /// The submitter waits for the bio (`REQ_SYNC`).
    pub const SYNC: Self = Self(bindings::REQ_SYNC);
    /// No further I/O follows soon (`REQ_IDLE`): with `SYNC`, what writeback throttling leaves
    /// alone.
    pub const IDLE: Self = Self(bindings::REQ_IDLE);
    /// The write is on stable media when the bio completes (`REQ_FUA`).
    pub const FUA: Self = Self(bindings::REQ_FUA);
}

impl core::ops::BitOr for ReqFlags {
    type Output = Self;

    #[inline]
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// An owned bio allocated from a [`BioSet<D>`] or made in a [`BioStorage<D, N>`], with its
/// per-request data `D`.
///
/// It borrows its set or storage, its device and the pages it was given for `'a`. Dropping it
/// unpins the pages still pinned into it, drops the `D` and puts the bio (`bio_put()`), or ends
/// it in its storage (`bio_uninit()`).
///
/// # Invariants
///
/// `bio` was allocated from a `BioSet<D>` that lives for `'a` (then `bi_pool` is that set), or
/// initialised by `bio_init()` in a `BioStorage<D, _>` borrowed for `'a` (then `bi_pool` is
/// null). The `D` in front of it (the front pad, or the storage's) is initialised, and this
/// object owns the bio. Its device (`bi_bdev`), when it has one, and the memory of its vectors
/// stay valid for `'a`; it is not in flight.
pub struct Bio<'a, D> {
    bio: NonNull<bindings::bio>,
    _p: PhantomData<(&'a BioSet<D>, D)>,
}

// SAFETY: A bio can be completed and freed on any CPU; `D: Send` makes the data movable too.
unsafe impl<D: Send> Send for Bio<'_, D> {}

impl<'a, D> Bio<'a, D> {
    /// Returns where the `D` of the bio at `bio` lives.
    ///
    /// # Safety
    ///
    /// `bio` must have been allocated from a `BioSet<D>` or made in a `BioStorage<D, _>`.
    unsafe fn data_ptr(bio: *mut bindings::bio) -> *mut D {
        let off = offset_of!(BioWithData<D>, bio) - offset_of!(BioWithData<D>, data);
        // SAFETY: The front pad of a `BioSet<D>` allocation, and the data of a
        // `BioStorage<D, _>` (the same layout), start `off` bytes before the bio.
        unsafe { bio.cast::<u8>().sub(off).cast() }
    }

    /// Gives up ownership, returning the raw bio (for submission).
    ///
    /// Crate-private: whoever takes it must keep the set (or storage) alive and give the bio
    /// back with [`Bio::from_raw`] (or `from_data`) to drop it.
    pub(crate) fn into_raw(self) -> *mut bindings::bio {
        let bio = self.bio.as_ptr();
        core::mem::forget(self);
        bio
    }

    /// Takes back ownership of a bio returned by [`Bio::into_raw`].
    ///
    /// # Safety
    ///
    /// `bio` must come from `Bio::<D>::into_raw`, no other owner may exist, and its set (or
    /// storage) must live for `'a`.
    pub(crate) unsafe fn from_raw(bio: *mut bindings::bio) -> Self {
        // INVARIANT: The caller passes back the ownership `into_raw` gave up.
        Self {
            // SAFETY: `into_raw` never returns null.
            bio: unsafe { NonNull::new_unchecked(bio) },
            _p: PhantomData,
        }
    }

    /// Takes back ownership of the bio whose data is at `data`.
    ///
    /// # Safety
    ///
    /// `data` must point to the `D` of a bio of a `BioSet<D>` whose ownership was given up
    /// with [`Bio::into_raw`], no other owner may exist, and the set must live for `'a`.
    // Used by `kernel::fs::iomap` only, which exists with CONFIG_IOMAP_SIMPLE_DIO.
    #[cfg_attr(not(CONFIG_IOMAP_SIMPLE_DIO), allow(dead_code))]
    pub(crate) unsafe fn from_data(data: *mut D) -> Self {
        let off = offset_of!(BioWithData<D>, bio) - offset_of!(BioWithData<D>, data);
        // SAFETY: The bio of a `BioSet<D>` allocation starts `off` bytes after its data, and
        // the caller passes back the ownership `into_raw` gave up.
        unsafe { Self::from_raw(data.cast::<u8>().add(off).cast()) }
    }

    /// Returns the raw `struct bio` pointer.
    pub fn as_raw(&self) -> *mut bindings::bio {
        self.bio.as_ptr()
    }

    /// Returns the per-request data.
    pub fn data(&self) -> &D {
        // SAFETY: The data is initialised (type invariant) and shared access follows `&self`.
        unsafe { &*Self::data_ptr(self.as_raw()) }
    }

    /// Returns the per-request data, mutably.
    pub fn data_mut(&mut self) -> &mut D {
        // SAFETY: The data is initialised (type invariant) and we own the bio exclusively.
        unsafe { &mut *Self::data_ptr(self.as_raw()) }
    }

    /// Sets the first sector on the device.
    pub fn set_sector(&mut self, sector: u64) {
        // SAFETY: We own the bio, which is not submitted.
        unsafe { (*self.as_raw()).bi_iter.bi_sector = sector };
    }

    /// Sets the I/O priority (`ioprio`, as `ioprio_value()` makes it).
    ///
    /// Fails with `EINVAL` for a class past `IOPRIO_CLASS_IDLE`: I/O schedulers index tables
    /// by the class (mq-deadline's `ioprio_class_to_prio[]`), which system calls check with
    /// `ioprio_check_cap()` before a value reaches a bio.
    #[inline]
    pub fn set_ioprio(&mut self, ioprio: u16) -> Result {
        if u32::from(ioprio) >> bindings::IOPRIO_CLASS_SHIFT > bindings::IOPRIO_CLASS_IDLE {
            return Err(EINVAL);
        }
        // SAFETY: We own the bio, which is not submitted.
        unsafe { (*self.as_raw()).bi_ioprio = ioprio };
        Ok(())
    }

    /// Adds `flags` to the bio's operation.
    ///
    /// Fails with `EINVAL` for `FUA` on a bio that does not write: `submit_bio_noacct()` warns
    /// of a flush flag on any other operation.
    #[inline]
    pub fn set_flags(&mut self, flags: ReqFlags) -> Result {
        let bio = self.as_raw();
        // SAFETY: We own the bio, which is not submitted.
        unsafe {
            // The operation is asked for only when it matters.
            if flags.0 & bindings::REQ_FUA != 0
                && bindings::bio_op(bio) != bindings::req_op_REQ_OP_WRITE
            {
                return Err(EINVAL);
            }
            (*bio).bi_opf |= flags.0;
        }
        Ok(())
    }

    /// Returns whether the bio was submitted once already: a bio is submitted once.
    ///
    /// Its vectors are spent then (`bi_idx` at their end), and a bio split on the way holds no
    /// count for another split (`__bi_remaining`); every submission sets `bi_end_io`, which only
    /// `bio_init()` clears.
    #[inline]
    pub(super) fn submitted(&self) -> bool {
        // SAFETY: The bio is valid (type invariant).
        unsafe { (*self.as_raw()).bi_end_io.is_some() }
    }

    /// Marks the bio for completion polling (`REQ_POLLED`).
    ///
    /// Crate-private: a polled bio must be published to its poller, which only the owner of
    /// the request (`kernel::fs::iomap`) can do.
    // Used by `kernel::fs::iomap` only, which exists with CONFIG_IOMAP_SIMPLE_DIO.
    #[cfg_attr(not(CONFIG_IOMAP_SIMPLE_DIO), allow(dead_code))]
    pub(crate) fn set_polled(&mut self) {
        // SAFETY: We own the bio, which is not submitted.
        unsafe { (*self.as_raw()).bi_opf |= bindings::REQ_POLLED };
    }

    /// Submits the bio and waits for it (`submit_bio_wait()`); returns its status.
    ///
    /// Fails with `EINVAL`, submitting nothing, for a bio without a device, that carries no
    /// data (one given no pages, or whose pinned pages were released), or that was submitted
    /// before. It sleeps: process context only.
    pub fn submit_wait(&mut self) -> Result {
        if !self.ready() {
            return Err(EINVAL);
        }
        let bio = self.as_raw();
        // SAFETY: The bio is ours and has a device and data, valid for `'a` (type invariant),
        // which outlives the call; `submit_bio_wait()` returns once it completed, when it is
        // ours again.
        let _ = unsafe { bindings::submit_bio_wait(bio) };
        self.status()
    }

    /// Returns whether the bio can be submitted: it has a device and data, and was never
    /// submitted.
    #[inline]
    pub(super) fn ready(&self) -> bool {
        // SAFETY: We own the bio, which is not in flight.
        let no_bdev = unsafe { (*self.as_raw()).bi_bdev.is_null() };
        !no_bdev && self.size() != 0 && !self.submitted()
    }

    /// Returns the number of bytes the bio carries (before submission) or has left.
    pub fn size(&self) -> u32 {
        // SAFETY: The bio is valid (type invariant).
        unsafe { (*self.as_raw()).bi_iter.bi_size }
    }

    /// Returns the completion status as a result (`EIO`, `EAGAIN`, ... on failure).
    // Once per completion: inlined wherever the completion is.
    #[inline(always)]
    pub fn status(&self) -> Result {
        // SAFETY: The bio is valid (type invariant).
        let status = unsafe { (*self.as_raw()).bi_status };
        if status == 0 {
            return Ok(());
        }
        // SAFETY: `blk_status_to_errno` accepts any status value.
        Err(Error::from_errno(unsafe {
            bindings::blk_status_to_errno(status)
        }))
    }
}

impl<D> Drop for Bio<'_, D> {
    #[inline]
    fn drop(&mut self) {
        // Pages still pinned (a bio dropped before or after I/O without an explicit release)
        // must not stay pinned.
        // SAFETY: The bio is put or ended below and not used otherwise.
        unsafe { self.unpin_before_put() };
        let bio = self.as_raw();
        // SAFETY: The data is initialised and owned (type invariant); it is dropped once,
        // before the memory holding it goes back to the bio set with the last `bio_put`, or the
        // storage is free again. The set or storage is alive: it lives for `'a` (type
        // invariant), which the type holds for a bio that was never given away, and which the
        // callers of `from_raw`/`from_data` and of `Bio::submit` guarantee for one that came back
        // from C. `bi_pool` tells the two apart (type invariant): `bio_alloc_bioset()` sets it to
        // the set, on both its slab and its per-CPU cache paths, and `bio_init()` clears it. A
        // bio of a storage is ended with `bio_uninit()`, as `bio_init()`'s comment in
        // `block/bio.c` asks and `__blkdev_direct_IO_simple()` ends its bio on the stack:
        // `bio_put()` would reach `bio_free()`, which would free it into `bi_pool->bio_pool`.
        // A submitted bio holds no other reference once it has completed: only the submitter
        // takes one (`bio_get()`), and a split's clone, which the block layer puts, is of its
        // own set.
        unsafe {
            core::ptr::drop_in_place(Self::data_ptr(bio));
            if (*bio).bi_pool.is_null() {
                bindings::bio_uninit(bio);
            } else {
                bindings::bio_put(bio);
            }
        }
    }
}

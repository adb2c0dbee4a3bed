// SPDX-License-Identifier: GPL-2.0

//! Room for a bio, its data and its vectors in memory its owner provides: a bio without an
//! allocation, for I/O that is waited for.

use super::{set::BioWithData, Bio, Op};
use crate::{
    bindings,
    block::bdev::BlockDevice,
    error::{code::EINVAL, Result},
};
use core::{marker::PhantomData, mem::MaybeUninit, ptr::NonNull};

/// Room for one bio, its `D` and up to `N` vectors, wherever its owner keeps it: on the stack,
/// typically, as `__blkdev_direct_IO_simple()` in `block/fops.c` keeps the bio of a small
/// synchronous direct I/O.
///
/// [`BioStorage::init`] makes a [`Bio`] in it (`bio_init()`), which borrows it mutably: the
/// storage can be neither moved, nor reused, nor dropped while that bio exists. Dropping the
/// bio ends it (`bio_uninit()`, not `bio_put()`), after which the storage may hold another.
///
/// Such a bio is for I/O its owner waits for ([`Bio::submit_wait`]): a bio submitted to
/// complete asynchronously ([`Bio::submit`]) needs its storage until its completion is dropped,
/// which the borrow does not guarantee.
pub struct BioStorage<D, const N: usize> {
    bio: MaybeUninit<BioWithData<D>>,
    vecs: MaybeUninit<[bindings::bio_vec; N]>,
}

impl<D, const N: usize> Default for BioStorage<D, N> {
    #[inline(always)]
    fn default() -> Self {
        Self::new()
    }
}

impl<D, const N: usize> BioStorage<D, N> {
    /// The most vectors a bio in this storage holds; a bio has at most `BIO_MAX_VECS`.
    pub const MAX_VECS: u16 = {
        assert!(N <= bindings::BIO_MAX_VECS as usize);
        N as u16
    };

    /// Creates empty storage: nothing is initialised until [`BioStorage::init`].
    #[inline(always)]
    pub const fn new() -> Self {
        Self {
            bio: MaybeUninit::uninit(),
            vecs: MaybeUninit::uninit(),
        }
    }

    /// Makes a bio for `op` on `bdev` in the storage, with room for `nr_vecs` pages and carrying
    /// `data` (`bio_init()`).
    ///
    /// It does not allocate, so it does not fail for want of memory or sleep. More vectors than
    /// the storage holds ([`BioStorage::MAX_VECS`]) fail with `EINVAL`, dropping `data`. A bio
    /// with no vectors can take a bvec iterator's in place ([`Bio::add_iter_pages`]).
    #[inline(always)]
    pub fn init<'a>(
        &'a mut self,
        bdev: &'a BlockDevice,
        op: Op,
        nr_vecs: u16,
        data: D,
    ) -> Result<Bio<'a, D>> {
        // SAFETY: `bdev` is valid for `'a`.
        unsafe { self.init_raw(bdev.as_raw(), op, nr_vecs, data) }
    }

    /// [`BioStorage::init`] for a raw `bdev`, which may be null (KUnit has no device).
    ///
    /// # Safety
    ///
    /// `bdev` must be null or a block device that stays valid for `'a`.
    #[inline(always)]
    pub(super) unsafe fn init_raw<'a>(
        &'a mut self,
        bdev: *mut bindings::block_device,
        op: Op,
        nr_vecs: u16,
        data: D,
    ) -> Result<Bio<'a, D>> {
        if nr_vecs > Self::MAX_VECS {
            return Err(EINVAL);
        }
        let room = self.bio.as_mut_ptr();
        // SAFETY: `room` is valid for writes of a `BioWithData<D>`, and is borrowed for `'a`.
        let (bio, data_slot) = unsafe {
            (
                core::ptr::addr_of_mut!((*room).bio).cast::<bindings::bio>(),
                core::ptr::addr_of_mut!((*room).data),
            )
        };
        // SAFETY: `bio` is writable memory for a `struct bio`, which `bio_init()` initialises
        // whole (with `bi_pool` null); the vectors it is given are this storage's, `nr_vecs` of
        // them at most, and `bdev` is null or valid for `'a` (the caller's guarantee), which
        // `bio_init()` accepts. The data goes where `Bio` finds it: the same layout as a
        // `BioSet<D>` allocation.
        unsafe {
            bindings::bio_init(
                bio,
                bdev,
                self.vecs.as_mut_ptr().cast(),
                nr_vecs,
                op.as_raw(),
            );
            data_slot.write(data);
        }
        // INVARIANT: The bio was initialised by `bio_init()` in this storage, which the returned
        // value borrows for `'a`, and its `D` is initialised; its device is valid for `'a`, it
        // has no pages yet and is not in flight.
        Ok(Bio {
            // SAFETY: A field of `self`, not null.
            bio: unsafe { NonNull::new_unchecked(bio) },
            _p: PhantomData,
        })
    }
}

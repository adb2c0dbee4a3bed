// SPDX-License-Identifier: GPL-2.0

//! Bio sets whose front pad holds a `D` in front of each bio.

use super::{Bio, Op};
use crate::block::bdev::BlockDevice;
use crate::{
    alloc::{flags::__GFP_ZERO, Flags},
    bindings,
    error::{to_result, Error, Result},
    prelude::*,
    types::Opaque,
};
use core::{marker::PhantomData, mem::offset_of, ptr::NonNull};

/// The layout of one allocation of a [`BioSet<D>`]: the data, then the bio, right after it.
///
/// Only the part up to the end of `struct bio` is allocated as such (the bio's inline
/// vectors follow it), so this type is never referenced as a whole, only through its fields.
/// A [`BioStorage`](super::BioStorage) has the same layout. The bio is not aligned beyond its
/// own alignment: the data, the bio and its vectors are one request's, used together, and
/// packed they span the fewest cache lines.
#[repr(C)]
pub(super) struct BioWithData<D> {
    pub(super) data: D,
    pub(super) bio: Opaque<bindings::bio>,
}

/// A bio set whose bios carry a `D` in their front pad.
///
/// Created with `BIOSET_NEED_BVECS | BIOSET_PERCPU_CACHE`: bios can hold data pages, and
/// frees go to a per-CPU cache that polled and inline completions reuse without locking.
///
/// # Invariants
///
/// `inner` was initialised by `bioset_init()` with a front pad of `Self::FRONT_PAD` bytes
/// and is torn down with `bioset_exit()` on drop.
#[pin_data(PinnedDrop)]
pub struct BioSet<D> {
    #[pin]
    inner: Opaque<bindings::bio_set>,
    _p: PhantomData<D>,
}

// SAFETY: A bio set may be used from any thread: allocation and free are thread safe.
unsafe impl<D: Send> Send for BioSet<D> {}
// SAFETY: All methods taking `&self` are safe to call concurrently (mempool and per-CPU cache).
unsafe impl<D: Send> Sync for BioSet<D> {}

impl<D: Send> BioSet<D> {
    /// The number of bytes in front of each bio, where the `D` lives.
    pub const FRONT_PAD: usize = offset_of!(BioWithData<D>, bio);

    /// The `D` is at the start of a slab object of the set's bio slab, which
    /// `bio_find_or_create_slab()` creates with `ARCH_KMALLOC_MINALIGN` alignment: that is all
    /// a `D` may need. `SLAB_HWCACHE_ALIGN` usually gives more, but depends on the CPU.
    const DATA_FITS: () = assert!(
        core::mem::align_of::<D>() <= bindings::ARCH_KMALLOC_MINALIGN,
        "the front-pad data of a bio set needs more alignment than slab objects have"
    );

    /// Creates a bio set that keeps `pool_size` bios in reserve.
    ///
    /// A `D` whose alignment exceeds `ARCH_KMALLOC_MINALIGN` does not build.
    pub fn new(pool_size: u32) -> impl PinInit<Self, Error> {
        let () = Self::DATA_FITS;
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(|bs: *mut bindings::bio_set| {
                let flags = bindings::BIOSET_NEED_BVECS | bindings::BIOSET_PERCPU_CACHE;
                // SAFETY: `bs` points to writable memory for a `struct bio_set`.
                // `bioset_init()` expects it zeroed: it leaves fields it does not use (the
                // rescuer workqueue, say) alone, and `bioset_exit()` tests them.
                unsafe { bs.write_bytes(0, 1) };
                // SAFETY: `bs` is a zeroed `struct bio_set`; the front pad is a few cache
                // lines, far below `u32::MAX`.
                to_result(unsafe {
                    bindings::bioset_init(bs, pool_size, Self::FRONT_PAD as u32, flags as i32)
                })
            }),
            _p: PhantomData,
        })
    }

    /// Allocates a bio for `op` on `bdev` with room for `nr_vecs` pages, carrying `data`.
    ///
    /// The bio borrows the set and the device: neither can go away while the bio exists. With
    /// a sleeping `gfp` (`GFP_KERNEL`) this cannot fail for want of memory: the pool guarantees
    /// progress. With `GFP_NOWAIT` it fails with `EAGAIN` rather than sleeping. More than
    /// `BIO_MAX_VECS` vectors fail with `EINVAL` (`bvec_alloc()` has no slab for them, and
    /// `biovec_slab()` would `BUG()`).
    #[inline]
    pub fn alloc<'a>(
        &'a self,
        bdev: &'a BlockDevice,
        op: Op,
        nr_vecs: u16,
        gfp: Flags,
        data: D,
    ) -> Result<Bio<'a, D>> {
        // SAFETY: `bdev` is valid for `'a`.
        unsafe { self.alloc_raw(bdev.as_raw(), op, nr_vecs, gfp, data) }
    }

    /// [`BioSet::alloc`] for a raw `bdev`, which may be null (KUnit has no device).
    ///
    /// # Safety
    ///
    /// `bdev` must be null or a block device that stays valid for `'a`.
    #[inline]
    pub(super) unsafe fn alloc_raw<'a>(
        &'a self,
        bdev: *mut bindings::block_device,
        op: Op,
        nr_vecs: u16,
        gfp: Flags,
        data: D,
    ) -> Result<Bio<'a, D>> {
        if u32::from(nr_vecs) > bindings::BIO_MAX_VECS {
            return Err(EINVAL);
        }
        // The mempool fallback warns of `__GFP_ZERO` (`mempool_alloc_noprof()`); a bio is
        // initialised anyway.
        let gfp = gfp & !__GFP_ZERO;
        // SAFETY: `self.inner` is an initialised bio set (type invariant); `bdev` is valid or
        // null, which `bio_alloc_bioset()` accepts (the bio then has no device, and neither
        // takes pages from an I/O vector nor is submitted: both test it), and
        // `nr_vecs` is at most `BIO_MAX_VECS`, which `bvec_alloc()` serves.
        let bio = unsafe {
            bindings::bio_alloc_bioset(bdev, nr_vecs, op.as_raw(), gfp.as_raw(), self.inner.get())
        };
        let bio = NonNull::new(bio).ok_or(EAGAIN)?;
        // SAFETY: The bio was allocated from a bio set with `FRONT_PAD` bytes in front of it,
        // which is where `BioWithData<D>::data` lives; nothing was written there yet.
        unsafe { Bio::<D>::data_ptr(bio.as_ptr()).write(data) };
        // INVARIANT: The bio comes from this `BioSet<D>`, which the returned value borrows, its
        // `D` is initialised and we own the only reference; its device is valid for `'a` (the
        // caller's guarantee), it has no vectors yet and is not in flight.
        Ok(Bio {
            bio,
            _p: PhantomData,
        })
    }
}

#[pinned_drop]
impl<D> PinnedDrop for BioSet<D> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `inner` was initialised by `bioset_init()` (type invariant). No bio of the set
        // is left. A `Bio<'a, D>` carries `&'a BioSet<D>` in its type, so no safe code drops the
        // set while one exists. A bio in flight is out of that borrow: one submitted with
        // `Bio::submit`, whose caller guarantees the set until its completion is dropped, or
        // one given to C by `kernel::fs::iomap::simple_dio` (the crate-private
        // `Bio::into_raw`). That module takes its set as `&'a` for the caller-chosen `'a` of
        // `SimpleDioRead::read`, which only a set in the registered context (or a `'static`
        // one) outlives, and `Registration::drop` returns, before the context goes, only once
        // `iomap_simple_dio_unregister()` has waited out every bio (each holds an SRCU read
        // section from submission to the return of its `->end_io`).
        unsafe { bindings::bioset_exit(self.inner.get()) };
    }
}

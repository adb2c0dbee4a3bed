// SPDX-License-Identifier: GPL-2.0

//! Block I/O requests (`struct bio`) and bio sets whose front pad embeds per-request data.
//!
//! A [`BioSet<D>`] allocates each bio with room in front of it for a `D`, so a caller's
//! per-request state and the bio come from one allocation: [`Bio<D>`] owns both.
//!
//! C header: [`include/linux/bio.h`](srctree/include/linux/bio.h)

use crate::{
    alloc::Flags,
    bindings,
    error::{to_result, Error, Result},
    iov::IovIterDest,
    page::PAGE_SIZE,
    prelude::*,
    types::Opaque,
};
use core::{marker::PhantomData, mem::offset_of, ptr::NonNull};

/// A block device that I/O is sent to.
///
/// # Invariants
///
/// The wrapped `struct block_device` is valid for the lifetime of any reference to `Self`.
#[repr(transparent)]
pub struct BlockDevice(Opaque<bindings::block_device>);

impl BlockDevice {
    /// Creates a reference to a block device from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct block_device` that stays valid for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::block_device) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper of `struct block_device`, and the caller
        // guarantees it is valid for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the raw `struct block_device` pointer.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::block_device {
        self.0.get()
    }

    /// Returns the queue limits of the device (`bdev_get_queue(bdev)->limits`), to read
    /// one field of with [`read_once`].
    // Read in place, as the C inlines do: a helper call for each limit costs more than
    // the load it wraps, once per I/O.
    #[inline]
    fn limits(&self) -> *const bindings::queue_limits {
        // SAFETY: By the type invariant the block device is valid; its queue is never null
        // and lives as long as it (`bdev_get_queue()`).
        unsafe { &raw const (*(*self.as_raw()).bd_queue).limits }
    }

    /// Returns the smallest unit, in bytes, the device can address.
    #[inline]
    pub fn logical_block_size(&self) -> u32 {
        // SAFETY: The limits are valid (see `limits`).
        unsafe { read_once(&raw const (*self.limits()).logical_block_size) }
    }

    /// Returns the mask that the memory address of a DMA buffer must satisfy.
    #[inline]
    pub fn dma_alignment(&self) -> u32 {
        // SAFETY: The limits are valid (see `limits`).
        unsafe { read_once(&raw const (*self.limits()).dma_alignment) }
    }
}

/// Reads a field that C may rewrite meanwhile, as `READ_ONCE()` does.
///
/// `queue_limits_commit_update()` rewrites a queue's limits (sysfs stores among its callers)
/// with the queue frozen, which waits for requests in flight but not for code that reads the
/// limits before it submits: `bdev_logical_block_size()` and friends read them so, unlocked.
/// A volatile load of a naturally aligned word is what `READ_ONCE()` compiles to.
///
/// # Safety
///
/// `p` must be valid for reads and aligned.
#[inline(always)]
unsafe fn read_once<T: Copy>(p: *const T) -> T {
    // SAFETY: The caller's guarantees.
    unsafe { p.read_volatile() }
}

/// A `struct bio` starting on its own cache line.
///
/// The block layer touches `bi_iter`, `bi_status` and the flags on submission and
/// completion; keeping them off the caller's data cache line avoids false sharing.
#[repr(C, align(64))]
struct CacheAlignedBio(Opaque<bindings::bio>);

/// The layout of one allocation of a [`BioSet<D>`]: the data, then the bio.
///
/// Only the part up to the end of `struct bio` is allocated as such (the bio's inline
/// vectors follow it), so this type is never referenced as a whole, only through its fields.
#[repr(C)]
struct BioWithData<D> {
    data: D,
    bio: CacheAlignedBio,
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

    /// Allocates a read bio for `nr_vecs` pages from `bdev`, carrying `data`.
    ///
    /// The bio borrows the set: the set cannot go away while the bio exists. With a sleeping
    /// `gfp` (`GFP_KERNEL`) this cannot fail for want of memory: the pool guarantees progress.
    /// With `GFP_NOWAIT` it fails with `EAGAIN` rather than sleeping. More than
    /// `BIO_MAX_VECS` vectors fail with `EINVAL` (`bvec_alloc()` has no slab for them, and
    /// `biovec_slab()` would `BUG()`).
    pub fn alloc_read<'a>(
        &'a self,
        bdev: &BlockDevice,
        nr_vecs: u16,
        gfp: Flags,
        data: D,
    ) -> Result<Bio<'a, D>> {
        // SAFETY: `bdev` is valid now. The bio uses its device only when given pages (an
        // `unsafe fn` whose caller vouches for it) or submitted, which only this crate does
        // (`kernel::fs::iomap`, for a read of a file system on that device).
        unsafe { self.alloc(bdev.as_raw(), nr_vecs, gfp, data) }
    }

    /// [`BioSet::alloc_read`] for a raw `bdev`, which may be null (KUnit has no device).
    ///
    /// # Safety
    ///
    /// `bdev` must be null or a block device that stays valid while the bio exists. A bio
    /// without a device must not be given pages ([`Bio::add_iter_pages`]) or submitted.
    #[inline]
    unsafe fn alloc<'a>(
        &'a self,
        bdev: *mut bindings::block_device,
        nr_vecs: u16,
        gfp: Flags,
        data: D,
    ) -> Result<Bio<'a, D>> {
        if u32::from(nr_vecs) > bindings::BIO_MAX_VECS {
            return Err(EINVAL);
        }
        // SAFETY: `self.inner` is an initialised bio set (type invariant); `bdev` is valid or
        // null, which `bio_alloc_bioset()` accepts (the bio then has no device yet), and
        // `nr_vecs` is at most `BIO_MAX_VECS`, which `bvec_alloc()` serves.
        let bio = unsafe {
            bindings::bio_alloc_bioset(
                bdev,
                nr_vecs,
                bindings::req_op_REQ_OP_READ,
                gfp.as_raw(),
                self.inner.get(),
            )
        };
        let bio = NonNull::new(bio).ok_or(EAGAIN)?;
        // SAFETY: The bio was allocated from a bio set with `FRONT_PAD` bytes in front of it,
        // which is where `BioWithData<D>::data` lives; nothing was written there yet.
        unsafe { Bio::<D>::data_ptr(bio.as_ptr()).write(data) };
        // INVARIANT: The bio comes from this `BioSet<D>`, which the returned value borrows, its
        // `D` is initialised and we own the only reference.
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
        // is left: each `Bio<'_, D>` borrows the set, and the users that hand a bio to C
        // (`kernel::fs::iomap`) keep the set borrowed until its completion has dropped it.
        unsafe { bindings::bioset_exit(self.inner.get()) };
    }
}

/// An owned bio allocated from a [`BioSet<D>`], with its per-request data `D`.
///
/// It borrows its set for `'a`. Dropping it unpins the pages still pinned into it, drops the
/// `D` and puts the bio.
///
/// # Invariants
///
/// `bio` was allocated from a `BioSet<D>` that lives for `'a`, its front pad holds an
/// initialised `D`, and this object owns the reference to it.
pub struct Bio<'a, D> {
    bio: NonNull<bindings::bio>,
    _p: PhantomData<(&'a BioSet<D>, D)>,
}

// SAFETY: A bio can be completed and freed on any CPU; `D: Send` makes the data movable too.
unsafe impl<D: Send> Send for Bio<'_, D> {}

/// Returns the `struct iov_iter` behind `iter`, to read from.
#[inline(always)]
fn iter_raw(iter: &IovIterDest<'_>) -> *const bindings::iov_iter {
    // `IovIterDest` is a transparent wrapper of an `Opaque<iov_iter>`: reading through a
    // pointer from a shared reference is fine.
    core::ptr::from_ref(iter).cast()
}

/// Returns whether `iter` is user memory (`user_backed_iter()`): a read pins and dirties it.
#[inline(always)]
pub(crate) fn iter_is_user_backed(iter: &IovIterDest<'_>) -> bool {
    // SAFETY: The iterator is valid (invariant of `IovIterDest`).
    let kind = unsafe { (*iter_raw(iter)).iter_type };
    kind == bindings::iter_type_ITER_UBUF as u8 || kind == bindings::iter_type_ITER_IOVEC as u8
}

/// Returns the address and length of `iter` if it is a single user buffer (`ITER_UBUF`:
/// `read()`, io_uring).
#[inline(always)]
pub(crate) fn iter_ubuf(iter: &IovIterDest<'_>) -> Option<(usize, usize)> {
    let it = iter_raw(iter);
    // SAFETY: The iterator is valid (invariant of `IovIterDest`); for an `ITER_UBUF` one,
    // `ubuf` and `count` are the members of the unions in use.
    unsafe {
        if (*it).iter_type != bindings::iter_type_ITER_UBUF as u8 {
            return None;
        }
        let u = (*it).__bindgen_anon_1.__bindgen_anon_1.as_ref();
        // As C computes it (`iter_iov_addr()`).
        let addr = (u.__bindgen_anon_1.ubuf as usize).wrapping_add((*it).iov_offset);
        Some((addr, u.count))
    }
}

/// The `bi_flags` bit that says the bio holds page pins (`bio_release_pages()` drops them).
const BIO_PAGE_PINNED: u16 = 1 << bindings::BIO_PAGE_PINNED;

impl<'a, D> Bio<'a, D> {
    /// Returns where the `D` of the bio at `bio` lives.
    ///
    /// # Safety
    ///
    /// `bio` must have been allocated from a `BioSet<D>`.
    unsafe fn data_ptr(bio: *mut bindings::bio) -> *mut D {
        let off = offset_of!(BioWithData<D>, bio) - offset_of!(BioWithData<D>, data);
        // SAFETY: The front pad of a `BioSet<D>` allocation starts `off` bytes before the bio.
        unsafe { bio.cast::<u8>().sub(off).cast() }
    }

    /// Gives up ownership, returning the raw bio (for submission).
    ///
    /// Crate-private: whoever takes it must keep the set alive and give the bio back with
    /// [`Bio::from_raw`] (or `from_data`) to drop it.
    // Used by `kernel::fs::iomap` only, which exists with CONFIG_IOMAP_SIMPLE_DIO.
    #[cfg_attr(not(CONFIG_IOMAP_SIMPLE_DIO), allow(dead_code))]
    pub(crate) fn into_raw(self) -> *mut bindings::bio {
        let bio = self.bio.as_ptr();
        core::mem::forget(self);
        bio
    }

    /// Takes back ownership of a bio returned by [`Bio::into_raw`].
    ///
    /// # Safety
    ///
    /// `bio` must come from `Bio::<D>::into_raw`, no other owner may exist, and its set must
    /// live for `'a`.
    // Used by `kernel::fs::iomap` only, which exists with CONFIG_IOMAP_SIMPLE_DIO.
    #[cfg_attr(not(CONFIG_IOMAP_SIMPLE_DIO), allow(dead_code))]
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

    /// Sets the I/O priority.
    pub fn set_ioprio(&mut self, ioprio: u16) {
        // SAFETY: We own the bio, which is not submitted.
        unsafe { (*self.as_raw()).bi_ioprio = ioprio };
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
        let user_backed = iter_is_user_backed(iter);
        // SAFETY: We own the bio, which is not submitted, and `iter` is valid.
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
        let Some((addr, len)) = iter_ubuf(iter) else {
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
            // The page array lives in the upper half of the vectors, as in
            // `iov_iter_extract_bvecs()`: vector `i` overlaps only page pointers up to `i`,
            // which are read before it is written.
            let bv = (*bio).bi_io_vec;
            let pages = bv.cast::<*mut bindings::page>().add(max_vecs);
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
                anon_dirty = anon_dirty && bindings::PageAnonDirty(page);
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
        // SAFETY: The helper only reads the flags and mapping of the folio of a page the bio
        // holds.
        let anon_dirty = |page: *const bindings::page| unsafe { bindings::PageAnonDirty(page) };
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
        // A vector may span folios; `PageDirty` tests the folio of each page, so that is fine.
        // SAFETY: `PageDirty` only reads the flags of the folio of a page the bio holds.
        self.all_pages(|page| unsafe { bindings::PageDirty(page) })
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

impl<D> Drop for Bio<'_, D> {
    #[inline]
    fn drop(&mut self) {
        // Pages still pinned (a bio dropped before or after I/O without an explicit release)
        // must not stay pinned.
        self.release_pages();
        // SAFETY: The data is initialised and owned (type invariant); it is dropped once,
        // before the memory holding it goes back to the bio set, which is still alive (it is
        // borrowed), with the last `bio_put`.
        unsafe {
            core::ptr::drop_in_place(Self::data_ptr(self.as_raw()));
            bindings::bio_put(self.as_raw());
        }
    }
}

#[macros::kunit_tests(rust_kernel_block_bio)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// Drops of [`Pad`] values, to see that a bio drops its data exactly once.
    static PAD_DROPS: AtomicUsize = AtomicUsize::new(0);

    /// Per-request data with a recognisable pattern and a drop count.
    struct Pad([u64; 5]);

    impl Drop for Pad {
        fn drop(&mut self) {
            PAD_DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The front pad round trip: the data written at allocation is where the bio's data
    /// accessors, `into_raw`/`from_raw` and `from_data` find it, the bio starts on a cache
    /// line, and dropping the bio drops the data once (and returns the bio to its set).
    #[test]
    fn front_pad_round_trip() -> Result {
        let set = KBox::pin_init(BioSet::<Pad>::new(2), GFP_KERNEL)?;
        let drops = PAD_DROPS.load(Ordering::Relaxed);
        let pattern = [0x0123_4567_89ab_cdef, 1, 2, 3, u64::MAX];
        // SAFETY: The bio without a device is neither given pages nor submitted.
        let mut bio = unsafe { set.alloc(core::ptr::null_mut(), 1, GFP_KERNEL, Pad(pattern)) }?;
        assert_eq!(bio.data().0, pattern);
        assert_eq!(bio.size(), 0);
        assert_eq!(bio.as_raw() as usize % 64, 0);
        let data: *const Pad = bio.data();
        assert_eq!(
            bio.as_raw() as usize - data as usize,
            BioSet::<Pad>::FRONT_PAD
        );
        bio.data_mut().0[1] = 42;

        let raw = bio.into_raw();
        // SAFETY: `raw` comes from `into_raw` of a bio of `set`, which is still alive.
        let bio = unsafe { Bio::<Pad>::from_raw(raw) };
        assert_eq!(bio.data().0[1], 42);
        // SAFETY: The bio, given up by `into_raw`, is of a `BioSet<Pad>`.
        let data = unsafe { Bio::<Pad>::data_ptr(bio.into_raw()) };
        // SAFETY: `data` is the data of a bio whose ownership `into_raw` gave up; its set is
        // alive.
        let mut bio = unsafe { Bio::<Pad>::from_data(data) };
        assert_eq!(bio.as_raw(), raw);
        assert_eq!(bio.data().0[4], u64::MAX);
        assert_eq!(PAD_DROPS.load(Ordering::Relaxed), drops);

        // Nothing was pinned: releasing is a no-op, twice over.
        bio.release_pages();
        bio.release_pages();
        drop(bio);
        assert_eq!(PAD_DROPS.load(Ordering::Relaxed), drops + 1);
        Ok(())
    }

    /// More vectors than any bio holds fail with `EINVAL` (before, `biovec_slab()`'s
    /// `BUG()`), and the data is dropped; `BIO_MAX_VECS` itself is served.
    #[test]
    fn too_many_vectors() -> Result {
        let set = KBox::pin_init(BioSet::<Pad>::new(2), GFP_KERNEL)?;
        let drops = PAD_DROPS.load(Ordering::Relaxed);
        let max = bindings::BIO_MAX_VECS as u16;
        for nr in [max + 1, u16::MAX] {
            // SAFETY: No bio is made; one would be neither given pages nor submitted.
            let r = unsafe { set.alloc(core::ptr::null_mut(), nr, GFP_KERNEL, Pad([0; 5])) };
            assert_eq!(r.err(), Some(EINVAL));
        }
        assert_eq!(PAD_DROPS.load(Ordering::Relaxed), drops + 2);
        // SAFETY: The bio without a device is neither given pages nor submitted.
        let bio = unsafe { set.alloc(core::ptr::null_mut(), max, GFP_KERNEL, Pad([0; 5])) }?;
        // SAFETY: The bio is valid.
        assert_eq!(unsafe { (*bio.as_raw()).bi_max_vecs }, max);
        Ok(())
    }
}

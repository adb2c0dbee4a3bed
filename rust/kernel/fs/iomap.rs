// SPDX-License-Identifier: GPL-2.0

//! Direct I/O over iomap: a file system's mapping operations, and the hook that lets a
//! simple read path serve `iomap_dio_rw()`.
//!
//! A path implements [`SimpleDioRead`] and registers with [`Registration`]. Each read comes
//! to it as a [`DioRead`]: it may map the range (through a real `struct iomap_iter`, as
//! `iomap_iter()` would), allocate one bio, pin the buffer into it and submit it, or decline.
//! The rules a read must follow to end as the generic path would end it are kept here, not
//! by the path: the `->iomap_end` call, `inode_dio_begin`/`inode_dio_end`, giving the
//! iterator back untouched on a decline, the result (taken from the bio, never from the
//! path), the completion of the kiocb (exactly once, by this module: a path only looks at a
//! [`DioCompletion`]), dirtying user pages again, the fserror reports, polling and the trace
//! events. A path's only proof that it served a read is the [`Served`] that submitting it
//! returned, branded with the read's lifetime.
//!
//! What safe code can still do is leak: `mem::forget` of a [`DioBio`] or [`PinnedDioBio`]
//! leaks its bio and the pages pinned into it, as forgetting any owner leaks what it owns.
//! It cannot leave the request open: the state the read trampoline undoes (`->iomap_end`,
//! `inode_dio_begin()`, the iterator) is the trampoline's, not the path's.
//!
//! The bio of a read carries no `REQ_NOWAIT`, as the generic path's read bios do not: a
//! device without `BLK_FEAT_NOWAIT` (dm-crypt, md, most dm targets) fails such a bio with
//! `EOPNOTSUPP`, and one that would have to split it fails it with `EAGAIN`. An
//! `IOCB_NOWAIT` read still does not wait for page cache writeback, maps with
//! `IOMAP_NOWAIT` and allocates its bio with `GFP_NOWAIT` (`EAGAIN` if that would sleep, as
//! upstream's C path does).
//!
//! C headers: [`include/linux/iomap.h`](srctree/include/linux/iomap.h),
//! [`include/linux/iomap-simple-dio.h`](srctree/include/linux/iomap-simple-dio.h)

use crate::{
    alloc::KBox,
    bindings,
    block::bio::{self, Bio, BioSet, BlockDevice},
    error::{code::*, to_result, Error, Result},
    ffi::c_void,
    fs::{inode::Inode, Kiocb},
    iov::IovIterDest,
    page::PAGE_SIZE,
    prelude::*,
    types::Opaque,
};
use core::{
    cell::Cell,
    marker::PhantomData,
    mem::{offset_of, MaybeUninit},
    ptr::NonNull,
};

/// `ki_flags` bit: the request must not block (`RWF_NOWAIT`, io_uring inline issue).
pub const IOCB_NOWAIT: u32 = bindings::IOCB_NOWAIT as u32;
/// `ki_flags` bit: the request will be polled for completion (`RWF_HIPRI`, IOPOLL).
pub const IOCB_HIPRI: u32 = bindings::IOCB_HIPRI as u32;

/// `iomap_dio_rw()` flags (`IOMAP_DIO_*`) a read may come with.
pub mod dio_flags {
    use crate::bindings;
    /// Wait for completion even for an asynchronous kiocb.
    pub const FORCE_WAIT: u32 = bindings::IOMAP_DIO_FORCE_WAIT;
    /// Return a short read instead of falling back when a page fault would be needed.
    pub const PARTIAL: u32 = bindings::IOMAP_DIO_PARTIAL;
    /// Offset and length must be aligned to the file system block, not the device's.
    pub const FSBLOCK_ALIGNED: u32 = bindings::IOMAP_DIO_FSBLOCK_ALIGNED;
    /// Read through a bounce buffer.
    pub const BOUNCE: u32 = bindings::IOMAP_DIO_BOUNCE;
}

/// Mapping type: blocks are allocated and written at `addr`.
pub const IOMAP_MAPPED: u16 = bindings::IOMAP_MAPPED as u16;
/// Mapping flag: the blocks carry integrity metadata (zero without `BLK_DEV_INTEGRITY`).
pub const IOMAP_F_INTEGRITY: u16 = bindings::IOMAP_F_INTEGRITY as u16;

/// A file system's mapping operations (`struct iomap_ops`).
///
/// # Invariants
///
/// The wrapped `struct iomap_ops` is valid for the lifetime of any reference to `Self`.
#[repr(transparent)]
pub struct IomapOps(Opaque<bindings::iomap_ops>);

impl IomapOps {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to valid iomap operations that stay valid for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::iomap_ops) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper and the caller guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    #[inline]
    fn ops(&self) -> &bindings::iomap_ops {
        // SAFETY: The operations are valid (type invariant) and never written.
        unsafe { &*self.0.get() }
    }

    /// Returns whether the file system maps through `->iomap_begin`.
    ///
    /// Some file systems provide only `->iomap_next`; they need the generic iterator.
    #[inline]
    pub fn has_begin(&self) -> bool {
        self.ops().iomap_begin.is_some()
    }
}

/// The mapping of a read, as `->iomap_begin` filled it, borrowed from its [`MappedRead`].
#[derive(Clone, Copy)]
pub struct Iomap<'b> {
    map: &'b bindings::iomap,
}

impl<'b> Iomap<'b> {
    /// Returns the mapping type ([`IOMAP_MAPPED`], ...).
    #[inline]
    pub fn kind(&self) -> u16 {
        self.map.type_
    }

    /// Returns the `IOMAP_F_*` flags.
    #[inline]
    pub fn flags(&self) -> u16 {
        self.map.flags
    }

    /// Returns the file offset where the mapping starts.
    #[inline]
    pub fn offset(&self) -> i64 {
        self.map.offset
    }

    /// Returns the length of the mapping in bytes.
    #[inline]
    pub fn length(&self) -> u64 {
        self.map.length
    }

    /// Returns whether the mapping covers all of `[pos, pos + len)`.
    #[inline]
    pub fn covers(&self, pos: i64, len: u64) -> bool {
        // Without 128-bit arithmetic: `pos` lies `skip` bytes into the mapping (exact in a
        // `u64` when `pos` is not before it), which has `length - skip` bytes left from there.
        let skip = pos.wrapping_sub(self.map.offset) as u64;
        pos >= self.map.offset
            && self
                .map
                .length
                .checked_sub(skip)
                .is_some_and(|left| left >= len)
    }

    /// Returns the device sector where file offset `pos` lives (`iomap_sector`).
    #[inline]
    pub fn sector(&self, pos: i64) -> u64 {
        self.map
            .addr
            .wrapping_add(pos.wrapping_sub(self.map.offset) as u64)
            >> bindings::SECTOR_SHIFT
    }

    /// Returns the block device of a mapped range, if the mapping has one.
    #[inline]
    pub fn bdev(&self) -> Option<&'b BlockDevice> {
        // SAFETY: A mapping's block device is the file system's, which outlives the read the
        // mapping is borrowed from.
        NonNull::new(self.map.bdev).map(|b| unsafe { BlockDevice::from_raw(b.as_ptr()) })
    }
}

/// The state of a read in flight, in the front pad of its bio: this module's part and the
/// path's `D`.
///
/// # Invariants
///
/// `kiocb` and `inode` are those of the request the bio reads for, valid until it completes.
/// `sync_ret` is null for an asynchronous request, and otherwise points to the slot where the
/// reading thread, which waits for the bio, takes the result from. Once the bio is submitted,
/// `len` is the number of bytes it reads.
// `repr(C)` with the uninitialised work item last: in between initialised fields, the
// compiler fills it with zeroes when it merges their stores.
#[repr(C)]
pub struct DioRequest<D> {
    kiocb: NonNull<bindings::kiocb>,
    inode: NonNull<bindings::inode>,
    sync_ret: *const Cell<isize>,
    len: u32,
    polled: bool,
    /// The buffer is user memory: its pages were dirtied before the read and must be dirty
    /// again when it ends.
    user_backed: bool,
    data: D,
    // A raw work item rather than `kernel::workqueue::Work`: that one runs a function of the
    // module, which would drop the registration's reference (`percpu_ref`) and then still
    // have to return into the module's text, which unloading may free as soon as the count
    // reaches zero. The hook's C work function calls the path and drops the reference after
    // it, from built-in code.
    work: Opaque<bindings::work_struct>,
}

// SAFETY: The raw pointers are those of a request, which may complete on any CPU; `sync_ret`
// is only used by the thread that waits for the bio. `D: Send` makes the data movable.
unsafe impl<D: Send> Send for DioRequest<D> {}

/// A bio set for a simple path whose per-request data is `D`.
pub type DioBioSet<D> = BioSet<DioRequest<D>>;

/// A bio for one read, from [`MappedRead::alloc_bio`], not submitted yet.
pub struct DioBio<'a, D>(Bio<'a, DioRequest<D>>);

impl<D> DioBio<'_, D> {
    /// Returns the path's data of the read.
    #[inline]
    pub fn data(&self) -> &D {
        &self.0.data().data
    }

    /// Returns the path's data of the read, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut D {
        &mut self.0.data_mut().data
    }

    /// Returns the number of bytes the bio reads.
    #[inline]
    pub fn size(&self) -> u32 {
        self.0.size()
    }
}

/// A bio that holds the whole buffer of its read, from [`MappedRead::pin_pages`]: ready for
/// [`MappedRead::submit`].
///
/// # Invariants
///
/// The bio holds exactly the buffer of the read it was pinned for, which is not empty.
pub struct PinnedDioBio<'a, D>(DioBio<'a, D>);

impl<'a, D> core::ops::Deref for PinnedDioBio<'a, D> {
    type Target = DioBio<'a, D>;

    #[inline]
    fn deref(&self) -> &DioBio<'a, D> {
        &self.0
    }
}

/// Proof that read `'a` was submitted: [`MappedRead::submit`] alone creates it.
///
/// Invariant in `'a`, which is the lifetime of the one read it was made for: it cannot be
/// kept from one read and returned for another.
pub struct Served<'a> {
    /// The result of a synchronous read, done already; `None` for an asynchronous one.
    result: Option<Result<usize>>,
    _read: PhantomData<fn(&'a ()) -> &'a ()>,
}

impl Served<'_> {
    /// Returns the result of a synchronous read (the bytes read, or the error it ended
    /// with), or `None` for an asynchronous one, which [`SimpleDioRead::end_io`] sees end.
    #[inline]
    pub fn result(&self) -> Option<Result<usize>> {
        self.result
    }
}

/// What a simple path did with read `'a`.
pub enum Outcome<'a, R> {
    /// Submitted: synchronously done, or in flight.
    Served(Served<'a>),
    /// Not served, for reason `R`: the generic path reads it.
    Declined(R),
}

/// What the hook's read trampoline keeps of a read while the path has it: the mapping
/// state and what is left to undo when the path returns.
///
/// # Invariants
///
/// `it` is initialised once [`DioRead::map`] has started: whenever `mapped` is set, and for
/// as long as a [`MappedRead`] of the read exists.
struct ReadState {
    /// The mapping state, as `iomap_iter()` keeps it: `->iomap_begin` may `container_of()`
    /// its iomap into a `struct iomap_iter`, and read `private` from it. Set up by `map`:
    /// a read the path declines before mapping does not pay for zeroing it.
    it: MaybeUninit<bindings::iomap_iter>,
    /// The caller's `private`, for `it`.
    private: *mut c_void,
    /// The iterator's length when the read was offered.
    len: usize,
    /// `->iomap_begin` succeeded and `->iomap_end` is still due.
    mapped: bool,
    /// The read holds an `inode_dio_begin()` count (the bio's, once submitted).
    dio_counted: bool,
    /// A bio for the whole read was submitted: the iterator stays advanced.
    submitted: bool,
    /// It was submitted asynchronously: the read returns `-EIOCBQUEUED`.
    queued: bool,
}

impl ReadState {
    /// Returns the mapping state.
    ///
    /// # Safety
    ///
    /// `it` must be initialised: `mapped` is set, or a [`MappedRead`] of the read exists.
    #[inline(always)]
    unsafe fn it(&mut self) -> &mut bindings::iomap_iter {
        // SAFETY: Initialised, by the caller's guarantee.
        unsafe { self.it.assume_init_mut() }
    }
}

/// A read offered to a simple path by `iomap_dio_rw()`, not mapped yet.
///
/// The path gets it by value and gives it up to map the read ([`DioRead::map`]) and then to
/// submit it ([`MappedRead::submit`]), or drops it to decline or fail: once the read is
/// submitted, the path has no handle left to a request that may have completed already.
///
/// `D` is the registered path's [`SimpleDioRead::Data`]: its completion takes the bio back
/// as a bio of a `DioBioSet<D>`, so only such a bio can be submitted for the read.
///
/// # Invariants
///
/// `kiocb`, `iter`, `inode`, `ops` and `state` are those of an `iomap_dio_rw()` read in
/// progress, valid for `'a`; `sync_ret` points to the read trampoline's result slot; `D` is
/// the data type of the path whose trampoline created it.
pub struct DioRead<'a, D> {
    kiocb: Kiocb<'a, ()>,
    iter: &'a mut IovIterDest<'a>,
    inode: &'a Inode,
    ops: &'a IomapOps,
    dio_flags: u32,
    state: &'a mut ReadState,
    sync_ret: *const Cell<isize>,
    _data: PhantomData<fn(D) -> D>,
}

impl<'a, D> DioRead<'a, D> {
    /// Returns the I/O control block of the read.
    #[inline]
    pub fn kiocb(&self) -> &Kiocb<'a, ()> {
        &self.kiocb
    }

    /// Returns the inode of the file read.
    #[inline]
    pub fn inode(&self) -> &Inode {
        self.inode
    }

    /// Returns the file position of the read.
    #[inline]
    pub fn pos(&self) -> i64 {
        self.kiocb.ki_pos()
    }

    /// Returns the number of bytes asked for.
    #[inline]
    pub fn len(&self) -> usize {
        self.state.len
    }

    /// Returns whether no bytes are asked for.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.state.len == 0
    }

    /// Returns the `iomap_dio_rw()` flags ([`dio_flags`]).
    #[inline]
    pub fn dio_flags(&self) -> u32 {
        self.dio_flags
    }

    /// Returns whether the read must not block (`IOCB_NOWAIT`).
    #[inline]
    pub fn nowait(&self) -> bool {
        self.kiocb.ki_flags() & IOCB_NOWAIT != 0
    }

    /// Returns whether the file system maps through `->iomap_begin`.
    #[inline]
    pub fn has_iomap_begin(&self) -> bool {
        self.ops.has_begin()
    }

    /// Returns whether the buffer is user memory (its pages are pinned and must be dirtied).
    #[inline]
    pub fn user_backed(&self) -> bool {
        bio::iter_is_user_backed(self.iter)
    }

    #[inline]
    fn iter_type(&self) -> u8 {
        // SAFETY: The iterator is valid (type invariant).
        unsafe { (*self.iter_raw()).iter_type }
    }

    #[inline]
    fn iter_raw(&self) -> *mut bindings::iov_iter {
        // `IovIterDest` is a transparent wrapper of an `Opaque<iov_iter>`: reading through a
        // pointer from a shared reference is fine.
        core::ptr::from_ref(&*self.iter).cast_mut().cast()
    }

    /// Writes back and waits for dirty page cache over the range read.
    ///
    /// With `IOCB_NOWAIT` it fails with `EAGAIN` instead of waiting.
    #[inline]
    pub fn write_and_wait(&self) -> Result {
        // SAFETY: The kiocb is valid (type invariant).
        to_result(unsafe { bindings::kiocb_write_and_wait(self.kiocb.as_raw(), self.state.len) })
    }

    /// Maps the range read with `->iomap_begin`.
    ///
    /// For an asynchronous read it first makes sure the super block's completion workqueue
    /// exists. It then counts the read in `inode_dio_begin()`, as `__iomap_dio_rw()` does, and
    /// hands the file system a `struct iomap_iter` set up as `iomap_iter()` would (inode,
    /// position, length, `IOMAP_DIRECT` and `IOMAP_NOWAIT` flags, the caller's `private`).
    /// The mapping is finished with `->iomap_end` when the read is submitted or given up.
    /// Fails with `EOPNOTSUPP` without `->iomap_begin`, with the error of creating the
    /// workqueue, or with the file system's error. From here on, an error the read returns is
    /// traced and reported (fserror) as the generic path reports an error of its mapping loop.
    // Once per read, from one caller: inlined, not a call in the path.
    #[inline(always)]
    pub fn map(self) -> Result<MappedRead<'a, D>> {
        // Lazily: building the error is a call, which `ok_or` would make on every read.
        let begin = self
            .ops
            .ops()
            .iomap_begin
            .ok_or_else(|| Error::from_errno(-(bindings::EOPNOTSUPP as i32)))?;
        let pos = self.pos();
        let nowait = self.nowait();
        if !self.kiocb.is_sync() {
            // An asynchronous read may complete from this workqueue: it must exist before the
            // bio can complete. `__iomap_dio_rw()` creates it at the same point, before
            // `inode_dio_begin()`.
            self.inode.super_block().init_dio_done_wq()?;
        }
        let st = &mut *self.state;
        // SAFETY: The inode is valid (type invariant); the read trampoline or the bio's
        // completion ends the count.
        unsafe { bindings::inode_dio_begin(self.inode.as_raw()) };
        st.dio_counted = true;
        // INVARIANT: `it` is initialised from here on.
        // SAFETY: All-zero is a valid `struct iomap_iter` (no mapping, null pointers).
        let it = st.it.write(unsafe { core::mem::zeroed() });
        it.inode = self.inode.as_raw();
        it.private = st.private;
        it.pos = pos;
        it.iter_start_pos = pos;
        it.len = st.len as u64;
        it.flags = bindings::IOMAP_DIRECT | if nowait { bindings::IOMAP_NOWAIT } else { 0 };
        // SAFETY: The inode is valid and `it` is this read's `struct iomap_iter`, with zeroed
        // iomap and srcmap, which stays where it is until the read returns; the length is at
        // most a request's, which fits `loff_t`.
        to_result(unsafe {
            begin(
                it.inode,
                it.pos,
                it.len as i64,
                it.flags,
                &mut it.iomap,
                &mut it.srcmap,
            )
        })?;
        st.mapped = true;
        // INVARIANT: `map` initialised `it` above.
        Ok(MappedRead { req: self })
    }
}

/// A read whose range is mapped: it can get its bio and be submitted.
///
/// # Invariants
///
/// `req.state.it` is initialised.
pub struct MappedRead<'a, D> {
    req: DioRead<'a, D>,
}

impl<'a, D> core::ops::Deref for MappedRead<'a, D> {
    type Target = DioRead<'a, D>;

    #[inline]
    fn deref(&self) -> &DioRead<'a, D> {
        &self.req
    }
}

impl<'a, D: Send + 'static> MappedRead<'a, D> {
    /// Returns the mapping `->iomap_begin` gave.
    #[inline]
    pub fn iomap(&self) -> Iomap<'_> {
        // SAFETY: `it` is initialised (type invariant).
        let it = unsafe { self.req.state.it.assume_init_ref() };
        Iomap { map: &it.iomap }
    }

    /// Allocates the read's bio from `set`, carrying `data`.
    ///
    /// The bio goes to the mapping's device, at the sector of the read's position, with the
    /// kiocb's priority and room for the buffer's pages; for an `IOCB_NOWAIT` read the
    /// allocation does not sleep (`EAGAIN` if it would). No `REQ_NOWAIT`: see the module
    /// documentation. Fails with `EINVAL` if the mapping has no block device.
    // Once per read, from one caller: inlined, not a call in the path.
    #[inline(always)]
    pub fn alloc_bio<'s>(&self, set: &'s DioBioSet<D>, data: D) -> Result<DioBio<'s, D>> {
        let req = &self.req;
        let map = self.iomap();
        let bdev = map.bdev().ok_or(EINVAL)?;
        let nowait = req.nowait();
        let gfp = if nowait { GFP_NOWAIT } else { GFP_KERNEL };
        // `bio_iov_vecs_to_alloc()`: a bvec iterator's pages are used in place, without
        // vectors of the bio's own; `iov_iter_npages()` counts the pages of the others.
        let nr_vecs = if let Some((start, count)) = bio::iter_ubuf(req.iter) {
            // What `iov_iter_npages()` computes for a single user buffer (`read()`, io_uring):
            // the pages it spans. Inline, where the call cost more than the sum.
            let span = if count == 0 {
                0
            } else {
                (start % PAGE_SIZE).saturating_add(count)
            };
            // At most `BIO_MAX_VECS`: the cast is lossless.
            span.div_ceil(PAGE_SIZE)
                .min(bindings::BIO_MAX_VECS as usize) as i32
        } else if req.iter_type() == bindings::iter_type_ITER_BVEC as u8 {
            0
        } else {
            // SAFETY: The iterator is valid (type invariant).
            unsafe { bindings::iov_iter_npages(req.iter_raw(), bindings::BIO_MAX_VECS as i32) }
        };
        // In `0..=BIO_MAX_VECS`; anything else would fit no bio, and the allocation would fail.
        let nr_vecs = u16::try_from(nr_vecs).unwrap_or(u16::MAX);
        let dio = DioRequest {
            kiocb: NonNull::new(req.kiocb.as_raw()).ok_or(EINVAL)?,
            inode: NonNull::new(req.inode.as_raw()).ok_or(EINVAL)?,
            sync_ret: core::ptr::null(),
            len: 0,
            polled: false,
            user_backed: req.user_backed(),
            work: Opaque::uninit(),
            data,
        };
        let mut bio = set.alloc_read(bdev, nr_vecs, gfp, dio)?;
        bio.set_sector(map.sector(req.pos()));
        bio.set_ioprio(req.kiocb.ki_ioprio());
        Ok(DioBio(bio))
    }

    /// Pins the whole buffer into `bio`; every segment length must satisfy `len_align_mask`.
    ///
    /// Pages of user memory are marked dirty as well, as a direct-I/O read needs (see
    /// [`Bio::add_iter_pages`]). Returns `None`, with the bio dropped and the iterator as it
    /// was, if only part of the buffer fit. Fails with `EFAULT` for unmapped user memory and
    /// `EINVAL` for misaligned segments.
    // Once per read, from one caller: inlined, not a call in the path.
    #[inline(always)]
    pub fn pin_pages<'s>(
        &mut self,
        mut bio: DioBio<'s, D>,
        len_align_mask: u32,
    ) -> Result<Option<PinnedDioBio<'s, D>>> {
        let req = &mut self.req;
        // SAFETY: The buffer of a direct-I/O read in progress stays valid until the read
        // completes, and the bio is submitted for this read or dropped before. `alloc_bio`
        // gave the bio the mapping's device, the file system's, which stays valid while a
        // read of one of its files is in progress (the caller holds the file open).
        unsafe { bio.0.add_iter_pages(req.iter, len_align_mask) }?;
        let got = bio.size() as usize;
        if got != req.state.len || got == 0 {
            // Dropping the bio unpins what it holds.
            drop(bio);
            // SAFETY: `add_iter_pages` advanced the iterator by exactly `got` bytes.
            unsafe { req.iter.revert(got) };
            return Ok(None);
        }
        // INVARIANT: The bio holds the whole buffer of this read, which is not empty.
        Ok(Some(PinnedDioBio(bio)))
    }

    /// Submits the read's bio, which holds the whole buffer.
    ///
    /// `->iomap_end` runs first (as in the v5 series' `iomap_dio_simple()`), then a synchronous
    /// read is waited for and completed here, and an asynchronous one completes through
    /// [`SimpleDioRead::end_io`]; the read then returns `-EIOCBQUEUED`. An `IOCB_HIPRI` read
    /// is submitted for polling.
    // Once per read, from one caller: inlined, not a call in the path.
    #[inline(always)]
    pub fn submit(self, bio: PinnedDioBio<'a, D>) -> Served<'a> {
        let req = self.req;
        // The bio holds the whole buffer (invariant of `PinnedDioBio`): `len` bytes.
        let len = req.state.len;
        let mut bio = bio.0 .0;
        let sync = req.kiocb.is_sync();
        // INVARIANT: The bytes the bio reads.
        bio.data_mut().len = bio.size();
        let kiocb = req.kiocb.as_raw();
        let iter = req.iter.as_raw();
        let st = req.state;
        if let Some(end) = req.ops.ops().iomap_end {
            // SAFETY: A `MappedRead` existed until now: `it` is initialised.
            let it = unsafe { st.it() };
            // SAFETY: The end call of this read's successful `->iomap_begin`, with what
            // `iomap_iter()` would pass; nothing of the read is touched after submission.
            unsafe {
                end(
                    it.inode,
                    it.pos,
                    len as i64,
                    len as isize,
                    it.flags,
                    &mut it.iomap,
                )
            };
        }
        st.mapped = false;
        // The bio's completion ends the `inode_dio_begin()` count from now on.
        st.submitted = true;
        if sync {
            bio.data_mut().sync_ret = req.sync_ret;
            // SAFETY: The bio is complete and ours, and ours again when this returns; the kiocb
            // and iterator are valid, the iterator advanced by the `len` bytes in the bio. The
            // completion reads the status again.
            let _ = unsafe {
                bindings::iomap_simple_dio_submit_wait(
                    bio.as_raw(),
                    kiocb,
                    iter,
                    len,
                    req.dio_flags,
                )
            };
            // SAFETY: The bio was submitted for this read and is done; this thread sleeps.
            let res = unsafe { DioCompletion::new(bio).finish() };
            return Served {
                result: Some(res),
                _read: PhantomData,
            };
        }
        if req.kiocb.ki_flags() & IOCB_HIPRI != 0 {
            bio.set_polled();
            bio.data_mut().polled = true;
            // SAFETY: The kiocb is valid; io_uring reads `private` concurrently, hence the
            // volatile write (`WRITE_ONCE`). The completion clears it before freeing the bio.
            unsafe {
                core::ptr::addr_of_mut!((*kiocb).private).write_volatile(bio.as_raw().cast())
            };
        }
        st.queued = true;
        // SAFETY: The bio is complete and ours; ownership passes to the block layer, which
        // hands it to the hook's end_io trampoline and from there to `Vtable::end_io`. Its set
        // lives for `'a`, which the registration keeps alive until the bio has completed. The
        // kiocb and iterator are valid, the iterator advanced by the `len` bytes in the bio.
        unsafe {
            bindings::iomap_simple_dio_submit(bio.into_raw(), kiocb, iter, len, req.dio_flags)
        };
        Served {
            result: None,
            _read: PhantomData,
        }
    }
}

/// A submitted read whose bio is done, as [`SimpleDioRead::end_io`] sees it.
///
/// This module completes the read once the path has looked at it, from the bio's status and
/// size: it reports an error through fserror, dirties user pages that writeback cleaned during
/// the read, advances the file position and hands the result to the submitter. Whatever needs
/// process context (an error, a page to dirty) is deferred to the super block's
/// `s_dio_done_wq` when the bio completes in interrupt context ([`DioCompletion::deferred`]).
/// A path holds only a shared reference: it can neither complete a read twice nor keep one
/// from completing.
///
/// # Invariants
///
/// `bio` was submitted by [`MappedRead::submit`] and is done. `redirty` is whether it read
/// into user pages that are no longer all dirty.
pub struct DioCompletion<'a, D: Send + 'static> {
    bio: Bio<'a, DioRequest<D>>,
    redirty: bool,
}

impl<'a, D: Send + 'static> DioCompletion<'a, D> {
    /// # Safety
    ///
    /// `bio` must have been submitted by [`MappedRead::submit`] and be done.
    // Once per completion: inlined.
    #[inline(always)]
    unsafe fn new(bio: Bio<'a, DioRequest<D>>) -> Self {
        let redirty = bio.data().user_backed && !bio.pages_all_dirty();
        // INVARIANT: By the caller's guarantee, and as computed.
        Self { bio, redirty }
    }

    /// Returns whether completing the read needs process context: an error to report, or
    /// pages to dirty again.
    #[inline(always)]
    fn needs_process(&self) -> bool {
        self.redirty || self.status().is_err()
    }

    #[inline]
    fn req(&self) -> &DioRequest<D> {
        self.bio.data()
    }

    /// Returns the result of the bio (`EIO`, ... on failure).
    #[inline(always)]
    pub fn status(&self) -> Result {
        self.bio.status()
    }

    /// Returns the path's data of the read.
    #[inline]
    pub fn data(&self) -> &D {
        &self.req().data
    }

    /// Returns the number of bytes read, or to be read, into the buffer.
    #[inline]
    pub fn len(&self) -> usize {
        self.req().len as usize
    }

    /// Returns whether no byte is read (never, for a submitted read).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.req().len == 0
    }

    /// Returns whether the read is finished from the super block's `s_dio_done_wq` rather
    /// than where its bio completed: an error, or user pages to dirty again, in interrupt
    /// context.
    #[inline]
    pub fn deferred(&self) -> bool {
        self.needs_process() && self.req().sync_ret.is_null()
    }

    /// Returns the inode of the file read.
    #[inline]
    pub fn inode(&self) -> &Inode {
        // SAFETY: The inode of a read in progress is valid until it completes (invariant of
        // `DioRequest`), which only this module does, after the path's borrow has ended.
        unsafe { Inode::from_raw(self.req().inode.as_ptr()) }
    }

    /// Returns the file position of the read.
    #[inline]
    pub fn pos(&self) -> i64 {
        // SAFETY: The kiocb is valid until the read completes (see `inode`).
        unsafe { (*self.req().kiocb.as_ptr()).ki_pos }
    }

    /// Ends an asynchronous read in the context its bio completed in: defers it to
    /// `s_dio_done_wq` if it needs process context, completes it otherwise.
    // Once per completion: inlined.
    #[inline(always)]
    fn end(self) {
        if !self.needs_process() {
            // SAFETY: Nothing to do needs process context: no error to report, no page to
            // dirty, so `finish` does not sleep.
            let _ = unsafe { self.finish_atomic() };
            return;
        }
        let bio = self.bio;
        let req = bio.data();
        // SAFETY: The inode is valid until the read completes.
        let sb = unsafe { (*req.inode.as_ptr()).i_sb };
        let work = req.work.get();
        // The work owns the bio until `Vtable::complete_work` takes it back.
        let _ = bio.into_raw();
        // SAFETY: The workqueue exists: `DioRead::map` created it before mapping this
        // asynchronous read. The work item lives in the bio's front pad, which stays allocated
        // while the work owns the bio; the hook initialises it.
        unsafe { bindings::iomap_simple_dio_queue_work(sb, work) };
    }

    /// Completes the read: reports an error, dirties the user pages again if they need it,
    /// unpins them, advances the position and hands the result over.
    ///
    /// # Safety
    ///
    /// Process context (it may sleep).
    // Once per completion: inlined.
    #[inline(always)]
    unsafe fn finish(mut self) -> Result<usize> {
        if let Err(e) = self.status() {
            // As `should_report_dio_fserror()`: not the retry codes.
            if e != EAGAIN && e != ENOTBLK {
                self.inode()
                    .report_read_error(self.pos(), self.len() as u64, e);
            }
        }
        // Failed or not, as `bio_check_pages_dirty()` after any direct read into user memory.
        if self.redirty {
            // SAFETY: Process context, by the caller's guarantee.
            unsafe { self.bio.release_pages_dirty() };
        }
        // SAFETY: The work that needs process context is done.
        unsafe { self.finish_atomic() }
    }

    /// Completes the read: unpins the pages, advances the position, ends the
    /// `inode_dio_begin()` count, withdraws a polled bio, frees the bio, then hands the result
    /// to the submitter (`->ki_complete` for an asynchronous read, the read's return value for
    /// a synchronous one).
    ///
    /// # Safety
    ///
    /// An error must have been reported and user pages dirtied again where they need it
    /// (`needs_process()`), which only [`DioCompletion::finish`] does.
    #[inline(always)]
    unsafe fn finish_atomic(self) -> Result<usize> {
        let res = self.status().map(|()| self.len());
        let bio = self.bio;
        let req = bio.data();
        let (kiocb, inode, sync_ret, polled) = (
            req.kiocb.as_ptr(),
            req.inode.as_ptr(),
            req.sync_ret,
            req.polled,
        );
        let ret = match res {
            Ok(n) => {
                // SAFETY: The kiocb is valid until the read completes, below. `n` is what the
                // bio read, at most `u32::MAX`.
                unsafe { (*kiocb).ki_pos += n as i64 };
                n as isize
            }
            Err(e) => e.to_errno() as isize,
        };
        // SAFETY: The inode is valid; this ends the count `DioRead::map` took, once.
        unsafe { bindings::inode_dio_end(inode) };
        if polled {
            // SAFETY: As above; the bio is freed below: io_uring must not poll it any more.
            unsafe {
                core::ptr::addr_of_mut!((*kiocb).private).write_volatile(core::ptr::null_mut())
            };
        }
        // Unpins what is still pinned, without dirtying (done above where needed).
        drop(bio);
        // SAFETY: The kiocb is valid until this call, which traces the result and, for an
        // asynchronous read, ends the request (`->ki_complete`), once. A synchronous kiocb
        // (`sync_ret` set) has no `->ki_complete`.
        unsafe { bindings::iomap_simple_dio_complete(kiocb, ret) };
        if !sync_ret.is_null() {
            // SAFETY: The reading thread waits in `Vtable::read` for this result.
            unsafe { (*sync_ret).set(ret) };
        }
        res
    }
}

/// A simple direct-I/O read path, registered behind `iomap_dio_rw()` with [`Registration`].
///
/// The hook offers it every read without `dops` or `done_before`. The value registered is
/// the path's context, handed to each callback.
pub trait SimpleDioRead: Send + Sync + Sized + 'static {
    /// The per-read data carried in front of each bio.
    type Data: Send + 'static;
    /// Why a read was declined.
    type Reason: Copy;

    /// Serves a read, or declines it; its bio comes from a `DioBioSet<Self::Data>` that outlives
    /// it (one of `self`'s, typically: the registration keeps `self` until every bio is done).
    ///
    /// An error before the read is mapped is returned as it is; from the mapping on, it is
    /// also traced and reported (fserror) as the generic path would (`ENOTBLK` declines).
    fn read<'a>(&'a self, req: DioRead<'a, Self::Data>) -> Result<Outcome<'a, Self::Reason>>;

    /// Counts a declined read, before the generic path reads it.
    fn declined(&self, reason: Self::Reason);

    /// Sees an asynchronous read's bio complete (in interrupt context, possibly), before this
    /// module completes the read.
    fn end_io(&self, done: &DioCompletion<'_, Self::Data>);
}

/// A registered simple read path, with its context.
///
/// Built as a module (`CONFIG_IOMAP_SIMPLE_DIO=m`), dropping it unregisters the path and
/// waits for every read, bio and completion of it before the context goes.
///
/// Built in, the hook counts nothing to wait for, so a registration is permanent: the context
/// is made `'static` and stays registered whatever becomes of this handle, which owns
/// nothing then. Only built-in code can register so: the hook refuses a loadable module's
/// vtable (`EINVAL`), whose text unloading would free under it.
///
/// # Invariants
///
/// `ops` is the vtable registered with `data`, the context, until drop (for ever, built in).
pub struct Registration<T: SimpleDioRead> {
    #[cfg(CONFIG_IOMAP_SIMPLE_DIO = "m")]
    data: core::mem::ManuallyDrop<Pin<KBox<T>>>,
    #[cfg(not(CONFIG_IOMAP_SIMPLE_DIO = "m"))]
    data: Pin<&'static T>,
    #[cfg(CONFIG_IOMAP_SIMPLE_DIO = "m")]
    ops: &'static bindings::iomap_simple_dio_ops,
}

struct Vtable<T>(PhantomData<T>);

impl<T: SimpleDioRead> Vtable<T> {
    const OPS: bindings::iomap_simple_dio_ops = bindings::iomap_simple_dio_ops {
        read: Some(Self::read),
        end_io: Some(Self::end_io),
        complete_work: Some(Self::complete_work),
    };

    /// The hook's `->read`: offers the read to `T::read`, and reads what it declines with the
    /// generic path.
    ///
    /// # Safety
    ///
    /// `data` must be the registered `T`, and the other arguments those of an
    /// `iomap_dio_rw()` call in progress.
    unsafe extern "C" fn read(
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
        ops: *const bindings::iomap_ops,
        private: *mut c_void,
        dio_flags: u32,
        data: *mut c_void,
    ) -> isize {
        // SAFETY: The caller's guarantees.
        match unsafe { Self::offer(data, iocb, iter, ops, private, dio_flags) } {
            Some(ret) => ret,
            // SAFETY: The arguments of the `iomap_dio_rw()` call, whose request `offer` left
            // untouched.
            None => unsafe {
                bindings::iomap_simple_dio_fallback(iocb, iter, ops, private, dio_flags)
            },
        }
    }

    /// Offers a read to `T::read`: returns what `iomap_dio_rw()` returns for it, or `None`
    /// when it declined, with the request as it was.
    ///
    /// # Safety
    ///
    /// As for [`Vtable::read`].
    // Once per read, from `read` (and a test): inlined.
    #[inline(always)]
    unsafe fn offer(
        data: *mut c_void,
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
        ops: *const bindings::iomap_ops,
        private: *mut c_void,
        dio_flags: u32,
    ) -> Option<isize> {
        // SAFETY: The hook passes the arguments of `iomap_dio_rw()`, valid for the call.
        // A write (`ITER_SOURCE`) is not ours: hand it back before wrapping the iterator.
        if unsafe { (*iter).data_source } != (bindings::ITER_DEST != 0) {
            return None;
        }
        // SAFETY: `data` is the registered context, alive until every call has returned.
        let this = unsafe { &*data.cast::<T>() };
        let sync_ret = Cell::new(EIO.to_errno() as isize);
        // SAFETY: The kiocb's file and its inode are valid for the call.
        let inode = unsafe { (*(*iocb).ki_filp).f_inode };
        // INVARIANT: Not mapped, `it` not needed yet.
        let mut state = ReadState {
            it: MaybeUninit::uninit(),
            private,
            // SAFETY: The iterator is valid for the call.
            len: unsafe { IovIterDest::from_raw(iter) }.len(),
            mapped: false,
            dio_counted: false,
            submitted: false,
            queued: false,
        };
        // SAFETY: The arguments are valid for the call (and the kiocb, the buffer and the
        // inode until an asynchronous read completes); `()` borrows no file private data.
        let res = T::read(this, unsafe {
            DioRead {
                kiocb: Kiocb::from_raw(iocb),
                iter: IovIterDest::from_raw(iter),
                inode: Inode::from_raw(inode),
                ops: IomapOps::from_raw(ops),
                dio_flags,
                state: &mut state,
                sync_ret: &sync_ret,
                _data: PhantomData,
            }
        })
        // What is left of the outcome: the reason of a decline. A `Served` only says that
        // `submit` ran, which `state` says too; it goes here, and the borrow of `state` with it.
        .map(|outcome| match outcome {
            Outcome::Served(_) => None,
            Outcome::Declined(why) => Some(why),
        });
        if state.queued {
            // The completion owns the request now: touch nothing of it.
            return Some(EIOCBQUEUED.to_errno() as isize);
        }
        if state.submitted {
            // A synchronous read: its completion decided the result, from the bio.
            return Some(sync_ret.get());
        }
        // Given up before submission: undo what the path left open, so that the caller (or
        // the generic path) gets the request as it was.
        // SAFETY: The iterator is valid for the call; the path's borrow of it has ended.
        let iter = unsafe { IovIterDest::from_raw(iter) };
        let advanced = state.len - iter.len();
        if advanced != 0 {
            // SAFETY: The iterator was advanced by exactly `advanced` bytes since the read was
            // offered.
            unsafe { iter.revert(advanced) };
        }
        if state.mapped {
            // SAFETY: The operations are valid for the call.
            if let Some(end) = unsafe { IomapOps::from_raw(ops) }.ops().iomap_end {
                // SAFETY: `mapped` is set: `it` is initialised.
                let it = unsafe { state.it() };
                let map_end = it.iomap.offset.saturating_add(it.iomap.length as i64);
                let len = (it.len as i64).min(map_end.saturating_sub(it.iter_start_pos));
                // SAFETY: The end call of a successful `->iomap_begin` on `it`, with the
                // arguments `iomap_iter()` would pass: nothing was read.
                unsafe { end(it.inode, it.iter_start_pos, len, 0, it.flags, &mut it.iomap) };
            }
        }
        if state.dio_counted {
            // SAFETY: The inode is valid; this ends the count `DioRead::map` took.
            unsafe { bindings::inode_dio_end(inode) };
        }
        let err = match res {
            Ok(Some(why)) => {
                this.declined(why);
                return None;
            }
            // The generic path's way of saying the same.
            Err(e) if e == ENOTBLK => return None,
            // Nothing was queued: nothing would ever complete the read.
            Err(e) if e == EIOCBQUEUED => EIO,
            Err(e) => e,
            // Only `submit` makes a `Served`, and it set `submitted`: not reached.
            Ok(None) => EIO,
        };
        // SAFETY: The arguments of the `iomap_dio_rw()` call, whose iterator is as it was.
        unsafe {
            bindings::iomap_simple_dio_fail(
                iocb,
                iter.as_raw(),
                dio_flags,
                err.to_errno(),
                state.dio_counted,
            )
        };
        Some(err.to_errno() as isize)
    }

    /// The hook's `->end_io`: shows the completion to `T::end_io`, then ends the read.
    ///
    /// # Safety
    ///
    /// `data` must be the registered `T` and `bio` one submitted by [`MappedRead::submit`] for
    /// `T`, now done.
    unsafe extern "C" fn end_io(data: *mut c_void, bio: *mut bindings::bio) {
        // SAFETY: The context lives until every bio of the path has completed.
        let this = unsafe { &*data.cast::<T>() };
        // SAFETY: Only `MappedRead::submit` submits through the hook, with a bio of a set that
        // lives as long as the context; the block layer hands its ownership back here, done.
        let done = unsafe { DioCompletion::new(Bio::<DioRequest<T::Data>>::from_raw(bio)) };
        T::end_io(this, &done);
        done.end();
    }

    /// The hook's `->complete_work`: finishes a read that [`DioCompletion`] deferred.
    ///
    /// # Safety
    ///
    /// `data` must be the registered `T` and `work` the work item of a read that
    /// `DioCompletion::end` queued; called from the workqueue (process context).
    unsafe extern "C" fn complete_work(_data: *mut c_void, work: *mut bindings::work_struct) {
        let off = offset_of!(DioRequest<T::Data>, work);
        // SAFETY: The work item lives at `off` in the front-pad data of a bio whose ownership
        // the work holds (`DioCompletion::end`); its set lives as long as the context, which
        // lives until every work item of the path has run.
        let bio =
            unsafe { Bio::<DioRequest<T::Data>>::from_data(work.cast::<u8>().sub(off).cast()) };
        // SAFETY: The bio was submitted by `MappedRead::submit` and is done; a work item runs
        // in process context.
        let _ = unsafe { DioCompletion::new(bio).finish() };
    }
}

impl<T: SimpleDioRead> Registration<T> {
    /// Registers the path `T` with context `data`.
    ///
    /// Fails with `EBUSY` if a path is registered, `ENODEV` if the hook could not be set up,
    /// and, built in, `EINVAL` when called from a loadable module.
    pub fn new(data: impl PinInit<T, Error>) -> Result<Self> {
        let data = KBox::pin_init(data, GFP_KERNEL)?;
        // One `'static` vtable, kept for unregistering: the same address both times.
        let ops: &'static bindings::iomap_simple_dio_ops = const { &Vtable::<T>::OPS };
        let ptr: *const T = &*data;
        // SAFETY: `ops` is static and `ptr` stays valid until `drop` has unregistered (or,
        // built in, for ever: it is leaked below once registered).
        to_result(unsafe { bindings::iomap_simple_dio_register(ops, ptr.cast_mut().cast()) })?;
        // INVARIANT: `ops` was registered with `data`.
        #[cfg(CONFIG_IOMAP_SIMPLE_DIO = "m")]
        let this = Self {
            data: core::mem::ManuallyDrop::new(data),
            ops,
        };
        #[cfg(not(CONFIG_IOMAP_SIMPLE_DIO = "m"))]
        let this = {
            // SAFETY: The box is never moved out of or freed: leaked, it stays where it is.
            let data: &'static T = KBox::leak(unsafe { Pin::into_inner_unchecked(data) });
            // SAFETY: `data` was pinned and is never moved.
            let data = unsafe { Pin::new_unchecked(data) };
            Self { data }
        };
        Ok(this)
    }

    /// Returns the path's context.
    pub fn data(&self) -> &T {
        &self.data
    }
}

// Built in there is nothing to drop: the registration is permanent, its context `'static`.
#[cfg(CONFIG_IOMAP_SIMPLE_DIO = "m")]
impl<T: SimpleDioRead> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: `ops` was registered by `new`; this waits for every call, bio and work
        // of the path, after which nothing uses the context.
        unsafe { bindings::iomap_simple_dio_unregister(self.ops) };
        // SAFETY: Dropped once, here, and never used after.
        unsafe { core::mem::ManuallyDrop::drop(&mut self.data) };
    }
}

#[macros::kunit_tests(rust_kernel_fs_iomap)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    const PRIVATE: usize = 0x5a5a_0000;
    const POS: i64 = 8192;
    const LEN: usize = 4096;

    /// What the test file system's callbacks saw.
    static BEGIN_OK: AtomicUsize = AtomicUsize::new(0);
    static END_OK: AtomicUsize = AtomicUsize::new(0);
    static END_WRITTEN: AtomicI64 = AtomicI64::new(-1);

    /// Returns the `struct iomap_iter` that `iomap` is embedded in, as `container_of()` would.
    fn iter_of(iomap: *mut bindings::iomap) -> *mut bindings::iomap_iter {
        iomap
            .cast::<u8>()
            .wrapping_sub(offset_of!(bindings::iomap_iter, iomap))
            .cast()
    }

    /// Checks what erofs relies on: the iomap lives in an `iomap_iter` of this read.
    fn iter_is_real(inode: *mut bindings::inode, iomap: *mut bindings::iomap) -> bool {
        let it = iter_of(iomap);
        // SAFETY: Only read if the layout is right; on the old layout this reads the stack
        // next to the mapping, which the test accepts failing on.
        unsafe {
            (*it).inode == inode
                && (*it).private as usize == PRIVATE
                && (*it).pos == POS
                && (*it).len == LEN as u64
                && (*it).flags & bindings::IOMAP_DIRECT != 0
        }
    }

    /// The test file system's `->iomap_begin`: records whether the iomap is in a real iter.
    ///
    /// # Safety
    ///
    /// `iomap` must be writable; it is read as part of a `struct iomap_iter` only if it is one.
    unsafe extern "C" fn test_begin(
        inode: *mut bindings::inode,
        pos: i64,
        length: i64,
        _flags: u32,
        iomap: *mut bindings::iomap,
        _srcmap: *mut bindings::iomap,
    ) -> i32 {
        if iter_is_real(inode, iomap) && pos == POS && length == LEN as i64 {
            BEGIN_OK.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: `iomap` is writable: a hole over the read.
        unsafe {
            (*iomap).type_ = bindings::IOMAP_HOLE as u16;
            (*iomap).offset = 0;
            (*iomap).length = 1 << 20;
        }
        0
    }

    /// The test file system's `->iomap_end`: records whether the iomap is in a real iter.
    ///
    /// # Safety
    ///
    /// As for [`test_begin`].
    unsafe extern "C" fn test_end(
        inode: *mut bindings::inode,
        pos: i64,
        length: i64,
        written: isize,
        _flags: u32,
        iomap: *mut bindings::iomap,
    ) -> i32 {
        if iter_is_real(inode, iomap) && pos == POS && length == LEN as i64 {
            END_OK.fetch_add(1, Ordering::Relaxed);
        }
        END_WRITTEN.store(written as i64, Ordering::Relaxed);
        0
    }

    static TEST_OPS: bindings::iomap_ops = bindings::iomap_ops {
        iomap_begin: Some(test_begin),
        iomap_end: Some(test_end),
        iomap_next: None,
    };

    /// A path that maps and then declines: what the mapping looked like is in the statics.
    struct MapThenDecline {
        declined: AtomicUsize,
    }

    impl SimpleDioRead for MapThenDecline {
        type Data = ();
        type Reason = u32;

        fn read<'a>(&'a self, req: DioRead<'a, ()>) -> Result<Outcome<'a, u32>> {
            let mapped = req.map()?;
            let map = mapped.iomap();
            if map.kind() != bindings::IOMAP_HOLE as u16 || !map.covers(POS, LEN as u64) {
                return Err(EINVAL);
            }
            Ok(Outcome::Declined(7))
        }

        fn declined(&self, reason: u32) {
            if reason == 7 {
                self.declined.fetch_add(1, Ordering::Relaxed);
            }
        }

        fn end_io(&self, _done: &DioCompletion<'_, ()>) {}
    }

    /// Returns a mapping of `length` bytes at file offset `offset`, device byte `addr`.
    fn mapping(offset: i64, length: u64, addr: u64) -> bindings::iomap {
        // SAFETY: All-zero is a valid `struct iomap` (a hole, null pointers).
        let mut map: bindings::iomap = unsafe { core::mem::zeroed() };
        map.offset = offset;
        map.length = length;
        map.addr = addr;
        map
    }

    /// `Iomap::covers` at the edges, without overflow wherever the numbers are.
    #[test]
    fn iomap_covers() {
        let m = mapping(8192, 8192, 0);
        let map = Iomap { map: &m };
        assert!(map.covers(8192, 8192));
        assert!(map.covers(12288, 4096));
        assert!(map.covers(16383, 1));
        assert!(map.covers(8192, 0));
        assert!(!map.covers(8191, 4096));
        assert!(!map.covers(12288, 4097));
        assert!(!map.covers(16384, 1));
        assert!(!map.covers(-1, 1));
        assert!(!map.covers(i64::MIN, 1));
        assert!(!map.covers(i64::MAX, u64::MAX));
        // A mapping to the end of the address space, and one from a negative offset.
        let m = mapping(0, u64::MAX, 0);
        let map = Iomap { map: &m };
        assert!(map.covers(i64::MAX, 4096));
        assert!(map.covers(0, u64::MAX));
        let m = mapping(i64::MIN, u64::MAX, 0);
        let map = Iomap { map: &m };
        assert!(!map.covers(i64::MAX, 1));
    }

    /// `Iomap::sector` is `iomap_sector()`: the device byte of `pos`, in 512-byte sectors.
    #[test]
    fn iomap_sector() {
        let m = mapping(8192, 65536, 1 << 20);
        let map = Iomap { map: &m };
        assert_eq!(map.sector(8192), (1 << 20) >> 9);
        assert_eq!(map.sector(12288), ((1 << 20) + 4096) >> 9);
        assert_eq!(map.sector(8192 + 512), ((1 << 20) >> 9) + 1);
    }

    /// The id of the last [`Declines`] context dropped.
    static LAST_DROPPED: AtomicUsize = AtomicUsize::new(0);

    /// A path that declines every read; records its id when its context goes.
    #[pin_data(PinnedDrop)]
    struct Declines {
        id: usize,
    }

    #[pinned_drop]
    impl PinnedDrop for Declines {
        fn drop(self: Pin<&mut Self>) {
            LAST_DROPPED.store(self.id, Ordering::Relaxed);
        }
    }

    /// A [`Declines`] context, as [`Registration::new`] takes it.
    fn declines(id: usize) -> impl PinInit<Declines, Error> {
        try_pin_init!(Declines { id })
    }

    impl SimpleDioRead for Declines {
        type Data = ();
        type Reason = ();

        fn read<'a>(&'a self, _req: DioRead<'a, ()>) -> Result<Outcome<'a, ()>> {
            Ok(Outcome::Declined(()))
        }

        fn declined(&self, _reason: ()) {}

        fn end_io(&self, _done: &DioCompletion<'_, ()>) {}
    }

    /// One path at a time: registering a second fails with `EBUSY` and drops its context.
    /// Built as a module (nothing is registered while KUnit runs at boot), dropping the
    /// registration unregisters and drops the context, and the next registration succeeds;
    /// built in, the module's own registration is there for good.
    #[test]
    fn register_once() -> Result {
        #[cfg(CONFIG_IOMAP_SIMPLE_DIO = "m")]
        {
            let first = Registration::new(declines(1))?;
            assert_eq!(Registration::new(declines(2)).err(), Some(EBUSY));
            assert_eq!(LAST_DROPPED.load(Ordering::Relaxed), 2);
            drop(first);
            assert_eq!(LAST_DROPPED.load(Ordering::Relaxed), 1);
            drop(Registration::new(declines(3))?);
            assert_eq!(LAST_DROPPED.load(Ordering::Relaxed), 3);
        }
        #[cfg(not(CONFIG_IOMAP_SIMPLE_DIO = "m"))]
        {
            assert_eq!(Registration::new(declines(2)).err(), Some(EBUSY));
            assert_eq!(LAST_DROPPED.load(Ordering::Relaxed), 2);
        }
        Ok(())
    }

    /// `->iomap_begin` and `->iomap_end` get an iomap inside a real `struct iomap_iter` of
    /// the read, with the caller's `private` (erofs' `container_of()`), and a declined read
    /// hands the generic path an untouched request.
    #[test]
    fn begin_gets_a_real_iomap_iter() -> Result {
        // SAFETY: All-zero inodes, files and kiocbs are valid enough for what the read
        // touches: `i_dio_count` (an atomic), `f_inode`, `ki_filp`, `ki_pos`, `ki_flags`.
        let mut inode: KBox<bindings::inode> =
            KBox::new(unsafe { core::mem::zeroed() }, GFP_KERNEL)?;
        // SAFETY: As above.
        let mut file: KBox<bindings::file> = KBox::new(unsafe { core::mem::zeroed() }, GFP_KERNEL)?;
        // SAFETY: As above.
        let mut kiocb: KBox<bindings::kiocb> =
            KBox::new(unsafe { core::mem::zeroed() }, GFP_KERNEL)?;
        let inode_ptr: *mut bindings::inode = &mut *inode;
        file.f_inode = inode_ptr;
        kiocb.ki_filp = &mut *file;
        kiocb.ki_pos = POS;
        let mut buf = KVec::<u8>::with_capacity(LEN, GFP_KERNEL)?;
        let kvec = bindings::kvec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: LEN,
        };
        // SAFETY: All-zero is a valid `struct iov_iter` to initialise.
        let mut iter: bindings::iov_iter = unsafe { core::mem::zeroed() };
        // SAFETY: `iter` and `kvec` are valid; the buffer has `LEN` bytes.
        unsafe { bindings::iov_iter_kvec(&mut iter, bindings::ITER_DEST, &kvec, 1, LEN) };

        let path = MapThenDecline {
            declined: AtomicUsize::new(0),
        };
        BEGIN_OK.store(0, Ordering::Relaxed);
        END_OK.store(0, Ordering::Relaxed);
        END_WRITTEN.store(-1, Ordering::Relaxed);
        // SAFETY: The arguments are those a read of `LEN` bytes at `POS` would get.
        let ret = unsafe {
            Vtable::<MapThenDecline>::offer(
                core::ptr::from_ref(&path).cast_mut().cast(),
                &mut *kiocb,
                &mut iter,
                &TEST_OPS,
                core::ptr::without_provenance_mut::<c_void>(PRIVATE),
                0,
            )
        };
        assert_eq!(ret, None);
        assert_eq!(path.declined.load(Ordering::Relaxed), 1);
        assert_eq!(BEGIN_OK.load(Ordering::Relaxed), 1);
        assert_eq!(END_OK.load(Ordering::Relaxed), 1);
        assert_eq!(END_WRITTEN.load(Ordering::Relaxed), 0);
        // Untouched for the generic path: position, length, and no dio count left behind.
        assert_eq!(kiocb.ki_pos, POS);
        // SAFETY: `iter` is a valid `ITER_DEST` iterator, used through this reference only.
        assert_eq!(unsafe { IovIterDest::from_raw(&mut iter) }.len(), LEN);
        // SAFETY: The inode is valid.
        assert_eq!(unsafe { bindings::atomic_read(&inode.i_dio_count) }, 0);
        Ok(())
    }
}

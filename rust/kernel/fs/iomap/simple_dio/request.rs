// SPDX-License-Identifier: GPL-2.0

//! A request the hook offers a path ([`Offered`]), mapped ([`Mapped`]), and what the path made
//! of it ([`Outcome`], [`Served`]): a read or a write, as its [`Direction`] says.

#[cfg(doc)]
use super::SimpleDio;
use super::{
    bio::{DioBio, DioBioSet, DioRequest, FilledBio, SyncBioStorage},
    completion::Completed,
    direction::{Direction, Read, Write},
};
use crate::{
    bindings,
    block::{
        bdev::BlockDevice,
        bio::{BioIter, ReqFlags},
    },
    error::{code::*, to_result, Result},
    ffi::c_void,
    fs::{
        inode::Inode,
        iomap::{Iomap, IomapOps, NotOneExtent},
        AnyPrivate, Kiocb,
    },
    page::PAGE_SIZE,
    prelude::*,
    types::Opaque,
};
use core::{cell::Cell, marker::PhantomData, mem::MaybeUninit, ptr::NonNull};

/// A read offered to a simple path.
pub type OfferedRead<'a, D> = Offered<'a, D, Read>;
/// A write offered to a simple path.
pub type OfferedWrite<'a, D> = Offered<'a, D, Write>;
/// A mapped read.
pub type MappedRead<'a, D> = Mapped<'a, D, Read>;
/// A mapped write.
pub type MappedWrite<'a, D> = Mapped<'a, D, Write>;

/// Proof that request `'a` was submitted: [`Mapped::submit`] alone creates it.
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
    /// with), or `None` for an asynchronous one, which [`SimpleDio::end_io`] sees end.
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

/// Why the mechanism declines a request: the generic path would do with it something that one
/// bio straight between the buffer and the device does not. Declined, the request goes to the
/// generic path as if it had never been offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decline {
    /// Zero bytes asked for: `iomap_iter()` never maps an empty range.
    Empty,
    /// `IOMAP_DIO_FORCE_WAIT` (waited for whatever the kiocb), `IOMAP_DIO_PARTIAL` (may end
    /// short at a fault) or `IOMAP_DIO_BOUNCE` (read through a bounce buffer); or a write
    /// whose file system submits or allocates its bios itself (`->submit_io`, `->bio_set`).
    DioFlags,
    /// The read reaches past `i_size`: the generic path ends it short, at the end of the file.
    BeyondEof,
    /// The file is encrypted: its bio would need the file's fscrypt context.
    Encrypted,
    /// The file system maps with `->iomap_next` only.
    NoIomapBegin,
    /// The mapping is not one written extent over the whole read.
    NotOneExtent(NotOneExtent),
    /// Only part of the buffer fits one bio (a buffer of many segments, say).
    PinShort,
    /// A write that must be atomic (`IOCB_ATOMIC`) or carries integrity metadata
    /// (`IOCB_HAS_METADATA`).
    Atomic,
    /// A write that ends inside the last block of the file: the generic path zeroes the rest
    /// of that block.
    EofTail,
    /// A write to a mapping that needs stable pages during writeback (`mapping_stable_writes()`):
    /// XFS bounces the buffer.
    StableWrites,
    /// A write over pages in the page cache: the generic path writes them back and
    /// invalidates them first, and writes buffered if that fails.
    PagesCached,
    /// A write to a mapping with a writeback error latched (`AS_EIO`, `AS_ENOSPC`), which the
    /// generic path consumes before it writes.
    WritebackError,
    /// A write that is not a pure overwrite of written blocks: the file system refused to map
    /// it without allocating (`IOMAP_OVERWRITE_ONLY`), or the mapping is new, shared (COW),
    /// atomic or anonymous.
    NotOverwrite,
}

impl From<NotOneExtent> for Decline {
    #[inline]
    fn from(why: NotOneExtent) -> Self {
        Decline::NotOneExtent(why)
    }
}

/// The tests [`Offered::map`] makes of a read before anything is done for it, each once:
/// `len` bytes at `pos` of a file of `i_size` bytes, with `iomap_dio_rw()` flags `dio_flags`.
#[inline(always)]
pub(super) fn check_offer(
    len: usize,
    pos: i64,
    i_size: i64,
    dio_flags: u32,
    encrypted: bool,
) -> Result<(), Decline> {
    if len == 0 {
        return Err(Decline::Empty);
    }
    let declined =
        bindings::IOMAP_DIO_FORCE_WAIT | bindings::IOMAP_DIO_PARTIAL | bindings::IOMAP_DIO_BOUNCE;
    if dio_flags & declined != 0 {
        return Err(Decline::DioFlags);
    }
    // A request's length fits `i64` (`MAX_RW_COUNT`); a position past `i64::MAX - len` is past
    // any `i_size`.
    let end = pos.checked_add(len as i64);
    if pos < 0 || end.is_none_or(|end| end > i_size) {
        return Err(Decline::BeyondEof);
    }
    if encrypted {
        return Err(Decline::Encrypted);
    }
    Ok(())
}

/// The alignment a direct read of a file needs, as `iomap_dio_alignment()` computes it: the
/// file system block with `IOMAP_DIO_FSBLOCK_ALIGNED`, otherwise the device's logical block.
/// Each size is read only when it is the one asked for.
#[inline(always)]
pub(super) fn dio_alignment(
    dio_flags: u32,
    block_size: impl FnOnce() -> u32,
    logical_block_size: impl FnOnce() -> u32,
) -> u32 {
    if dio_flags & bindings::IOMAP_DIO_FSBLOCK_ALIGNED != 0 {
        block_size()
    } else {
        logical_block_size()
    }
}

/// Returns whether `pos` and `len` are multiples of `alignment` (a power of two).
#[inline(always)]
pub(super) fn is_aligned(pos: i64, len: usize, alignment: u32) -> bool {
    ((pos as u64) | len as u64) & (u64::from(alignment) - 1) == 0
}

/// Zeroes `*p` a word at a time.
///
/// For the mapping state, which `iomap_iter()` zeroes before each mapping call: a `memset()`
/// would be a call and, on x86, a `rep stosb`, whose start-up costs more than these stores
/// for a value this small (and which QEMU's `-icount` counts a byte at a time). The stores
/// are volatile only so that the compiler does not merge them back into that call.
///
/// # Safety
///
/// `p` must be valid for writes and aligned; all-zero must be a valid `T` for the caller to
/// use `*p` after. (`T` must be made of whole words: its size and alignment are checked when
/// this is compiled.)
#[inline(always)]
unsafe fn zero_words<T>(p: *mut T) {
    const {
        assert!(size_of::<T>() % size_of::<usize>() == 0);
        assert!(align_of::<T>() >= align_of::<usize>());
    };
    let words = p.cast::<usize>();
    for i in 0..size_of::<T>() / size_of::<usize>() {
        // SAFETY: Word `i` of `*p`, which the caller lets us write; `p` is aligned to `T`,
        // and so to `usize`.
        unsafe { words.add(i).write_volatile(0) };
    }
}

/// What the hook's trampoline keeps of a request while the path has it: the mapping state and
/// what is left to undo when the path returns.
///
/// # Invariants
///
/// `it` is initialised once [`Offered::map`] has started: whenever `mapped` is set, and for
/// as long as a [`MappedRead`] of the read exists.
pub(super) struct IoState {
    /// The mapping state, as `iomap_iter()` keeps it: `->iomap_begin` may `container_of()`
    /// its iomap into a `struct iomap_iter`, and read `private` from it. Set up by `map`:
    /// a read the path declines before mapping does not pay for zeroing it.
    pub(super) it: MaybeUninit<bindings::iomap_iter>,
    /// The caller's `private`, for `it`.
    pub(super) private: *mut c_void,
    /// The file system's completion operations (of a write; null for a read).
    pub(super) dops: *const bindings::iomap_dio_ops,
    /// The iterator's length when the read was offered.
    pub(super) len: usize,
    /// `->iomap_begin` succeeded and `->iomap_end` is still due.
    pub(super) mapped: bool,
    /// The read holds an `inode_dio_begin()` count (the bio's, once submitted).
    pub(super) dio_counted: bool,
    /// A bio for the whole read was submitted: the iterator stays advanced.
    pub(super) submitted: bool,
    /// It was submitted asynchronously: the read returns `-EIOCBQUEUED`.
    pub(super) queued: bool,
}

impl IoState {
    /// Returns the mapping state.
    ///
    /// # Safety
    ///
    /// `it` must be initialised: `mapped` is set, or a [`MappedRead`] of the read exists.
    #[inline(always)]
    pub(super) unsafe fn it(&mut self) -> &mut bindings::iomap_iter {
        // SAFETY: Initialised, by the caller's guarantee.
        unsafe { self.it.assume_init_mut() }
    }
}

/// The tests a write needs beyond [`check_offer`], before anything is done for it: `len`
/// bytes at `pos` of a file of `i_size` bytes and `block_size` bytes a block, with `ki_flags`;
/// `mapping` is the file's page cache.
///
/// # Safety
///
/// `mapping` must be valid.
#[inline(always)]
pub(super) unsafe fn check_write_offer(
    ki_flags: i32,
    pos: i64,
    len: usize,
    i_size: i64,
    block_size: u32,
    mapping: *mut bindings::address_space,
) -> Result<(), Decline> {
    if ki_flags & (bindings::IOCB_ATOMIC | bindings::IOCB_HAS_METADATA as i32) != 0 {
        return Err(Decline::Atomic);
    }
    // `check_offer` found `pos + len <= i_size`; a write that ends at an `i_size` inside a
    // block leaves the rest of that block to zero.
    let end = pos + len as i64;
    if end == i_size && end & (i64::from(block_size) - 1) != 0 {
        return Err(Decline::EofTail);
    }
    // SAFETY: The mapping is valid (the caller's guarantee); its flags are atomic bits.
    let flags = unsafe { core::ptr::addr_of!((*mapping).flags).read_volatile() };
    let latched = (1 << bindings::mapping_flags_AS_EIO) | (1 << bindings::mapping_flags_AS_ENOSPC);
    if flags & latched != 0 {
        return Err(Decline::WritebackError);
    }
    // `mapping_stable_writes()`: a bit of the same word, read once above.
    if flags & (1 << bindings::mapping_flags_AS_STABLE_WRITES) != 0 {
        return Err(Decline::StableWrites);
    }
    // SAFETY: As above; `nrpages` is read locklessly, as `kiocb_invalidate_post_direct_write()`
    // reads it. A page cached after the test is invalidated after the write, as the generic
    // path does for a page cached after its own invalidation.
    let nrpages = unsafe { core::ptr::addr_of!((*mapping).nrpages).read_volatile() };
    // SAFETY: As above; the range is the write's, which is not empty.
    if nrpages != 0 && unsafe { bindings::filemap_range_has_page(mapping, pos, end - 1) } {
        return Err(Decline::PagesCached);
    }
    Ok(())
}

/// A request offered to a simple path by the hook, not mapped yet: a read or a write, as `Dir`
/// says ([`OfferedRead`], [`OfferedWrite`]).
///
/// The path gets it by value and gives it up to map the request ([`Offered::map`]) and then to
/// submit it ([`Mapped::submit`]), or drops it to decline or fail: once the request is
/// submitted, the path has no handle left to a request that may have completed already.
///
/// `D` is the registered path's [`SimpleDio::Data`]: its completion takes the bio back as a
/// bio with a `DioRequest<D>` in front of it, so only a bio the request made for itself
/// ([`Extent::alloc_bio`]: of a `DioBioSet<D>`, or of the hook's stack) can be submitted.
///
/// # Invariants
///
/// `kiocb`, `iter`, `inode`, `ops` and `state` are those of a request in progress (an
/// `iomap_dio_rw()` call, or an `iomap_dio_read_simple()` or `iomap_dio_write_simple()` call
/// with `ops` on the hook's stack), valid for `'a`; `iter` is of `Dir`'s direction;
/// `state.dops` is the file system's completion operations of a write, or null; `sync_ret`
/// points to the trampoline's result slot; `D` is the data type of the path whose trampoline
/// created it. `storage` is `None` unless the kiocb is synchronous; while it is `Some`, no bio
/// was made in it.
pub struct Offered<'a, D, Dir: Direction> {
    pub(super) kiocb: Kiocb<'a, AnyPrivate>,
    pub(super) iter: &'a mut Dir::Iter<'a>,
    pub(super) inode: &'a Inode,
    pub(super) ops: &'a IomapOps,
    pub(super) dio_flags: u32,
    pub(super) state: &'a mut IoState,
    pub(super) sync_ret: *const Cell<isize>,
    /// Room on the trampoline's stack for the bio of a synchronous request, taken by the first
    /// bio that fits it.
    pub(super) storage: Cell<Option<&'a mut SyncBioStorage<D>>>,
    pub(super) _data: PhantomData<fn(D) -> D>,
}

impl<'a, D, Dir: Direction> Offered<'a, D, Dir> {
    /// Returns the I/O control block of the request.
    #[inline]
    pub fn kiocb(&self) -> &Kiocb<'a, AnyPrivate> {
        &self.kiocb
    }

    /// Returns the inode of the file.
    #[inline]
    pub fn inode(&self) -> &Inode {
        self.inode
    }

    /// Returns the file position of the request.
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

    /// Returns the `iomap_dio_rw()` flags ([`dio_flags`]; none from `iomap_dio_read_simple()`
    /// or `iomap_dio_write_simple()`).
    #[inline]
    pub fn dio_flags(&self) -> u32 {
        self.dio_flags
    }

    /// Returns whether the request must not block (`IOCB_NOWAIT`).
    #[inline]
    pub fn nowait(&self) -> bool {
        self.kiocb.is_nowait()
    }

    /// Returns whether the buffer is user memory (its pages are pinned, and for a read, must
    /// be dirtied).
    #[inline]
    pub fn user_backed(&self) -> bool {
        self.iter.user_backed()
    }

    /// Returns the file's page cache.
    #[inline(always)]
    fn mapping(&self) -> *mut bindings::address_space {
        // SAFETY: The kiocb is valid (type invariant) and its file open.
        unsafe { (*(*self.kiocb.as_raw()).ki_filp).f_mapping }
    }

    /// Writes back and waits for dirty page cache over the range read.
    ///
    /// With `IOCB_NOWAIT` it fails with `EAGAIN` instead of waiting. Only before mapping:
    /// writeback afterwards (COW on XFS) could move the blocks the mapping names.
    #[inline(always)]
    fn write_and_wait(&self) -> Result {
        // SAFETY: The kiocb is valid (type invariant).
        to_result(unsafe { bindings::kiocb_write_and_wait(self.kiocb.as_raw(), self.state.len) })
    }

    /// Maps the range with `->iomap_begin`, or declines the request.
    ///
    /// It declines, before doing anything for it, a request that is empty, asks for
    /// `IOMAP_DIO_FORCE_WAIT`, `IOMAP_DIO_PARTIAL` or `IOMAP_DIO_BOUNCE`, reaches past the end
    /// of the file, is of an encrypted file, or is of a file system without `->iomap_begin`
    /// ([`Decline`]); and a write that must be atomic, ends inside the file's last block, goes
    /// to a mapping with stable writes or a latched writeback error, or over cached pages.
    ///
    /// For a read it then writes back and waits for the page cache over the range (`EAGAIN`
    /// under `IOCB_NOWAIT`). For an asynchronous request it makes sure the super block's
    /// completion workqueue exists. It counts the request in `inode_dio_begin()`, as
    /// `__iomap_dio_rw()` does, and hands the file system a `struct iomap_iter` set up as
    /// `iomap_iter()` would (inode, position, length, `IOMAP_DIRECT` and `IOMAP_NOWAIT`
    /// flags, the caller's `private`), with `IOMAP_WRITE | IOMAP_OVERWRITE_ONLY` for a write,
    /// which a file system that would have to allocate refuses with `EAGAIN`: that declines
    /// the write ([`Decline::NotOverwrite`]).
    /// The mapping is finished with `->iomap_end` when the request is submitted or given up.
    /// Fails with the error of the writeback, of creating the workqueue, or of the file
    /// system. From the mapping on, an error the request returns is traced and reported
    /// (fserror) as the generic path reports an error of its mapping loop.
    // Once per request, from one caller: inlined, not a call in the path.
    #[inline(always)]
    pub fn map(self) -> Result<Result<Mapped<'a, D, Dir>, Decline>> {
        // Read once (`i_size_read()`): both tests must see the same size.
        let i_size = self.inode.size();
        if let Err(why) = check_offer(
            self.state.len,
            self.pos(),
            i_size,
            self.dio_flags,
            self.inode.is_encrypted(),
        ) {
            return Ok(Err(why));
        }
        let Some(begin) = self.ops.ops().iomap_begin else {
            return Ok(Err(Decline::NoIomapBegin));
        };
        if Dir::WRITE {
            // SAFETY: `dops` is null or the file system's operations, valid while its file is
            // open (type invariant).
            if let Some(dops) = unsafe { self.state.dops.as_ref() } {
                // A file system that submits or allocates its bios itself gets its write done
                // its way.
                if dops.submit_io.is_some() || !dops.bio_set.is_null() {
                    return Ok(Err(Decline::DioFlags));
                }
            }
            // SAFETY: The kiocb is valid (type invariant); the mapping is its file's.
            let checked = unsafe {
                check_write_offer(
                    (*self.kiocb.as_raw()).ki_flags,
                    self.pos(),
                    self.state.len,
                    i_size,
                    self.inode.block_size(),
                    self.mapping(),
                )
            };
            if let Err(why) = checked {
                return Ok(Err(why));
            }
        } else {
            self.write_and_wait()?;
        }
        let pos = self.pos();
        let nowait = self.nowait();
        if !self.kiocb.is_sync() {
            // An asynchronous request may complete from this workqueue: it must exist before
            // the bio can complete. `__iomap_dio_rw()` creates it at the same point, before
            // `inode_dio_begin()`.
            self.inode.super_block().init_dio_done_wq()?;
        }
        let st = &mut *self.state;
        // SAFETY: The inode is valid (type invariant); the trampoline or the bio's completion
        // ends the count.
        unsafe { bindings::inode_dio_begin(self.inode.as_raw()) };
        st.dio_counted = true;
        let it = st.it.as_mut_ptr();
        // SAFETY: `it` is ours to write and aligned; all-zero is a valid `struct iomap_iter`.
        unsafe { zero_words(it) };
        // INVARIANT: `it` is initialised from here on.
        // SAFETY: All-zero is a valid `struct iomap_iter` (no mapping, null pointers), and it
        // was zeroed just above.
        let it = unsafe { &mut *it };
        it.inode = self.inode.as_raw();
        it.private = st.private;
        it.pos = pos;
        it.iter_start_pos = pos;
        it.len = st.len as u64;
        it.flags = bindings::IOMAP_DIRECT | if nowait { bindings::IOMAP_NOWAIT } else { 0 };
        if Dir::WRITE {
            it.flags |= bindings::IOMAP_WRITE | bindings::IOMAP_OVERWRITE_ONLY;
        }
        // SAFETY: The inode is valid and `it` is this request's `struct iomap_iter`, with
        // zeroed iomap and srcmap, which stays where it is until the request returns; the
        // length is at most a request's, which fits `loff_t`.
        let ret = unsafe {
            begin(
                it.inode,
                it.pos,
                it.len as i64,
                it.flags,
                &mut it.iomap,
                &mut it.srcmap,
            )
        };
        if Dir::WRITE && ret == EAGAIN.to_errno() {
            // Not an overwrite (or, under `IOMAP_NOWAIT`, a lock it would wait for): the
            // generic path maps it again without `IOMAP_OVERWRITE_ONLY`, and fails it with
            // `EAGAIN` itself where it must.
            return Ok(Err(Decline::NotOverwrite));
        }
        to_result(ret)?;
        st.mapped = true;
        // INVARIANT: `map` initialised `it` above.
        Ok(Ok(Mapped { req: self }))
    }
}

/// A request whose range is mapped: it can get its bio and be submitted.
///
/// # Invariants
///
/// `req.state.it` is initialised.
pub struct Mapped<'a, D, Dir: Direction> {
    req: Offered<'a, D, Dir>,
}

impl<'a, D, Dir: Direction> core::ops::Deref for Mapped<'a, D, Dir> {
    type Target = Offered<'a, D, Dir>;

    #[inline]
    fn deref(&self) -> &Offered<'a, D, Dir> {
        &self.req
    }
}

impl<'a, D: Send + 'static, Dir: Direction> Mapped<'a, D, Dir> {
    /// Returns the mapping `->iomap_begin` gave.
    #[inline]
    pub fn iomap(&self) -> Iomap<'_> {
        // SAFETY: `it` is initialised (type invariant).
        let it = unsafe { self.req.state.it.assume_init_ref() };
        // SAFETY: `->iomap_begin` filled the mapping in for this request of one of the file
        // system's files, whose device stays valid while the request is in progress.
        unsafe { Iomap::from_raw(&it.iomap) }
    }

    /// Returns the mapping as one extent one bio can serve the whole request from, or why it
    /// is not ([`Iomap::one_extent`]; for a write, also [`Decline::NotOverwrite`]): the only
    /// way to the request's bio.
    // Once per request, from one caller: inlined, not a call in the path.
    #[inline(always)]
    pub fn extent(&self) -> Result<Extent<'_, 'a, D, Dir>, Decline> {
        let map = self.iomap();
        let pos = self.req.pos();
        let bdev = map.one_extent(pos, self.req.state.len as u64)?;
        let not_overwrite = bindings::IOMAP_F_NEW
            | bindings::IOMAP_F_SHARED
            | bindings::IOMAP_F_ATOMIC_BIO
            | bindings::IOMAP_F_ANON_WRITE;
        if Dir::WRITE && u32::from(map.flags()) & not_overwrite != 0 {
            return Err(Decline::NotOverwrite);
        }
        // SAFETY: The mapping's device is the file system's, or its realtime device: it stays
        // valid while a request of one of its files is in progress, for `'a` (the caller holds
        // the file open).
        let bdev: &'a BlockDevice = unsafe { BlockDevice::from_raw(bdev.as_raw()) };
        let alignment = dio_alignment(
            self.req.dio_flags,
            || self.req.inode.block_size(),
            || bdev.logical_block_size(),
        );
        // A write is durable when its bio completes if it is `REQ_FUA`, which a dsync write
        // without `IOCB_SYNC` can be when no metadata needs a sync (`IOMAP_F_DIRTY`) and the
        // device either has no volatile cache or honours FUA: `__iomap_dio_rw()`'s
        // `IOMAP_DIO_WRITE_THROUGH`. Any other dsync write syncs after it.
        let (fua, need_sync) = if Dir::WRITE {
            let kiocb = self.req.kiocb.as_raw();
            // SAFETY: The kiocb is valid (invariant of `Offered`).
            let (dsync, sync) = unsafe {
                (
                    bindings::iocb_is_dsync(kiocb),
                    (*kiocb).ki_flags & bindings::IOCB_SYNC != 0,
                )
            };
            let fua = dsync
                && !sync
                && u32::from(map.flags()) & bindings::IOMAP_F_DIRTY == 0
                && (!bdev.write_cache() || bdev.fua());
            (fua, dsync && !fua)
        } else {
            (false, false)
        };
        // INVARIANT: `one_extent` found that one bio serves the whole request from `bdev`; the
        // alignment is `iomap_dio_alignment()`'s.
        Ok(Extent {
            req: self,
            bdev,
            sector: map.sector(pos),
            alignment,
            fua,
            need_sync,
        })
    }

    /// Pins the whole buffer into `bio`; every segment length must be a multiple of the
    /// request's alignment (`iomap_dio_alignment()`).
    ///
    /// Pages of user memory a read goes into are marked dirty as well, as a direct-I/O read
    /// needs (see [`Bio::add_iter_pages`]). Declines the request ([`Decline::PinShort`]), with
    /// the bio dropped and the iterator as it was, if only part of the buffer fit. Fails with
    /// `EFAULT` for unmapped user memory and `EINVAL` for misaligned segments.
    ///
    /// [`Bio::add_iter_pages`]: crate::block::bio::Bio::add_iter_pages
    // Once per request, from one caller: inlined, not a call in the path.
    #[inline(always)]
    pub fn fill_bio(
        &mut self,
        mut bio: DioBio<'a, D, Dir>,
    ) -> Result<Result<FilledBio<'a, D, Dir>, Decline>> {
        let req = &mut self.req;
        bio.bio.add_iter_pages(&mut *req.iter, bio.len_align_mask)?;
        let got = bio.size() as usize;
        if got != req.state.len || got == 0 {
            // Dropping the bio unpins what it holds.
            drop(bio);
            // SAFETY: `add_iter_pages` advanced the iterator by exactly `got` bytes.
            unsafe { req.iter.go_back(got) };
            return Ok(Err(Decline::PinShort));
        }
        // INVARIANT: The bio holds the whole buffer of this request, which is not empty.
        Ok(Ok(FilledBio(bio)))
    }

    /// Submits the request's bio, which holds the whole buffer.
    ///
    /// `->iomap_end` runs first (as in the v5 series' `iomap_dio_simple()`), then a synchronous
    /// request is waited for and completed here, and an asynchronous one completes through
    /// [`SimpleDio::end_io`]; the request then returns `-EIOCBQUEUED`. An `IOCB_HIPRI`
    /// request is submitted for polling. A write is accounted to the task
    /// (`task_io_account_write()`), as the generic path accounts it.
    // Once per request, from one caller: inlined, not a call in the path.
    #[inline(always)]
    pub fn submit(self, bio: FilledBio<'a, D, Dir>) -> Served<'a> {
        let req = self.req;
        // The bio holds the whole buffer (invariant of `FilledBio`): `len` bytes.
        let len = req.state.len;
        let mut bio = bio.0.bio;
        let sync = req.kiocb.is_sync();
        // INVARIANT: The bytes the bio transfers.
        bio.data_mut().len = bio.size();
        let kiocb = req.kiocb.as_raw();
        let iter = req.iter.raw();
        let st = req.state;
        if let Some(end) = req.ops.ops().iomap_end {
            // SAFETY: A `Mapped` existed until now: `it` is initialised.
            let it = unsafe { st.it() };
            // SAFETY: The end call of this request's successful `->iomap_begin`, with what
            // `iomap_iter()` would pass; nothing of the request is touched after submission.
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
        if Dir::WRITE {
            // SAFETY: Accounts the current task, which submits the write.
            unsafe { bindings::task_io_account_write(len) };
        }
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
            // SAFETY: The bio was submitted for this request and is done; this thread sleeps.
            let done = unsafe { Completed::new(bio) };
            // A write's completion inline: the direction is known here, not where `complete`
            // is shared with the deferred completions.
            let res = if Dir::WRITE {
                // SAFETY: Process context, as above; a write (`alloc_bio` made the bio of a
                // `Dir::WRITE` request a write's).
                unsafe { done.complete_sync_write() }
            } else {
                // SAFETY: Process context, as above.
                unsafe { done.complete() }
            };
            return Served {
                result: Some(res),
                _read: PhantomData,
            };
        }
        if req.kiocb.is_hipri() {
            bio.set_polled();
            bio.data_mut().polled = true;
            // SAFETY: The kiocb is valid; io_uring reads `private` concurrently, hence the
            // volatile write (`WRITE_ONCE`). The completion clears it before freeing the bio.
            unsafe {
                core::ptr::addr_of_mut!((*kiocb).private).write_volatile(bio.as_raw().cast())
            };
        }
        st.queued = true;
        // SAFETY: The bio is valid.
        debug_assert!(!unsafe { (*bio.as_raw()).bi_pool }.is_null());
        // SAFETY: The bio is complete and ours, and of the path's set: the bio of an
        // asynchronous request is not in the hook's storage (invariant of `DioBio`). Its
        // ownership passes to the block layer, which hands it to the hook's end_io trampoline
        // and from there to `Vtable::end_io`. Once it is submitted no borrow keeps its set: the
        // set outlives the `'a` that `SimpleDio::read` or `SimpleDio::write` is called for,
        // which only the registered context (or a `'static` set) does, and
        // `Registration::drop` waits for this bio's SRCU read section, taken by the hook here
        // and ended after `->end_io`, before dropping it. The kiocb and iterator are valid, the
        // iterator advanced by the `len` bytes in the bio.
        unsafe {
            bindings::iomap_simple_dio_submit(bio.into_raw(), kiocb, iter, len, req.dio_flags)
        };
        Served {
            result: None,
            _read: PhantomData,
        }
    }
}

/// The mapping of a mapped request, found to be one extent that one bio serves the whole
/// request from ([`Mapped::extent`]).
///
/// # Invariants
///
/// `bdev` is the block device of `req`'s mapping, which is one written extent without
/// integrity metadata over the whole request (for a write, neither new, shared, atomic nor
/// anonymous); `sector` is where the request starts on it; `alignment` is what
/// `iomap_dio_alignment()` asks of the request (a power of two). `fua` and `need_sync` are
/// false for a read; for a write, `fua` is whether its bio is `REQ_FUA` and `need_sync`
/// whether it is a dsync write that must be synced after it.
pub struct Extent<'r, 'a, D, Dir: Direction> {
    req: &'r Mapped<'a, D, Dir>,
    bdev: &'a BlockDevice,
    sector: u64,
    alignment: u32,
    fua: bool,
    need_sync: bool,
}

impl<'r, 'a, D: Send + 'static, Dir: Direction> Extent<'r, 'a, D, Dir> {
    /// Returns the block device the request's bio goes to, while the extent is borrowed: once
    /// the request is submitted, it may complete and its file system go.
    #[inline]
    pub fn bdev(&self) -> &BlockDevice {
        self.bdev
    }

    /// Returns the alignment the request needs, as `iomap_dio_alignment()` computes it.
    #[inline]
    pub fn alignment(&self) -> u32 {
        self.alignment
    }

    /// Returns whether the write's bio is `REQ_FUA`: durable when it completes, without a
    /// later sync. False for a read.
    #[inline]
    pub fn fua(&self) -> bool {
        self.fua
    }

    /// Allocates the request's bio from `set`, carrying `data`; the bio of a synchronous request
    /// whose pages fit the hook's stack storage is made there instead, without an allocation,
    /// as `__blkdev_direct_IO_simple()` keeps its bio.
    ///
    /// A request whose position or length is not a multiple of [`Extent::alignment`] fails
    /// with `EINVAL` first, as the generic path fails it (and `EINVAL` means that alone here).
    /// The bio goes to the extent's device, at the sector of the request's position, with the
    /// kiocb's priority and room for the buffer's pages; a write's bio is
    /// `REQ_SYNC | REQ_IDLE` (and `REQ_FUA` where [`Extent::fua`]) with the inode's write
    /// hint, as the generic path's. For an `IOCB_NOWAIT` read the allocation does not sleep
    /// (`EAGAIN` if it would). No `REQ_NOWAIT`: see the module documentation.
    // Once per request, from one caller: inlined, not a call in the path.
    #[inline(always)]
    pub fn alloc_bio(self, set: &'a DioBioSet<D>, data: D) -> Result<DioBio<'a, D, Dir>> {
        let req = &self.req.req;
        if !is_aligned(req.pos(), req.state.len, self.alignment) {
            return Err(EINVAL);
        }
        // A read does not sleep for its bio under `IOCB_NOWAIT` (`EAGAIN` instead, as
        // upstream's C path); a write allocates as the generic path does, which never fails
        // a write for that.
        let gfp = if req.nowait() && !Dir::WRITE {
            GFP_NOWAIT
        } else {
            GFP_KERNEL
        };
        // `bio_iov_vecs_to_alloc()`: a bvec iterator's pages are used in place, without
        // vectors of the bio's own; `iov_iter_npages()` counts the pages of the others.
        let nr_vecs = if let Some((start, count)) = req.iter.single_ubuf() {
            // What `iov_iter_npages()` computes for a single user buffer (`read()`, io_uring):
            // the pages it spans. Inline, where the call cost more than the sum. The request
            // is not empty (`map` declines that); a sum past `usize::MAX` asks for the most
            // vectors a bio takes, and `fill_bio` declines what does not fit.
            let span = (start % PAGE_SIZE).saturating_add(count);
            // At most `BIO_MAX_VECS`: the cast is lossless.
            span.div_ceil(PAGE_SIZE)
                .min(bindings::BIO_MAX_VECS as usize) as i32
        } else if req.iter.bvec() {
            0
        } else {
            req.iter.pages(bindings::BIO_MAX_VECS as i32)
        };
        // In `0..=BIO_MAX_VECS`; anything else would fit no bio, and the allocation would fail.
        let nr_vecs = u16::try_from(nr_vecs).unwrap_or(u16::MAX);
        // SAFETY: References are never null.
        let (kiocb, inode) = unsafe {
            (
                NonNull::new_unchecked(req.kiocb.as_raw()),
                NonNull::new_unchecked(req.inode.as_raw()),
            )
        };
        let end_io = if Dir::WRITE {
            // SAFETY: `dops` is null or the file system's operations, valid while its file is
            // open (invariant of `Offered`).
            unsafe { req.state.dops.as_ref() }.and_then(|dops| dops.end_io)
        } else {
            None
        };
        let dio = DioRequest {
            kiocb,
            inode,
            sync_ret: core::ptr::null(),
            end_io,
            len: 0,
            polled: false,
            // A read's user pages are dirtied again when it ends; a write's never are.
            user_backed: !Dir::WRITE && req.user_backed(),
            write: Dir::WRITE,
            need_sync: self.need_sync,
            work: Opaque::uninit(),
            data,
        };
        // A synchronous request's bio goes on the hook's stack where its vectors fit, as
        // `__blkdev_direct_IO_simple()` keeps its own: no allocation, and no free.
        let room = if nr_vecs <= SyncBioStorage::<D>::MAX_VECS {
            req.storage.take()
        } else {
            None
        };
        // INVARIANT: Only a synchronous request's bio is made in the storage (invariant of
        // `Offered`).
        let mut bio = match room {
            Some(room) => room.init(self.bdev, Dir::OP, nr_vecs, dio)?,
            None => set.alloc(self.bdev, Dir::OP, nr_vecs, gfp, dio)?,
        };
        bio.set_sector(self.sector);
        // A kiocb's priority was checked where it was set (`ioprio_check_cap()`).
        bio.set_ioprio(req.kiocb.ki_ioprio())?;
        if Dir::WRITE {
            let flags = ReqFlags::SYNC | ReqFlags::IDLE;
            // A write's bio may carry `REQ_FUA`.
            bio.set_flags(if self.fua {
                flags | ReqFlags::FUA
            } else {
                flags
            })?;
            // SAFETY: We own the bio, which is not submitted; the inode is valid.
            unsafe { (*bio.as_raw()).bi_write_hint = (*inode.as_ptr()).i_write_hint };
        }
        // INVARIANT: The alignment is `iomap_dio_alignment()`'s, and the request meets it.
        Ok(DioBio {
            bio,
            len_align_mask: self.alignment - 1,
            _req: PhantomData,
        })
    }
}

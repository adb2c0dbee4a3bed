// SPDX-License-Identifier: GPL-2.0

//! Direct I/O over iomap: I/O control blocks, inodes, file mappings, and the hook that
//! lets a simple read path serve `iomap_dio_rw()`.
//!
//! C headers: [`include/linux/iomap.h`](srctree/include/linux/iomap.h),
//! [`include/linux/iomap-simple-dio.h`](srctree/include/linux/iomap-simple-dio.h),
//! [`include/linux/fs.h`](srctree/include/linux/fs.h)

use crate::{
    bindings,
    block::bio::{Bio, BlockDevice},
    error::{to_result, Error, Result},
    ffi::c_void,
    iov::IovIterDest,
    types::Opaque,
};
use core::{marker::PhantomData, ptr::NonNull};

/// `ki_flags` bit: the request must not block (`RWF_NOWAIT`, io_uring inline issue).
pub const IOCB_NOWAIT: u32 = bindings::IOCB_NOWAIT as u32;
/// `ki_flags` bit: the request will be polled for completion (`RWF_HIPRI`, IOPOLL).
pub const IOCB_HIPRI: u32 = bindings::IOCB_HIPRI as u32;

/// The I/O control block (`struct kiocb`) of a request in progress.
///
/// It is not tied to a lifetime because an asynchronous request outlives the call that
/// started it; it ends when [`Iocb::complete`] hands the result to the submitter.
///
/// # Invariants
///
/// `ptr` points to a valid `struct kiocb` that stays valid until the request completes:
/// the read call returns for a synchronous request, or `complete` runs for another one.
pub struct Iocb {
    ptr: NonNull<bindings::kiocb>,
}

// SAFETY: The completion of a request may run on any CPU; the kiocb is not tied to a thread.
unsafe impl Send for Iocb {}

impl Iocb {
    /// Creates an `Iocb` for a request in progress.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct kiocb` that stays valid until the request
    /// completes, and the caller must be the one completing it.
    #[inline]
    pub unsafe fn from_raw(ptr: *mut bindings::kiocb) -> Self {
        // SAFETY: A valid pointer is not null.
        let ptr = unsafe { NonNull::new_unchecked(ptr) };
        // INVARIANT: The caller guarantees validity until completion.
        Self { ptr }
    }

    #[inline]
    fn raw(&self) -> *mut bindings::kiocb {
        self.ptr.as_ptr()
    }

    /// Returns the `IOCB_*` flags.
    #[inline]
    pub fn flags(&self) -> u32 {
        // SAFETY: The kiocb is valid (type invariant).
        unsafe { (*self.raw()).ki_flags as u32 }
    }

    /// Returns the file position of the request.
    #[inline]
    pub fn pos(&self) -> i64 {
        // SAFETY: The kiocb is valid (type invariant).
        unsafe { (*self.raw()).ki_pos }
    }

    /// Advances the file position by `bytes`, after a successful transfer.
    #[inline]
    pub fn advance_pos(&mut self, bytes: i64) {
        // SAFETY: The kiocb is valid and the request ours until it completes.
        unsafe { (*self.raw()).ki_pos += bytes };
    }

    /// Returns the I/O priority.
    #[inline]
    pub fn ioprio(&self) -> u16 {
        // SAFETY: The kiocb is valid (type invariant).
        unsafe { (*self.raw()).ki_ioprio }
    }

    /// Returns whether the submitter waits for the result (no `ki_complete`).
    #[inline]
    pub fn is_sync(&self) -> bool {
        // SAFETY: The kiocb is valid (type invariant).
        unsafe { (*self.raw()).ki_complete.is_none() }
    }

    /// Returns the inode of the file the request is on.
    #[inline]
    pub fn inode(&self) -> &Inode {
        // SAFETY: The kiocb, its file and the file's inode are valid while the request runs.
        unsafe { Inode::from_raw((*(*self.raw()).ki_filp).f_inode) }
    }

    /// Publishes `bio` for completion polling (`iocb->private`, read by `bio_poll()`).
    #[inline]
    pub fn set_poll_bio(&self, bio: *mut bindings::bio) {
        // SAFETY: The kiocb is valid; io_uring reads `private` concurrently, hence the volatile
        // write (`WRITE_ONCE`).
        unsafe { core::ptr::addr_of_mut!((*self.raw()).private).write_volatile(bio.cast()) };
    }

    /// Withdraws a bio published with [`Iocb::set_poll_bio`], before it is freed.
    #[inline]
    pub fn clear_poll_bio(&self) {
        self.set_poll_bio(core::ptr::null_mut());
    }

    /// Writes back and waits for dirty page cache over the next `count` bytes.
    ///
    /// With `IOCB_NOWAIT` it fails with `EAGAIN` instead of waiting.
    #[inline]
    pub fn write_and_wait(&self, count: usize) -> Result {
        // SAFETY: The kiocb is valid (type invariant).
        to_result(unsafe { bindings::kiocb_write_and_wait(self.raw(), count) })
    }

    /// Completes an asynchronous request with `ret` (bytes or a negative errno).
    #[inline]
    pub fn complete(self, ret: isize) {
        // SAFETY: The kiocb is valid until this call, which ends the request; an asynchronous
        // kiocb always has `ki_complete`.
        unsafe {
            if let Some(complete) = (*self.raw()).ki_complete {
                complete(self.raw(), ret as crate::ffi::c_long);
            }
        }
    }

    /// Returns the raw `struct kiocb` pointer.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::kiocb {
        self.raw()
    }
}

/// An inode of a file doing direct I/O.
///
/// # Invariants
///
/// The wrapped `struct inode` is valid for the lifetime of any reference to `Self`.
#[repr(transparent)]
pub struct Inode(Opaque<bindings::inode>);

impl Inode {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid inode that stays valid for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::inode) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper and the caller guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the raw `struct inode` pointer.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::inode {
        self.0.get()
    }

    /// Returns the file size (`i_size_read`).
    #[inline]
    pub fn size(&self) -> i64 {
        // SAFETY: The inode is valid (type invariant).
        unsafe { bindings::i_size_read(self.as_raw()) }
    }

    /// Returns the file system block size in bytes.
    #[inline]
    pub fn block_size(&self) -> u32 {
        // SAFETY: The inode is valid (type invariant).
        1u32 << unsafe { (*self.as_raw()).i_blkbits }
    }

    /// Returns whether the file's contents are encrypted (fscrypt).
    #[inline]
    pub fn is_encrypted(&self) -> bool {
        // SAFETY: The inode is valid (type invariant).
        (unsafe { (*self.as_raw()).i_flags } & bindings::S_ENCRYPTED) != 0
    }

    /// Returns the super block the inode belongs to.
    #[inline]
    pub fn super_block(&self) -> &SuperBlock {
        // SAFETY: An inode's super block outlives it.
        unsafe { SuperBlock::from_raw((*self.as_raw()).i_sb) }
    }

    /// Counts a direct I/O in progress (`inode_dio_begin`); truncate waits for them.
    #[inline]
    pub fn dio_begin(&self) {
        // SAFETY: The inode is valid (type invariant).
        unsafe { bindings::inode_dio_begin(self.as_raw()) };
    }

    /// Ends a direct I/O counted with [`Inode::dio_begin`].
    #[inline]
    pub fn dio_end(&self) {
        // SAFETY: The inode is valid (type invariant).
        unsafe { bindings::inode_dio_end(self.as_raw()) };
    }

    /// Reports a failed direct read of `len` bytes at `pos` to fsnotify (`fserror`).
    pub fn report_read_error(&self, pos: i64, len: u64, err: Error) {
        // SAFETY: The inode and its super block are valid; GFP_NOFS is a valid mask.
        unsafe {
            bindings::fserror_report(
                (*self.as_raw()).i_sb,
                self.as_raw(),
                bindings::fserror_type_FSERR_DIRECTIO_READ,
                pos,
                len,
                err.to_errno(),
                bindings::GFP_NOFS,
            )
        };
    }
}

/// A mounted file system's super block.
///
/// # Invariants
///
/// The wrapped `struct super_block` is valid for the lifetime of any reference to `Self`.
#[repr(transparent)]
pub struct SuperBlock(Opaque<bindings::super_block>);

impl SuperBlock {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid super block that stays valid for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::super_block) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper and the caller guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the raw `struct super_block` pointer.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::super_block {
        self.0.get()
    }

    /// Makes sure the direct-I/O completion workqueue (`s_dio_done_wq`) exists.
    #[inline]
    pub fn init_dio_done_wq(&self) -> Result {
        // SAFETY: The super block is valid; the workqueue pointer is written once, with
        // cmpxchg, by `sb_init_dio_done_wq`, so a plain read seeing it set is fine.
        unsafe {
            if (*self.as_raw()).s_dio_done_wq.is_null() {
                return to_result(bindings::sb_init_dio_done_wq(self.as_raw()));
            }
        }
        Ok(())
    }
}

/// `iomap_begin` flag: the mapping is for direct I/O.
pub const IOMAP_DIRECT: u32 = bindings::IOMAP_DIRECT;
/// `iomap_begin` flag: the file system must not block.
pub const IOMAP_NOWAIT: u32 = bindings::IOMAP_NOWAIT;
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

/// One mapping of a file range, from `->iomap_begin`.
pub struct Iomap {
    iomap: bindings::iomap,
    srcmap: bindings::iomap,
}

impl Iomap {
    /// Returns an empty mapping (a hole, no source mapping) for [`IomapOps::begin`] to fill.
    #[inline]
    pub fn new() -> Self {
        // SAFETY: All-zero is a valid `struct iomap` (an empty hole mapping with no pointers).
        let mut map: Self = unsafe { core::mem::zeroed() };
        map.srcmap.type_ = bindings::IOMAP_HOLE as u16;
        map
    }

    /// Returns the mapping type (`IOMAP_MAPPED`, `IOMAP_HOLE`, ...).
    #[inline]
    pub fn kind(&self) -> u16 {
        self.iomap.type_
    }

    /// Returns the `IOMAP_F_*` flags.
    #[inline]
    pub fn flags(&self) -> u16 {
        self.iomap.flags
    }

    /// Returns the file offset where the mapping starts.
    #[inline]
    pub fn offset(&self) -> i64 {
        self.iomap.offset
    }

    /// Returns the length of the mapping in bytes.
    #[inline]
    pub fn length(&self) -> u64 {
        self.iomap.length
    }

    /// Returns whether the mapping covers all of `[pos, pos + len)`.
    #[inline]
    pub fn covers(&self, pos: i64, len: u64) -> bool {
        let end = i128::from(self.iomap.offset) + i128::from(self.iomap.length);
        self.iomap.offset <= pos && end >= i128::from(pos) + i128::from(len)
    }

    /// Returns the device sector where file offset `pos` lives (`iomap_sector`).
    #[inline]
    pub fn sector(&self, pos: i64) -> u64 {
        (self
            .iomap
            .addr
            .wrapping_add((pos - self.iomap.offset) as u64))
            >> bindings::SECTOR_SHIFT
    }

    /// Returns the block device of a mapped range, if the mapping has one.
    #[inline]
    pub fn bdev(&self) -> Option<&BlockDevice> {
        // SAFETY: A mapping's block device is the file system's, which outlives the mapping.
        NonNull::new(self.iomap.bdev).map(|b| unsafe { BlockDevice::from_raw(b.as_ptr()) })
    }
}

impl Default for Iomap {
    #[inline]
    fn default() -> Self {
        Self::new()
    }
}

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

    /// Maps `[pos, pos + len)` of `inode` with `IOMAP_*` `flags` into `map` (`->iomap_begin`).
    ///
    /// `map` is filled in place, as `iomap_iter()` does, rather than returned: the pair of
    /// `struct iomap` is 144 bytes, and moving it out costs a copy per request. Fails with
    /// `EOPNOTSUPP` if the file system has no `->iomap_begin`. A mapping that succeeds must
    /// be finished with [`IomapOps::end`].
    #[inline]
    pub fn begin(&self, inode: &Inode, pos: i64, len: u64, flags: u32, map: &mut Iomap) -> Result {
        // Lazily: `ok_or` would build the error, a call, on every request.
        let begin = self
            .ops()
            .iomap_begin
            .ok_or_else(|| Error::from_errno(-(bindings::EOPNOTSUPP as i32)))?;
        // SAFETY: The inode is valid; `map` provides writable iomap and srcmap structures;
        // `len` fits `loff_t` since callers map at most one request.
        to_result(unsafe {
            begin(
                inode.as_raw(),
                pos,
                len as i64,
                flags,
                &mut map.iomap,
                &mut map.srcmap,
            )
        })
    }

    /// Finishes a mapping from [`IomapOps::begin`] after `done` of its `len` bytes were used.
    #[inline]
    pub fn end(&self, inode: &Inode, pos: i64, len: u64, done: isize, flags: u32, map: &mut Iomap) {
        if let Some(end) = self.ops().iomap_end {
            // SAFETY: The inode and mapping are valid; this is the matching end call of a
            // successful begin. A read has nothing to commit: the result is not checked.
            unsafe { end(inode.as_raw(), pos, len as i64, done, flags, &mut map.iomap) };
        }
    }
}

/// A simple direct-I/O read path, registered behind `iomap_dio_rw()` with [`Registration`].
///
/// The hook offers it requests without `dops` or `done_before` first; answering `ENOTBLK`
/// hands one to the generic path. Bios must be submitted with [`submit`] and completion work
/// queued with [`queue_work`], so that unregistering can wait for them.
pub trait SimpleDioRead: Sized + 'static {
    /// The per-request data carried in front of each bio.
    type Data: HasCompletionWork + Send;

    /// Serves a read: returns bytes read, `-EIOCBQUEUED`, `-ENOTBLK` or a negative errno.
    fn read(
        iocb: Iocb,
        iter: &mut IovIterDest<'_>,
        ops: &IomapOps,
        private: *mut c_void,
        dio_flags: u32,
    ) -> isize;

    /// Completes a bio submitted with [`submit`] (in interrupt context, possibly).
    fn end_io(bio: Bio<Self::Data>);

    /// Runs work queued with [`queue_work`] (process context).
    fn complete_work(bio: Bio<Self::Data>);
}

/// Per-request data with a work item to run completion in process context.
///
/// # Safety
///
/// `WORK_OFFSET` must be the offset, within `Self`, of an `Opaque<bindings::work_struct>`.
pub unsafe trait HasCompletionWork {
    /// The offset of the work item within `Self`.
    const WORK_OFFSET: usize;
}

/// Submits `bio` through the hook; its completion comes to `T::end_io`.
///
/// Must be called from within `T::read`, which holds the registration.
#[inline]
pub fn submit<T: SimpleDioRead>(bio: Bio<T::Data>) {
    // SAFETY: The bio is valid and ownership passes to the block layer, which hands it to the
    // hook's end_io trampoline and from there back to `T::end_io` as a `Bio<T::Data>`.
    unsafe { bindings::iomap_simple_dio_submit(bio.into_raw()) };
}

/// Queues `T::complete_work` for `bio` on the direct-I/O workqueue of `sb`.
///
/// The workqueue must exist ([`SuperBlock::init_dio_done_wq`]); called from `T::read` or
/// `T::end_io`, which hold the registration.
#[inline]
pub fn queue_work<T: SimpleDioRead>(sb: &SuperBlock, mut bio: Bio<T::Data>) {
    let data: *mut T::Data = bio.data_mut();
    // SAFETY: `WORK_OFFSET` locates a work item inside the data (trait safety); the hook
    // initialises and queues it, and the bio stays alive, owned by the work, until
    // `complete_work` takes it back with `Bio::from_data`.
    unsafe {
        let work = data.cast::<u8>().add(T::Data::WORK_OFFSET).cast();
        core::mem::forget(bio);
        bindings::iomap_simple_dio_queue_work(sb.as_raw(), work);
    }
}

/// Emits the `iomap_dio_rw_begin` trace event for a request served by a simple path.
#[inline]
pub fn trace_begin(iocb: &Iocb, iter: &mut IovIterDest<'_>, dio_flags: u32) {
    // SAFETY: The kiocb and iov_iter are valid.
    unsafe { bindings::iomap_simple_dio_trace_begin(iocb.as_raw(), iter.as_raw(), dio_flags) };
}

/// Emits the `iomap_dio_complete` trace event.
#[inline]
pub fn trace_complete(iocb: &Iocb, error: i32, ret: isize) {
    // SAFETY: The kiocb is valid until its request completes, which happens after this.
    unsafe { bindings::iomap_simple_dio_trace_complete(iocb.as_raw(), error, ret) };
}

/// A registered simple read path; unregisters (and waits for its I/O) on drop.
pub struct Registration<T: SimpleDioRead> {
    _p: PhantomData<T>,
}

struct Vtable<T>(PhantomData<T>);

impl<T: SimpleDioRead> Vtable<T> {
    const OPS: bindings::iomap_simple_dio_ops = bindings::iomap_simple_dio_ops {
        read: Some(Self::read),
        end_io: Some(Self::end_io),
        complete_work: Some(Self::complete_work),
    };

    /// The hook's `->read`: wraps the arguments and calls `T::read`.
    ///
    /// # Safety
    ///
    /// The arguments must be those of an `iomap_dio_rw()` call in progress.
    unsafe extern "C" fn read(
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
        ops: *const bindings::iomap_ops,
        private: *mut c_void,
        dio_flags: u32,
    ) -> isize {
        // SAFETY: The hook passes the arguments of `iomap_dio_rw()`: valid for the call.
        // A write (`ITER_SOURCE`) is not ours: hand it back before wrapping the iterator.
        unsafe {
            if (*iter).data_source != (bindings::ITER_DEST != 0) {
                return -(bindings::ENOTBLK as isize);
            }
            T::read(
                Iocb::from_raw(iocb),
                IovIterDest::from_raw(iter),
                IomapOps::from_raw(ops),
                private,
                dio_flags,
            )
        }
    }

    /// The hook's `->end_io`: hands the bio back to `T::end_io`.
    ///
    /// # Safety
    ///
    /// `bio` must have been submitted with [`submit::<T>`] and be complete.
    unsafe extern "C" fn end_io(bio: *mut bindings::bio) {
        // SAFETY: Only bios submitted with `submit::<T>` come here, owned by us again.
        T::end_io(unsafe { Bio::from_raw(bio) });
    }

    /// The hook's `->complete_work`: finds the bio of the work and calls
    /// `T::complete_work`.
    ///
    /// # Safety
    ///
    /// `work` must have been queued with [`queue_work::<T>`].
    unsafe extern "C" fn complete_work(work: *mut bindings::work_struct) {
        // SAFETY: Only work queued by `queue_work::<T>` comes here; it lives at `WORK_OFFSET`
        // in the data of a bio whose ownership the work holds.
        T::complete_work(unsafe {
            Bio::from_data(work.cast::<u8>().sub(T::Data::WORK_OFFSET).cast())
        });
    }
}

impl<T: SimpleDioRead> Registration<T> {
    /// Registers `T` behind `iomap_dio_rw()`; fails with `EBUSY` if a path is registered.
    pub fn new() -> Result<Self> {
        // SAFETY: `OPS` is a promoted constant, valid for `'static`.
        to_result(unsafe { bindings::iomap_simple_dio_register(&Vtable::<T>::OPS) })?;
        Ok(Self { _p: PhantomData })
    }
}

impl<T: SimpleDioRead> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: `OPS` was registered by `new`; this waits for every call, bio and work.
        unsafe { bindings::iomap_simple_dio_unregister(&Vtable::<T>::OPS) };
    }
}

/// Returns whether `iter` covers user memory (pages must be pinned and dirtied).
#[inline]
pub fn iter_is_user_backed(iter: &mut IovIterDest<'_>) -> bool {
    // SAFETY: The iterator is valid; this is `user_backed_iter()`, a test of its type.
    let kind = unsafe { (*iter.as_raw()).iter_type };
    kind == bindings::iter_type_ITER_UBUF as u8 || kind == bindings::iter_type_ITER_IOVEC as u8
}

/// Returns how many bio vectors `iter` needs, at most `max` (`bio_iov_vecs_to_alloc`).
#[inline]
pub fn iter_vecs_to_alloc(iter: &mut IovIterDest<'_>, max: u16) -> u16 {
    // SAFETY: The iterator is valid.
    let n = unsafe { bindings::bio_iov_vecs_to_alloc(iter.as_raw(), max.into()) };
    n.clamp(0, max.into()) as u16
}

// SPDX-License-Identifier: GPL-2.0

//! The [`SimpleDio`] trait, its [`Registration`] with the hook, and the C callbacks the hook
//! calls.

use super::{
    bio::{DioRequest, SyncBioStorage, SYNC_STORAGE_MAX},
    completion::Completed,
    direction::{Direction, Read, Write},
    request::{IoState, Offered, OfferedRead, OfferedWrite, Outcome},
};
use crate::{
    alloc::KBox,
    bindings,
    block::bio::{Bio, BioIter},
    error::{code::*, to_result, Error, Result},
    ffi::c_void,
    fs::{inode::Inode, iomap::IomapOps, Kiocb},
    prelude::*,
};
use core::{
    cell::Cell,
    marker::PhantomData,
    mem::{offset_of, MaybeUninit},
    ptr::{null, null_mut},
};

/// A simple direct-I/O path, registered with the hook with [`Registration`].
///
/// The hook offers it every read a file system offers through `iomap_dio_read_simple()`
/// where file systems opt in, or else every `iomap_dio_rw()` read without `dops` or
/// `done_before`; and, where file systems opt in and `/sys/kernel/iomap/simple_write` selects
/// the path, every write they offer through `iomap_dio_write_simple()`. The value registered
/// is the path's context, handed to each callback.
pub trait SimpleDio: Send + Sync + Sized + 'static {
    /// The per-request data carried in front of each bio.
    ///
    /// `Copy`, so that it has no `Drop`: it goes with its bio where the bio completes, in
    /// interrupt context possibly, where a destructor could not sleep.
    type Data: Copy + Send + 'static;
    /// Why a request was declined.
    type Reason: Copy;

    /// Serves a read, or declines it; its bio comes from a `DioBioSet<Self::Data>` that outlives
    /// it (one of `self`'s, typically: the registration keeps `self` until every bio is done),
    /// or, for a synchronous read, from the hook's stack.
    ///
    /// An error before the read is mapped is returned as it is; from the mapping on, it is
    /// also traced and reported (fserror) as the generic path would (`ENOTBLK` declines).
    fn read<'a>(&'a self, req: OfferedRead<'a, Self::Data>) -> Result<Outcome<'a, Self::Reason>>;

    /// Serves a write, or declines it, as [`SimpleDio::read`] a read: a write declined, or
    /// failed with `ENOTBLK`, goes back to the file system untouched, which writes it with
    /// `iomap_dio_rw()`.
    fn write<'a>(&'a self, req: OfferedWrite<'a, Self::Data>) -> Result<Outcome<'a, Self::Reason>>;

    /// Counts a declined request, before the generic path serves it.
    fn declined(&self, reason: Self::Reason);

    /// Sees an asynchronous request's bio complete (in interrupt context, possibly), before
    /// this module completes the request.
    fn end_io(&self, done: &Completed<'_, Self::Data>);
}

/// A registered simple read path, with its context.
///
/// Built as a module (`CONFIG_IOMAP_SIMPLE_DIO=m`), dropping it unregisters the path and
/// waits for every read, bio and completion of it before the context goes. A registration
/// leaked instead (`mem::forget`) leaks its context, and the hook unregisters the path when
/// the module that holds its code goes away (a module notifier), before that code is freed.
///
/// Built in, the hook counts nothing to wait for, so a registration is permanent: the context
/// is made `'static` and stays registered whatever becomes of this handle, which owns
/// nothing then. Only built-in code can register so: the hook refuses a loadable module's
/// vtable (`EINVAL`), whose text unloading would free under it.
///
/// # Invariants
///
/// `ops` is the vtable registered with `data`, the context, until drop (for ever, built in).
pub struct Registration<T: SimpleDio> {
    #[cfg(CONFIG_IOMAP_SIMPLE_DIO = "m")]
    data: core::mem::ManuallyDrop<Pin<KBox<T>>>,
    #[cfg(not(CONFIG_IOMAP_SIMPLE_DIO = "m"))]
    data: Pin<&'static T>,
    #[cfg(CONFIG_IOMAP_SIMPLE_DIO = "m")]
    ops: &'static bindings::iomap_simple_dio_ops,
}

/// The C callbacks of path `T`, in the vtable the hook calls.
pub(super) struct Vtable<T>(PhantomData<T>);

impl<T: SimpleDio> Vtable<T> {
    const OPS: bindings::iomap_simple_dio_ops = bindings::iomap_simple_dio_ops {
        read: Some(Self::read),
        write: Some(Self::write),
        end_io: Some(Self::end_io),
        complete_work: Some(Self::complete_work),
    };

    /// The hook's `->read`: offers the read to `T::read`, and reads what it declines with the
    /// generic path.
    ///
    /// # Safety
    ///
    /// `data` must be the registered `T`, and the other arguments those of an
    /// `iomap_dio_rw()` call in progress, or those the hook passes for an
    /// `iomap_dio_read_simple()` call in progress (its `ops` valid for the call).
    unsafe extern "C" fn read(
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
        ops: *const bindings::iomap_ops,
        private: *mut c_void,
        dio_flags: u32,
        data: *mut c_void,
    ) -> isize {
        // Where file systems opt in, the fallback only returns `-ENOTBLK`. Where it reads
        // with the generic path itself, the offer has a frame of its own, gone (the storage of
        // a synchronous bio with it) before `__iomap_dio_rw()` runs.
        let offered = if bindings::IOMAP_SIMPLE_DIO_HAS_OPT_IN {
            // SAFETY: The caller's guarantees.
            unsafe { Self::offer::<Read>(data, iocb, iter, ops, private, dio_flags, null()) }
        } else {
            // SAFETY: The caller's guarantees.
            unsafe { Self::offer_apart(data, iocb, iter, ops, private, dio_flags) }
        };
        match offered {
            Some(ret) => ret,
            // SAFETY: The arguments of the `iomap_dio_rw()` call, whose request `offer` left
            // untouched.
            None => unsafe {
                bindings::iomap_simple_dio_fallback(iocb, iter, ops, private, dio_flags)
            },
        }
    }

    /// [`Vtable::offer`] of a read, not inlined.
    ///
    /// # Safety
    ///
    /// As for [`Vtable::read`].
    #[inline(never)]
    unsafe fn offer_apart(
        data: *mut c_void,
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
        ops: *const bindings::iomap_ops,
        private: *mut c_void,
        dio_flags: u32,
    ) -> Option<isize> {
        // SAFETY: The caller's guarantees; a read has no `dops`.
        unsafe { Self::offer::<Read>(data, iocb, iter, ops, private, dio_flags, null()) }
    }

    /// The hook's `->write`: offers the write to `T::write`, and hands what it declines back
    /// to the file system (`-ENOTBLK`).
    ///
    /// # Safety
    ///
    /// `data` must be the registered `T`, and the other arguments those the hook passes for an
    /// `iomap_dio_write_simple()` call in progress (`ops` valid for the call, `dops` the file
    /// system's completion operations or null).
    unsafe extern "C" fn write(
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
        ops: *const bindings::iomap_ops,
        dops: *const bindings::iomap_dio_ops,
        data: *mut c_void,
    ) -> isize {
        // SAFETY: The caller's guarantees; `iomap_dio_write_simple()` has no `private` and no
        // flags.
        match unsafe { Self::offer::<Write>(data, iocb, iter, ops, null_mut(), 0, dops) } {
            Some(ret) => ret,
            None => ENOTBLK.to_errno() as isize,
        }
    }

    /// Offers a request of direction `Dir` to `T`: returns what `iomap_dio_rw()` returns for
    /// it, or `None` when it declined, with the request as it was.
    ///
    /// # Safety
    ///
    /// As for [`Vtable::read`] or [`Vtable::write`]; `dops` is null for a read.
    // Once per request, from `read` or `write` (and a test): inlined.
    #[inline(always)]
    pub(super) unsafe fn offer<Dir: Direction>(
        data: *mut c_void,
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
        ops: *const bindings::iomap_ops,
        private: *mut c_void,
        dio_flags: u32,
        dops: *const bindings::iomap_dio_ops,
    ) -> Option<isize> {
        // The bio of a synchronous request can live here, as `__blkdev_direct_IO_simple()`
        // keeps its own: this frame outlives its I/O, which is waited for before the path
        // returns.
        let mut storage = SyncBioStorage::<T::Data>::new();
        // Only storage of a bounded size: a path's `Data` is not, a kernel stack is.
        let small = size_of::<SyncBioStorage<T::Data>>() <= SYNC_STORAGE_MAX;
        // SAFETY: The kiocb is valid for the call (the caller's guarantee).
        let sync = small && unsafe { Kiocb::from_raw_any(iocb) }.is_sync();
        // SAFETY: The caller's guarantees; storage only for a synchronous kiocb.
        unsafe {
            Self::offer_in::<Dir>(
                data,
                iocb,
                iter,
                ops,
                private,
                dio_flags,
                dops,
                sync.then_some(&mut storage),
            )
        }
    }

    /// [`Vtable::offer`], with room for the bio of a synchronous request.
    ///
    /// # Safety
    ///
    /// As for [`Vtable::offer`]; `storage` is `None` unless the kiocb is synchronous.
    // Once per request, from `offer`: inlined.
    #[expect(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn offer_in<Dir: Direction>(
        data: *mut c_void,
        iocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
        ops: *const bindings::iomap_ops,
        private: *mut c_void,
        dio_flags: u32,
        dops: *const bindings::iomap_dio_ops,
        storage: Option<&mut SyncBioStorage<T::Data>>,
    ) -> Option<isize> {
        // SAFETY: The hook passes the arguments of the request, valid for the call. A request
        // of the other direction (an `iomap_dio_rw()` write, where the hook sits there) is not
        // ours: hand it back before wrapping the iterator.
        if unsafe { (*iter).data_source } != Dir::WRITE {
            return None;
        }
        // SAFETY: `data` is the registered context, alive until every call has returned.
        let this = unsafe { &*data.cast::<T>() };
        let sync_ret = Cell::new(EIO.to_errno() as isize);
        // SAFETY: The kiocb is valid for the call, and until an asynchronous read completes;
        // its file is that of a `->read_iter` or `->write_iter` call on this thread.
        let kiocb = unsafe { Kiocb::from_raw_any(iocb) };
        // Kept raw: used again below only while nothing was submitted, when the request and
        // its file are still the caller's.
        let inode = Inode::of_file(kiocb.filp()).as_raw();
        // INVARIANT: Not mapped, `it` not needed yet.
        let mut state = IoState {
            it: MaybeUninit::uninit(),
            private,
            dops,
            // SAFETY: The iterator is valid for the call, of `Dir`'s direction.
            len: unsafe { Dir::iter(iter) }.remaining(),
            mapped: false,
            dio_counted: false,
            submitted: false,
            queued: false,
        };
        // SAFETY: The arguments are valid for the call (and the buffer and the kiocb's file
        // and inode until an asynchronous read completes).
        let res = Dir::serve(this, unsafe {
            Offered::<'_, T::Data, Dir> {
                kiocb,
                iter: Dir::iter(iter),
                inode: Inode::from_raw(inode),
                ops: IomapOps::from_raw(ops),
                dio_flags,
                state: &mut state,
                sync_ret: &sync_ret,
                // INVARIANT: Room only for a synchronous request (the caller's guarantee),
                // unused.
                storage: Cell::new(storage),
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
        let iter = unsafe { Dir::iter(iter) };
        let advanced = state.len - iter.remaining();
        if advanced != 0 {
            // SAFETY: The iterator was advanced by exactly `advanced` bytes since the request
            // was offered.
            unsafe { iter.go_back(advanced) };
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
        let (err, declined) = match res {
            Ok(Some(why)) => (None, Some(why)),
            // The generic path's way of saying the same.
            Err(e) if e == ENOTBLK => (None, None),
            // Nothing was queued: nothing would ever complete the request.
            Err(e) if e == EIOCBQUEUED => (Some(EIO), None),
            Err(e) => (Some(e), None),
            // Only `submit` makes a `Served`, and it set `submitted`: not reached.
            Ok(None) => (Some(EIO), None),
        };
        let mut ret = err.map(|e| e.to_errno() as isize);
        if let (Some(e), true) = (err, state.dio_counted) {
            // SAFETY: `dops` is null or the file system's operations, valid for the call.
            if let Some(end_io) = unsafe { dops.as_ref() }.and_then(|dops| dops.end_io) {
                // As `iomap_dio_complete()` ends a write that failed in its mapping loop:
                // the file system's completion, with nothing written, and its result.
                // SAFETY: The file system's completion of its own direct write, with the
                // kiocb of the call, no bytes and the error, as the generic path passes them.
                ret = Some(unsafe { end_io(iocb, 0, e.to_errno(), 0) } as isize);
            }
        }
        if state.dio_counted {
            // SAFETY: The inode is valid; this ends the count `Offered::map` took.
            unsafe { bindings::inode_dio_end(inode) };
        }
        let (Some(err), Some(ret)) = (err, ret) else {
            if let Some(why) = declined {
                this.declined(why);
            }
            return None;
        };
        // SAFETY: The arguments of the call, whose iterator is as it was.
        unsafe {
            bindings::iomap_simple_dio_fail(
                iocb,
                iter.raw(),
                dio_flags,
                err.to_errno(),
                state.dio_counted,
            )
        };
        Some(ret)
    }

    /// The hook's `->end_io`: shows the completion to `T::end_io`, then ends the request.
    ///
    /// # Safety
    ///
    /// `data` must be the registered `T` and `bio` one submitted by [`Mapped::submit`] for
    /// `T`, now done.
    unsafe extern "C" fn end_io(data: *mut c_void, bio: *mut bindings::bio) {
        // SAFETY: The context lives until every bio of the path has completed.
        let this = unsafe { &*data.cast::<T>() };
        // SAFETY: Only `Mapped::submit` submits through the hook, with a bio of a set that
        // lives as long as the context; the block layer hands its ownership back here, done.
        let bio = unsafe { Bio::<DioRequest<T::Data>>::from_raw(bio) };
        // SAFETY: As above; this is the bio's completion.
        let done = unsafe { Completed::new_in_end_io(bio) };
        T::end_io(this, &done);
        // SAFETY: Made by `new_in_end_io`.
        unsafe { done.complete_or_defer() };
    }

    /// The hook's `->complete_work`: finishes a request that [`Completed`] deferred.
    ///
    /// # Safety
    ///
    /// `data` must be the registered `T` and `work` the work item of a request that
    /// `Completed::complete_or_defer` queued; called from the workqueue (process context).
    unsafe extern "C" fn complete_work(_data: *mut c_void, work: *mut bindings::work_struct) {
        let off = offset_of!(DioRequest<T::Data>, work);
        // SAFETY: The work item lives at `off` in the front-pad data of a bio whose ownership
        // the work holds (`Completed::complete_or_defer`); its set lives as long as the
        // context, which lives until every work item of the path has run.
        let bio =
            unsafe { Bio::<DioRequest<T::Data>>::from_data(work.cast::<u8>().sub(off).cast()) };
        // SAFETY: The bio was submitted by `Mapped::submit` and is done; a work item runs
        // in process context.
        let _ = unsafe { Completed::new(bio).complete() };
    }
}

impl<T: SimpleDio> Registration<T> {
    /// Registers the path `T` with context `data`.
    ///
    /// Fails with `EBUSY` if a path is registered, `ENODEV` if the hook could not be set up,
    /// and, built in, `EINVAL` when called from a loadable module.
    ///
    /// # Safety
    ///
    /// The registration must not be dropped from one of `T`'s callbacks, nor from anything
    /// they wait for: dropping it waits (`iomap_simple_dio_unregister()`: SRCU grace periods,
    /// then the completion work) for every call, bio and work item of the path, the dropping
    /// one among them, and would never return; from `end_io` it would sleep in interrupt
    /// context. A module that keeps it until its exit meets this.
    pub unsafe fn new(data: impl PinInit<T, Error>) -> Result<Self> {
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
impl<T: SimpleDio> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: `ops` was registered by `new`; this waits for every call, bio and work
        // of the path, after which nothing uses the context.
        unsafe { bindings::iomap_simple_dio_unregister(self.ops) };
        // SAFETY: Dropped once, here, and never used after.
        unsafe { core::mem::ManuallyDrop::drop(&mut self.data) };
    }
}

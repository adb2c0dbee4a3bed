// SPDX-License-Identifier: GPL-2.0

//! A submitted request whose bio is done ([`Completed`]), and how this module ends it.

use super::bio::DioRequest;
#[cfg(doc)]
use super::{Mapped, SimpleDio};
use crate::{bindings, block::bio::Bio, fs::inode::Inode, prelude::*};

/// A completed read.
pub type CompletedRead<'a, D> = Completed<'a, D>;

/// A submitted request, a read or a write, whose bio is done, as [`SimpleDio::end_io`] sees
/// it.
///
/// This module completes the request once the path has looked at it, from the bio's status
/// and size, in the generic path's order. A write's file system completes it first
/// (`->end_io`, which may turn success into an error, as XFS does after a shutdown). An error
/// of the bio is reported through fserror. A read dirties user pages that writeback cleaned
/// during it; a write drops page cache that appeared over its range meanwhile
/// (`kiocb_invalidate_post_direct_write()`). Then the request's `inode_dio_begin()` count
/// ends, the file position advances, a dsync write that was not `REQ_FUA` is synced
/// (`generic_write_sync()`), and the result goes to the submitter. Whatever needs process
/// context (an error, a page to dirty, pages to invalidate, a sync) is deferred to the super
/// block's `s_dio_done_wq` when the bio completes in interrupt context
/// ([`Completed::deferred`]). A path holds only a shared reference: it can neither complete
/// a request twice nor keep one from completing.
///
/// # Invariants
///
/// `bio` was submitted by [`Mapped::submit`] and is done. `redirty` is whether it read into
/// user pages that are no longer all dirty. `defer` is whether completing the request needs
/// process context, where its bio completed (the hook's `->end_io`); false elsewhere.
pub struct Completed<'a, D: Send + 'static> {
    bio: Bio<'a, DioRequest<D>>,
    redirty: bool,
    defer: bool,
}

impl<'a, D: Send + 'static> Completed<'a, D> {
    /// # Safety
    ///
    /// `bio` must have been submitted by [`Mapped::submit`] and be done.
    // Once per completion: inlined.
    #[inline(always)]
    pub(super) unsafe fn new(bio: Bio<'a, DioRequest<D>>) -> Self {
        let redirty = bio.data().user_backed && !bio.pages_still_dirty();
        // INVARIANT: By the caller's guarantee, and as computed; not in the bio's `->end_io`.
        Self {
            bio,
            redirty,
            defer: false,
        }
    }

    /// [`Completed::new`] in the bio's completion (`->bi_end_io`), which may be interrupt
    /// context: finds out once whether the request must be deferred to process context.
    ///
    /// # Safety
    ///
    /// As for [`Completed::new`]; called from the bio's completion.
    // Once per completion: inlined.
    #[inline(always)]
    pub(super) unsafe fn new_in_end_io(bio: Bio<'a, DioRequest<D>>) -> Self {
        // SAFETY: The caller's guarantee.
        let mut this = unsafe { Self::new(bio) };
        // INVARIANT: Where the bio completed; an asynchronous request's (a synchronous one's
        // bio completes through `submit_bio_wait()`), so deferring it is possible.
        this.defer = this.needs_process();
        this
    }

    /// Returns whether completing the request needs process context: an error to report,
    /// pages to dirty again; for a write also a sync, or page cache that may need
    /// invalidating (as `iomap_dio_done()` decides, with the same small race: a page cached
    /// after this test stays).
    #[inline(always)]
    fn needs_process(&self) -> bool {
        if self.redirty || self.status().is_err() {
            return true;
        }
        let req = self.req();
        // `nrpages` changes under us: read once (`READ_ONCE()`).
        req.write
            && (req.need_sync
                // SAFETY: The kiocb and its file are valid until the request completes.
                || unsafe {
                    core::ptr::addr_of!((*(*(*req.kiocb.as_ptr()).ki_filp).f_mapping).nrpages)
                        .read_volatile()
                } != 0)
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

    /// Returns whether the request is a write.
    #[inline]
    pub fn is_write(&self) -> bool {
        self.req().write
    }

    /// Returns the path's data of the request.
    #[inline]
    pub fn data(&self) -> &D {
        &self.req().data
    }

    /// Returns the number of bytes the bio transferred, or was to transfer.
    #[inline]
    pub fn len(&self) -> usize {
        self.req().len as usize
    }

    /// Returns whether no byte is transferred (never, for a submitted request).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.req().len == 0
    }

    /// Returns whether the request is finished from the super block's `s_dio_done_wq` rather
    /// than where its bio completed: an asynchronous request that needs process context.
    #[inline]
    pub fn deferred(&self) -> bool {
        self.defer
    }

    /// Returns the inode of the file.
    ///
    /// Not offered to [`SimpleDio::end_io`], which may run in interrupt context, where
    /// what an `Inode` offers (an fserror report, the workqueue's creation) must not be
    /// called: this module calls them only from process context.
    #[inline]
    fn inode(&self) -> &Inode {
        // SAFETY: The inode of a read in progress is valid until it completes (invariant of
        // `DioRequest`), which only this module does, after the path's borrow has ended.
        unsafe { Inode::from_raw(self.req().inode.as_ptr()) }
    }

    /// Returns the file position of the request.
    #[inline]
    pub fn pos(&self) -> i64 {
        // SAFETY: The kiocb is valid until the read completes (see `inode`).
        unsafe { (*self.req().kiocb.as_ptr()).ki_pos }
    }

    /// Ends an asynchronous request in the context its bio completed in: defers it to
    /// `s_dio_done_wq` if it needs process context, completes it otherwise.
    ///
    /// # Safety
    ///
    /// `self` must have been made by [`Completed::new_in_end_io`].
    // Once per completion: inlined.
    #[inline(always)]
    pub(super) unsafe fn complete_or_defer(self) {
        // Found once, when the completion was made: `nrpages` is read once a request.
        if !self.defer {
            // SAFETY: Made in the bio's completion (the caller's guarantee), `defer` is false
            // only when `needs_process()` was: no error to report, no page to dirty, no sync,
            // and no page cache when `nrpages` was read (with the race `needs_process()`
            // describes, which `iomap_dio_done()` has too).
            let _ = unsafe { self.complete_atomic() };
            return;
        }
        let bio = self.bio;
        let req = bio.data();
        // SAFETY: The inode is valid until the request completes.
        let sb = unsafe { (*req.inode.as_ptr()).i_sb };
        let work = req.work.get();
        // The work owns the bio until `Vtable::complete_work` takes it back.
        let _ = bio.into_raw();
        // SAFETY: The workqueue exists: `Offered::map` created it before mapping this
        // asynchronous request. The work item lives in the bio's front pad, which stays allocated
        // while the work owns the bio; the hook initialises it.
        unsafe { bindings::iomap_simple_dio_queue_work(sb, work) };
    }

    /// Completes the request: the fserror report of an error, user pages dirtied again, then
    /// what [`Completed::finish`] does; a write as [`Completed::complete_write`] does.
    ///
    /// # Safety
    ///
    /// Process context (it may sleep).
    // Once per completion: inlined.
    #[inline(always)]
    pub(super) unsafe fn complete(mut self) -> Result<usize> {
        if self.is_write() {
            // SAFETY: Process context, by the caller's guarantee.
            return unsafe { self.complete_write_in_process() };
        }
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
            unsafe { self.bio.redirty_and_unpin() };
        }
        // SAFETY: The work that needs process context is done.
        unsafe { self.finish(None, false) }
    }

    /// Completes a request that needs no process context (no error, no page to dirty, no page
    /// cache, no sync), where its bio completed.
    ///
    /// # Safety
    ///
    /// [`Completed::needs_process`] must be false.
    #[inline(always)]
    unsafe fn complete_atomic(self) -> Result<usize> {
        if self.is_write() {
            // SAFETY: Nothing needs process context (the caller's guarantee).
            return unsafe { self.complete_write(false) };
        }
        // SAFETY: Nothing needs process context (the caller's guarantee).
        unsafe { self.finish(None, false) }
    }

    /// Completes a write as `iomap_dio_complete()` does: the file system's `->end_io`, with
    /// the bio's result and the position not advanced yet, whose result is the request's from
    /// then on; in `process` context the fserror report of an error, or the page cache
    /// invalidated after success; then what [`Completed::finish`] does, the sync included.
    ///
    /// Inlined where the bio completed (the common case of an asynchronous write, and there a
    /// test of `is_write()` keeps it off a read's way); called from process context through
    /// [`Completed::complete_write_in_process`].
    ///
    /// # Safety
    ///
    /// `process` must be true only in process context, and false only where
    /// [`Completed::needs_process`] is false (`iomap_dio_done()` calls `->end_io` from the
    /// bio's completion then too, for an overwrite without an error).
    #[inline(always)]
    unsafe fn complete_write(self, process: bool) -> Result<usize> {
        let status = self.status();
        let req = self.req();
        let fs_ret = req.end_io.map(|end_io| {
            let err = match status {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            };
            // SAFETY: The file system's completion of its own direct write, with the kiocb
            // (valid until the request completes), the bytes the bio was to write and its
            // error, as `iomap_dio_complete()` passes them. The flags are none of the
            // completion work a pure overwrite does not need (`IOMAP_DIO_UNWRITTEN`,
            // `IOMAP_DIO_COW`).
            unsafe { end_io(req.kiocb.as_ptr(), self.len() as isize, err, 0) }
        });
        if process {
            match status {
                // As `should_report_dio_fserror()`: not the retry codes.
                Err(e) if e != EAGAIN && e != ENOTBLK => {
                    self.inode()
                        .report_write_error(self.pos(), self.len() as u64, e)
                }
                Err(_) => {}
                // SAFETY: The kiocb is valid until the request completes, its position not
                // advanced yet; process context, by the caller's guarantee.
                Ok(()) => unsafe {
                    bindings::iomap_simple_dio_invalidate(req.kiocb.as_ptr(), self.len())
                },
            }
        }
        let need_sync = req.need_sync;
        // SAFETY: The error is reported and the page cache invalidated where they need it; a
        // write that needs a sync needs process context, which `process` is then.
        unsafe { self.finish(fs_ret, need_sync) }
    }

    /// Completes a synchronous write where its submitter waited for it: as
    /// [`Completed::complete`], inlined.
    ///
    /// # Safety
    ///
    /// Process context; the request is a write.
    #[inline(always)]
    pub(super) unsafe fn complete_sync_write(self) -> Result<usize> {
        // SAFETY: Process context, by the caller's guarantee.
        unsafe { self.complete_write(true) }
    }

    /// [`Completed::complete_write`] in process context, out of line: for a write that
    /// [`Completed::complete`] finishes (a deferred one), where the reads' completion stays as
    /// it was.
    ///
    /// # Safety
    ///
    /// Process context.
    #[inline(never)]
    unsafe fn complete_write_in_process(self) -> Result<usize> {
        // SAFETY: Process context, by the caller's guarantee.
        unsafe { self.complete_write(true) }
    }

    /// Finishes the request, with `fs_ret` the result of the file system's completion, if it
    /// has one: unpins the pages, ends the `inode_dio_begin()` count, advances the position,
    /// syncs a write if `sync`, withdraws a polled bio, frees the bio, then hands the result
    /// to the submitter (`->ki_complete` for an asynchronous request, the return value for a
    /// synchronous one).
    ///
    /// # Safety
    ///
    /// An error must have been reported, user pages dirtied again and page cache invalidated
    /// where they need it, and with `sync` this must be process context: all that
    /// `needs_process()` asks, which only [`Completed::complete`] does.
    #[inline(always)]
    unsafe fn finish(self, fs_ret: Option<i32>, sync: bool) -> Result<usize> {
        // `iomap_dio_complete()`: what the file system's completion returns replaces the
        // bio's result (XFS fails every write after a shutdown with `EIO`).
        let res = match fs_ret {
            Some(0) => Ok(self.len()),
            Some(e) => Err(Error::from_errno(e)),
            None => self.status().map(|()| self.len()),
        };
        let bio = self.bio;
        let req = bio.data();
        let (kiocb, inode, sync_ret, polled) = (
            req.kiocb.as_ptr(),
            req.inode.as_ptr(),
            req.sync_ret,
            req.polled,
        );
        // SAFETY: The inode is valid; this ends the count `Offered::map` took, once, before
        // the position moves, as `iomap_dio_complete()` ends it.
        unsafe { bindings::inode_dio_end(inode) };
        let mut ret = match res {
            Ok(n) => {
                // SAFETY: The kiocb is valid until the request completes, below. `n` is what
                // the bio transferred, at most `u32::MAX`.
                unsafe { (*kiocb).ki_pos += n as i64 };
                n as isize
            }
            Err(e) => e.to_errno() as isize,
        };
        let mut res = res;
        if sync && ret > 0 {
            // SAFETY: The kiocb is valid, its position past the write; process context (the
            // caller's guarantee).
            ret = unsafe { bindings::generic_write_sync(kiocb, ret) };
            if ret < 0 {
                // An errno: it fits an `i32`.
                res = Err(Error::from_errno(ret as i32));
            }
        }
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

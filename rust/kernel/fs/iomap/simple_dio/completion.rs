// SPDX-License-Identifier: GPL-2.0

//! A submitted read whose bio is done ([`CompletedRead`]), and how this module ends it.

use super::bio::DioRequest;
#[cfg(doc)]
use super::{MappedRead, SimpleDioRead};
use crate::{bindings, block::bio::Bio, fs::inode::Inode, prelude::*};

/// A submitted read whose bio is done, as [`SimpleDioRead::end_io`] sees it.
///
/// This module completes the read once the path has looked at it, from the bio's status and
/// size: it reports an error through fserror, dirties user pages that writeback cleaned during
/// the read, advances the file position and hands the result to the submitter. Whatever needs
/// process context (an error, a page to dirty) is deferred to the super block's
/// `s_dio_done_wq` when the bio completes in interrupt context ([`CompletedRead::deferred`]).
/// A path holds only a shared reference: it can neither complete a read twice nor keep one
/// from completing.
///
/// # Invariants
///
/// `bio` was submitted by [`MappedRead::submit`] and is done. `redirty` is whether it read
/// into user pages that are no longer all dirty.
pub struct CompletedRead<'a, D: Send + 'static> {
    bio: Bio<'a, DioRequest<D>>,
    redirty: bool,
}

impl<'a, D: Send + 'static> CompletedRead<'a, D> {
    /// # Safety
    ///
    /// `bio` must have been submitted by [`MappedRead::submit`] and be done.
    // Once per completion: inlined.
    #[inline(always)]
    pub(super) unsafe fn new(bio: Bio<'a, DioRequest<D>>) -> Self {
        let redirty = bio.data().user_backed && !bio.pages_still_dirty();
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
    ///
    /// Not offered to [`SimpleDioRead::end_io`], which may run in interrupt context, where
    /// what an `Inode` offers (an fserror report, the workqueue's creation) must not be
    /// called: this module calls them only from process context.
    #[inline]
    fn inode(&self) -> &Inode {
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
    pub(super) fn complete_or_defer(self) {
        if !self.needs_process() {
            // SAFETY: Nothing to do needs process context: no error to report, no page to
            // dirty, so `complete` does not sleep.
            let _ = unsafe { self.complete_atomic() };
            return;
        }
        let bio = self.bio;
        let req = bio.data();
        // SAFETY: The inode is valid until the read completes.
        let sb = unsafe { (*req.inode.as_ptr()).i_sb };
        let work = req.work.get();
        // The work owns the bio until `Vtable::complete_work` takes it back.
        let _ = bio.into_raw();
        // SAFETY: The workqueue exists: `OfferedRead::map` created it before mapping this
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
    pub(super) unsafe fn complete(mut self) -> Result<usize> {
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
        unsafe { self.complete_atomic() }
    }

    /// Completes the read: unpins the pages, advances the position, ends the
    /// `inode_dio_begin()` count, withdraws a polled bio, frees the bio, then hands the result
    /// to the submitter (`->ki_complete` for an asynchronous read, the read's return value for
    /// a synchronous one).
    ///
    /// # Safety
    ///
    /// An error must have been reported and user pages dirtied again where they need it
    /// (`needs_process()`), which only [`CompletedRead::complete`] does.
    #[inline(always)]
    unsafe fn complete_atomic(self) -> Result<usize> {
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
        // SAFETY: The inode is valid; this ends the count `OfferedRead::map` took, once.
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

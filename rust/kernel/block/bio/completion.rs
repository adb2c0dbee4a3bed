// SPDX-License-Identifier: GPL-2.0

//! Submitting a bio to complete asynchronously: the [`EndIo`] a submitter implements, and the
//! [`CompletedBio`] it is handed in the context the bio completes in.

use super::Bio;
use crate::{bindings, error::Result, prelude::*};

/// What a submitter of asynchronous bios implements to see them complete ([`Bio::submit`]).
pub trait EndIo<D: 'static> {
    /// Sees `bio` done, in the context the block layer completes it in: hard or soft interrupt
    /// context, possibly, where nothing may sleep. Dropping the [`CompletedBio`] (here or
    /// later) unpins the pages still pinned into it, drops its `D` (in that context: a `D`
    /// whose drop sleeps must be moved out first) and frees it; whoever waits for the bio to
    /// keep the set alive must be told after that.
    fn end_io(bio: CompletedBio<D>);
}

/// A bio whose I/O is done, as [`EndIo::end_io`] sees it.
///
/// It offers only what may be called in interrupt context: no submission, no page dirtying (see
/// [`Bio::release_pages`]); `D`'s own methods are the implementer's to choose.
///
/// # Invariants
///
/// The bio was submitted by [`Bio::submit`] and is done; its set, device and memory are valid
/// until this object is dropped.
pub struct CompletedBio<D: 'static>(Bio<'static, D>);

impl<D: 'static> CompletedBio<D> {
    /// Returns the completion status as a result (`EIO`, `EAGAIN`, ... on failure).
    #[inline]
    pub fn status(&self) -> Result {
        self.0.status()
    }

    /// Returns the number of bytes the bio did not transfer (none, once it succeeded).
    #[inline]
    pub fn residual(&self) -> u32 {
        self.0.size()
    }

    /// Returns the per-request data.
    #[inline]
    pub fn data(&self) -> &D {
        self.0.data()
    }

    /// Returns the per-request data, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut D {
        self.0.data_mut()
    }

    /// Returns whether every page of the bio is still dirty (see [`Bio::pages_still_dirty`]).
    #[inline]
    pub fn pages_still_dirty(&self) -> bool {
        self.0.pages_still_dirty()
    }

    /// Unpins the bio's pages without dirtying them; it does not sleep.
    #[inline]
    pub fn release_pages(&mut self) {
        self.0.release_pages()
    }
}

impl<'a, D: Send + 'static> Bio<'a, D> {
    /// Submits the bio (`submit_bio()`); `E::end_io` sees it complete.
    ///
    /// Fails with `EINVAL`, submitting nothing and dropping the bio, for a bio without a device,
    /// that carries no data, or that was submitted before.
    ///
    /// `E::end_io` may run before this returns (a bio the block layer fails at once, past the
    /// end of the device say), on this thread: the caller must not hold what it takes.
    ///
    /// # Safety
    ///
    /// The bio's set (or [`BioStorage`](super::BioStorage)), its device and the memory of its
    /// pages (and a bvec iterator's array whose vectors it took) must stay valid, beyond `'a` if
    /// need be, until the [`CompletedBio`]
    /// handed to `E::end_io` is dropped, and the code of `E::end_io` until it returns (a
    /// module waits for its bios before it unloads).
    pub unsafe fn submit<E: EndIo<D>>(self) -> Result {
        if !self.ready() {
            return Err(EINVAL);
        }
        let bio = self.into_raw();
        // SAFETY: The bio is ours, complete and not in flight; its ownership passes to the block
        // layer, which hands it to `end_io_trampoline` once, done. What it uses stays valid
        // until then, by the caller's guarantee.
        unsafe {
            (*bio).bi_end_io = Some(end_io_trampoline::<D, E>);
            bindings::submit_bio(bio);
        }
        Ok(())
    }
}

/// The `bi_end_io` of a bio submitted by [`Bio::submit`] for `E`.
///
/// # Safety
///
/// `bio` must be a bio (of a `BioSet<D>` or a `BioStorage<D, _>`) that [`Bio::submit`] submitted
/// for `E`, now done.
unsafe extern "C" fn end_io_trampoline<D: Send + 'static, E: EndIo<D>>(bio: *mut bindings::bio) {
    // INVARIANT: Submitted by `Bio::submit` and done; the submitter keeps what it uses valid
    // until the `CompletedBio` is dropped.
    // SAFETY: `Bio::submit` gave up the ownership, which the block layer hands back here; the
    // `'static` stands for "until dropped", which the submitter guarantees.
    let bio = CompletedBio(unsafe { Bio::<'static, D>::from_raw(bio) });
    E::end_io(bio);
}

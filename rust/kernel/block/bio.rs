// SPDX-License-Identifier: GPL-2.0

//! Block I/O requests (`struct bio`) and bio sets whose front pad embeds per-request data.
//!
//! A [`BioSet<D>`] allocates each bio with room in front of it for a `D`, so a caller's
//! per-request state and the bio come from one allocation: [`Bio<D>`] owns both. One
//! concept a file: [`BlockDevice`] (the device), [`BioSet`] (the set and its front pad),
//! [`Bio`] (here) and the pages a bio reads into (`pages.rs`).
//!
//! C header: [`include/linux/bio.h`](srctree/include/linux/bio.h)

use crate::{
    bindings,
    error::{Error, Result},
};
use core::{marker::PhantomData, mem::offset_of, ptr::NonNull};

mod device;
mod pages;
mod set;
mod tests;

use self::set::BioWithData;
pub use self::{device::BlockDevice, set::BioSet};

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
}

impl<D> Drop for Bio<'_, D> {
    #[inline]
    fn drop(&mut self) {
        // Pages still pinned (a bio dropped before or after I/O without an explicit release)
        // must not stay pinned.
        self.release_pages();
        // SAFETY: The data is initialised and owned (type invariant); it is dropped once,
        // before the memory holding it goes back to the bio set with the last `bio_put`. The set
        // is alive: it lives for `'a` (type invariant), which the type holds for a bio that was
        // never given away, and which the callers of `from_raw`/`from_data` guarantee for one
        // that came back from C.
        unsafe {
            core::ptr::drop_in_place(Self::data_ptr(self.as_raw()));
            bindings::bio_put(self.as_raw());
        }
    }
}

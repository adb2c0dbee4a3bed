// SPDX-License-Identifier: GPL-2.0

//! The state of a read in flight, kept in the front pad of its bio, and the read's bio
//! before submission.

use crate::{
    bindings,
    block::bio::{Bio, BioSet},
    types::Opaque,
};
use core::{cell::Cell, marker::PhantomData, ptr::NonNull};

#[cfg(doc)]
use super::{Extent, MappedRead, Served};

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
    pub(super) kiocb: NonNull<bindings::kiocb>,
    pub(super) inode: NonNull<bindings::inode>,
    pub(super) sync_ret: *const Cell<isize>,
    pub(super) len: u32,
    pub(super) polled: bool,
    /// The buffer is user memory: its pages were dirtied before the read and must be dirty
    /// again when it ends.
    pub(super) user_backed: bool,
    pub(super) data: D,
    // A raw work item rather than `kernel::workqueue::Work`: that one runs a function of the
    // module, which would drop the registration's reference (`percpu_ref`) and then still
    // have to return into the module's text, which unloading may free as soon as the count
    // reaches zero. The hook's C work function calls the path and drops the reference after
    // it, from built-in code.
    pub(super) work: Opaque<bindings::work_struct>,
}

// SAFETY: The raw pointers are those of a request, which may complete on any CPU; `sync_ret`
// is only used by the thread that waits for the bio. `D: Send` makes the data movable.
unsafe impl<D: Send> Send for DioRequest<D> {}

/// A bio set for a simple path whose per-request data is `D`.
pub type DioBioSet<D> = BioSet<DioRequest<D>>;

/// A bio for read `'a`, from [`Extent::alloc_bio`], not submitted yet.
///
/// Invariant in `'a`, the lifetime of the one read it was made for (as [`Served`] is): a bio
/// filled for one read can be neither kept for nor submitted by another, whose kiocb, inode
/// and buffer are not the ones it holds.
///
/// # Invariants
///
/// `len_align_mask` is the read's alignment less one, as `iomap_dio_alignment()` computes the
/// alignment for its file and device; the read's position and length satisfy it.
pub struct ReadBio<'a, D> {
    pub(super) bio: Bio<'a, DioRequest<D>>,
    pub(super) len_align_mask: u32,
    pub(super) _read: PhantomData<fn(&'a ()) -> &'a ()>,
}

impl<D> ReadBio<'_, D> {
    /// Returns the path's data of the read.
    #[inline]
    pub fn data(&self) -> &D {
        &self.bio.data().data
    }

    /// Returns the path's data of the read, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut D {
        &mut self.bio.data_mut().data
    }

    /// Returns the number of bytes the bio reads.
    #[inline]
    pub fn size(&self) -> u32 {
        self.bio.size()
    }
}

/// A bio that holds the whole buffer of its read, from [`MappedRead::fill_bio`]: ready for
/// [`MappedRead::submit`].
///
/// # Invariants
///
/// The bio holds exactly the buffer of the read it was pinned for, which is not empty.
pub struct FilledBio<'a, D>(pub(super) ReadBio<'a, D>);

impl<'a, D> core::ops::Deref for FilledBio<'a, D> {
    type Target = ReadBio<'a, D>;

    #[inline]
    fn deref(&self) -> &ReadBio<'a, D> {
        &self.0
    }
}

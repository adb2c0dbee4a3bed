// SPDX-License-Identifier: GPL-2.0

//! The state of a request in flight, kept in the front pad of its bio, and the request's bio
//! before submission.

use super::direction::{Direction, Read};
use crate::{
    bindings,
    block::bio::{Bio, BioSet, BioStorage},
    ffi::c_int,
    types::Opaque,
};
use core::{cell::Cell, marker::PhantomData, ptr::NonNull};

#[cfg(doc)]
use super::{Extent, Mapped, Served};

/// Makes a type invariant in `'a`.
type Invariant<'a> = fn(&'a ()) -> &'a ();

/// A file system's `->end_io` of a direct write (`struct iomap_dio_ops`).
pub(super) type DioEndIo = unsafe extern "C" fn(*mut bindings::kiocb, isize, c_int, u32) -> c_int;

/// The state of a request in flight, in the front pad of its bio: this module's part and the
/// path's `D`.
///
/// # Invariants
///
/// `kiocb` and `inode` are those of the request the bio serves, valid until it completes.
/// `sync_ret` is null for an asynchronous request, and otherwise points to the slot where the
/// submitting thread, which waits for the bio, takes the result from. Once the bio is
/// submitted, `len` is the number of bytes it transfers. `write` is whether the request is a
/// write; for a write, `end_io` is the file system's `->end_io` (if any) and `need_sync`
/// whether it must be synced after its bio; for a read they are `None` and false.
// `repr(C)` with the uninitialised work item last: in between initialised fields, the
// compiler fills it with zeroes when it merges their stores.
#[repr(C)]
pub struct DioRequest<D> {
    pub(super) kiocb: NonNull<bindings::kiocb>,
    pub(super) inode: NonNull<bindings::inode>,
    pub(super) sync_ret: *const Cell<isize>,
    pub(super) end_io: Option<DioEndIo>,
    pub(super) len: u32,
    pub(super) polled: bool,
    /// The buffer is user memory: its pages were dirtied before the read and must be dirty
    /// again when it ends.
    pub(super) user_backed: bool,
    pub(super) write: bool,
    pub(super) need_sync: bool,
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

/// The vectors of the bio of a synchronous request that need no allocation: as many as
/// `block/fops.c`'s `DIO_INLINE_BIO_VECS` (a page-aligned buffer of 16 KiB) and the inline
/// vectors of a bio set's bio (`BIO_INLINE_VECS`), which are defined in C files.
const SYNC_INLINE_VECS: usize = 4;

/// Room on the hook's stack for the bio of a synchronous request, which its submitter waits
/// for: as `__blkdev_direct_IO_simple()` keeps its bio, without an allocation.
pub(super) type SyncBioStorage<D> = BioStorage<DioRequest<D>, SYNC_INLINE_VECS>;

/// The largest [`SyncBioStorage`] the hook keeps on its stack: a path whose `D` makes it larger
/// gets every bio from its set.
pub(super) const SYNC_STORAGE_MAX: usize = 512;

/// A bio for request `'a`, from [`Extent::alloc_bio`], not submitted yet: of a read or a
/// write, as `Dir` says.
///
/// Invariant in `'a`, the lifetime of the one request it was made for (as [`Served`] is): a
/// bio filled for one request can be neither kept for nor submitted by another, whose kiocb,
/// inode and buffer are not the ones it holds.
///
/// # Invariants
///
/// `len_align_mask` is the request's alignment less one, as `iomap_dio_alignment()` computes
/// the alignment for its file and device; the request's position and length satisfy it. The
/// bio's operation is `Dir::OP`. The bio is in the hook's [`SyncBioStorage`] only if the
/// request is synchronous (its submitter waits for the bio); otherwise it is of the path's
/// `DioBioSet<D>`.
pub struct DioBio<'a, D, Dir: Direction> {
    pub(super) bio: Bio<'a, DioRequest<D>>,
    pub(super) len_align_mask: u32,
    pub(super) _req: PhantomData<(Invariant<'a>, Dir)>,
}

/// The bio of a read.
pub type ReadBio<'a, D> = DioBio<'a, D, Read>;

impl<D, Dir: Direction> DioBio<'_, D, Dir> {
    /// Returns the path's data of the request.
    #[inline]
    pub fn data(&self) -> &D {
        &self.bio.data().data
    }

    /// Returns the path's data of the request, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut D {
        &mut self.bio.data_mut().data
    }

    /// Returns the number of bytes the bio transfers.
    #[inline]
    pub fn size(&self) -> u32 {
        self.bio.size()
    }
}

/// A bio that holds the whole buffer of its request, from [`Mapped::fill_bio`]: ready for
/// [`Mapped::submit`].
///
/// # Invariants
///
/// The bio holds exactly the buffer of the request it was pinned for, which is not empty.
pub struct FilledBio<'a, D, Dir: Direction>(pub(super) DioBio<'a, D, Dir>);

impl<'a, D, Dir: Direction> core::ops::Deref for FilledBio<'a, D, Dir> {
    type Target = DioBio<'a, D, Dir>;

    #[inline]
    fn deref(&self) -> &DioBio<'a, D, Dir> {
        &self.0
    }
}

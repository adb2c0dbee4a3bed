// SPDX-License-Identifier: GPL-2.0

//! The direction of a request ([`Read`] or [`Write`]): its buffer, its bio's operation, and
//! which of the path's methods serves it.

use super::{
    registration::SimpleDio,
    request::{Offered, Outcome},
};
use crate::{
    bindings,
    block::bio::{BioIter, Op},
    iov::{IovIterDest, IovIterSource},
    prelude::*,
};

mod private {
    pub trait Sealed {}
}

/// The direction of a direct-I/O request: what its buffer is, and what its bio does.
///
/// Sealed: the mechanism trusts it for the direction of the bio and the rules it applies.
pub trait Direction: private::Sealed + Sized + 'static {
    /// The request's buffer: the destination of a read, the source of a write.
    type Iter<'a>: BioIter<'a> + 'a;
    /// What the bio does to the device.
    const OP: Op;
    /// Whether the request writes the file.
    const WRITE: bool;

    /// Wraps the buffer of a request of this direction.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid `struct iov_iter` of this direction (`ITER_DEST` for a read,
    /// `ITER_SOURCE` for a write), whose memory may be used so for `'a`, and used by nothing
    /// else meanwhile.
    unsafe fn iter<'a>(ptr: *mut bindings::iov_iter) -> &'a mut Self::Iter<'a>;

    /// Offers `req` to the method of `path` that serves this direction.
    fn serve<'a, T: SimpleDio>(
        path: &'a T,
        req: Offered<'a, T::Data, Self>,
    ) -> Result<Outcome<'a, T::Reason>>;
}

/// A read of the file: the device writes the buffer.
pub enum Read {}

/// A write of the file: the device reads the buffer.
pub enum Write {}

/// Implements [`Direction`] for `$dir`: its buffer type, its bio's operation, whether it
/// writes, and the method of the path that serves it.
macro_rules! impl_direction {
    ($dir:ident, $iter:ident, $op:expr, $write:literal, $serve:ident) => {
        impl private::Sealed for $dir {}

        impl Direction for $dir {
            type Iter<'a> = $iter<'a>;
            const OP: Op = $op;
            const WRITE: bool = $write;

            #[inline(always)]
            unsafe fn iter<'a>(ptr: *mut bindings::iov_iter) -> &'a mut $iter<'a> {
                // SAFETY: The caller's guarantee: a vector of this direction, usable so for
                // `'a`.
                unsafe { $iter::from_raw(ptr) }
            }

            #[inline(always)]
            fn serve<'a, T: SimpleDio>(
                path: &'a T,
                req: Offered<'a, T::Data, Self>,
            ) -> Result<Outcome<'a, T::Reason>> {
                path.$serve(req)
            }
        }
    };
}

impl_direction!(Read, IovIterDest, Op::Read, false, read);
impl_direction!(Write, IovIterSource, Op::Write, true, write);

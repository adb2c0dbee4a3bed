// SPDX-License-Identifier: GPL-2.0

//! A simple direct-I/O path: the safe side of the hook in `fs/iomap/simple-dio-hook.c`.
//!
//! The hook offers the path its reads from `iomap_dio_read_simple()`, where file systems opt
//! in (`IOMAP_SIMPLE_DIO_OPT_IN`), or else from `iomap_dio_rw()`; either way the path
//! sees the same request, with the caller's mapping operations. Where file systems opt in, it
//! also offers the path their small direct overwrites, from `iomap_dio_write_simple()`, while
//! `/sys/kernel/iomap/simple_write` selects it.
//!
//! A path implements [`SimpleDio`] and registers with [`Registration`]. Each request comes to
//! it as an [`Offered`] of its [`Direction`] ([`OfferedRead`], [`OfferedWrite`]): it may map
//! the range ([`Offered::map`], through a real `struct iomap_iter`, as `iomap_iter()` would),
//! find the mapping one extent over the whole request ([`Mapped::extent`]), allocate its one
//! bio ([`Extent::alloc_bio`]), fill it with the whole buffer ([`Mapped::fill_bio`]) and
//! submit it ([`Mapped::submit`]), or decline. Both directions go through the same types; the
//! direction is a type parameter, so a read's bio can hold only a destination and a write's
//! only a source. The rules a request must follow to end as the generic path would end it are
//! kept here, not by the path: which requests one bio may serve at all ([`Decline`]: not
//! empty, within the file, not encrypted, no `FORCE_WAIT`/`PARTIAL`/`BOUNCE`, a file system
//! with `->iomap_begin`; for a write also not atomic, not ending inside the last block, no
//! stable writes, no latched writeback error, no page cached over the range, and a pure
//! overwrite: mapped with `IOMAP_OVERWRITE_ONLY`, neither new nor shared), flushing the page
//! cache before mapping a read and never after, what one bio can serve (one written extent
//! over the whole request, which is the only way to a bio), the alignment
//! `iomap_dio_alignment()` asks (computed here, not passed in), the `->iomap_end` call,
//! `inode_dio_begin`/`inode_dio_end`, giving the iterator back untouched on a decline, the
//! result (taken from the bio, never from the path), a write's `REQ_FUA` or later sync and its
//! file system's `->end_io`, the completion of the kiocb (exactly once, by this module: a path
//! only looks at a [`Completed`]), dirtying user pages again after a read and dropping page
//! cache after a write, the fserror reports, polling and the trace events. A path's only proof
//! that it served a request is the [`Served`] that submitting it returned, branded with the
//! request's lifetime.
//!
//! What safe code can still do is leak: `mem::forget` of a [`DioBio`] or [`FilledBio`]
//! leaks its bio and the pages pinned into it, as forgetting any owner leaks what it owns.
//! It cannot leave the request open: the state the trampoline undoes (`->iomap_end`,
//! `inode_dio_begin()`, the iterator) is the trampoline's, not the path's.
//!
//! The bio of a request carries no `REQ_NOWAIT`, as the generic path's bios do not: a
//! device without `BLK_FEAT_NOWAIT` (dm-crypt, md, most dm targets) fails such a bio with
//! `EOPNOTSUPP`, and one that would have to split it fails it with `EAGAIN`. An
//! `IOCB_NOWAIT` request still does not wait for page cache writeback, maps with
//! `IOMAP_NOWAIT` and allocates its bio with `GFP_NOWAIT` (`EAGAIN` if that would sleep, as
//! upstream's C path does).
//!
//! One concept a file: [`direction`] (read or write), [`bio`] (the front-pad state and the
//! request's bio), [`request`] (the offered and mapped request, its outcome), [`completion`]
//! (the completed request) and [`registration`] (the trait, its registration and the C
//! callbacks).
//!
//! # Examples
//!
//! A path that serves every read and write it can map and fill, and counts nothing:
//!
//! ```
//! use kernel::fs::iomap::simple_dio::{
//!     Completed, Direction, DioBioSet, Offered, OfferedRead, OfferedWrite, Outcome, SimpleDio,
//! };
//! use kernel::prelude::*;
//!
//! #[pin_data]
//! struct Path {
//!     #[pin]
//!     bioset: DioBioSet<()>,
//! }
//!
//! impl Path {
//!     fn serve<'a, Dir: Direction>(
//!         &'a self,
//!         req: Offered<'a, (), Dir>,
//!     ) -> Result<Outcome<'a, ()>> {
//!         let Ok(mut req) = req.map()? else {
//!             return Ok(Outcome::Declined(()));
//!         };
//!         let Ok(extent) = req.extent() else {
//!             return Ok(Outcome::Declined(()));
//!         };
//!         let bio = extent.alloc_bio(&self.bioset, ())?;
//!         match req.fill_bio(bio)? {
//!             Ok(bio) => Ok(Outcome::Served(req.submit(bio))),
//!             Err(_) => Ok(Outcome::Declined(())),
//!         }
//!     }
//! }
//!
//! impl SimpleDio for Path {
//!     type Data = ();
//!     type Reason = ();
//!
//!     fn read<'a>(&'a self, req: OfferedRead<'a, ()>) -> Result<Outcome<'a, ()>> {
//!         self.serve(req)
//!     }
//!
//!     fn write<'a>(&'a self, req: OfferedWrite<'a, ()>) -> Result<Outcome<'a, ()>> {
//!         self.serve(req)
//!     }
//!
//!     fn declined(&self, _reason: ()) {}
//!
//!     fn end_io(&self, _done: &Completed<'_, ()>) {}
//! }
//! ```
//!
//! C header: [`include/linux/iomap-simple-dio.h`](srctree/include/linux/iomap-simple-dio.h)

mod bio;
mod completion;
mod direction;
mod registration;
mod request;
mod tests;

pub use self::{
    bio::{DioBio, DioBioSet, DioRequest, FilledBio, ReadBio},
    completion::{Completed, CompletedRead},
    direction::{Direction, Read, Write},
    registration::{Registration, SimpleDio},
    request::{
        Decline, Extent, Mapped, MappedRead, MappedWrite, Offered, OfferedRead, OfferedWrite,
        Outcome, Served,
    },
};

// SPDX-License-Identifier: GPL-2.0

//! A simple direct-I/O read path: the safe side of the hook in `fs/iomap/simple-dio-hook.c`.
//!
//! The hook offers the path its reads from `iomap_dio_read_simple()`, where file systems opt
//! in (`IOMAP_SIMPLE_DIO_OPT_IN`), or else from `iomap_dio_rw()`; either way the path
//! sees the same request, with the caller's mapping operations.
//!
//! A path implements [`SimpleDioRead`] and registers with [`Registration`]. Each read comes
//! to it as an [`OfferedRead`]: it may map the range ([`OfferedRead::map`], through a real
//! `struct iomap_iter`, as `iomap_iter()` would), find the mapping one extent over the whole
//! read ([`MappedRead::extent`]), allocate its one bio ([`Extent::alloc_bio`]), fill it with
//! the whole buffer ([`MappedRead::fill_bio`]) and submit it ([`MappedRead::submit`]), or
//! decline. The rules a read must follow to end as the generic path would end it are kept
//! here, not by the path: which reads one bio may serve at all (not empty, within the file,
//! not encrypted, no `FORCE_WAIT`/`PARTIAL`/`BOUNCE`, a file system with `->iomap_begin`:
//! [`Decline`]), flushing the page cache before mapping and never after, what one bio can
//! read (one written extent over the whole read, which is the only way to a bio), the
//! alignment `iomap_dio_alignment()` asks (computed here, not passed in), the `->iomap_end`
//! call, `inode_dio_begin`/`inode_dio_end`,
//! giving the iterator back untouched on a decline, the result (taken from the bio, never from
//! the path), the completion of the kiocb (exactly once, by this module: a path only looks at
//! a [`CompletedRead`]), dirtying user pages again, the fserror reports, polling and the trace
//! events. A path's only proof that it served a read is the [`Served`] that submitting it
//! returned, branded with the read's lifetime.
//!
//! What safe code can still do is leak: `mem::forget` of a [`ReadBio`] or [`FilledBio`]
//! leaks its bio and the pages pinned into it, as forgetting any owner leaks what it owns.
//! It cannot leave the request open: the state the read trampoline undoes (`->iomap_end`,
//! `inode_dio_begin()`, the iterator) is the trampoline's, not the path's.
//!
//! The bio of a read carries no `REQ_NOWAIT`, as the generic path's read bios do not: a
//! device without `BLK_FEAT_NOWAIT` (dm-crypt, md, most dm targets) fails such a bio with
//! `EOPNOTSUPP`, and one that would have to split it fails it with `EAGAIN`. An
//! `IOCB_NOWAIT` read still does not wait for page cache writeback, maps with
//! `IOMAP_NOWAIT` and allocates its bio with `GFP_NOWAIT` (`EAGAIN` if that would sleep, as
//! upstream's C path does).
//!
//! One concept a file: [`bio`] (the front-pad state and the read's bio), [`read`] (the
//! offered and mapped read, its outcome), [`completion`] (the completed read) and
//! [`registration`] (the trait, its registration and the C callbacks).
//!
//! # Examples
//!
//! A path that serves every read it can map and fill, and counts nothing:
//!
//! ```
//! use kernel::fs::iomap::simple_dio::{
//!     CompletedRead, DioBioSet, OfferedRead, Outcome, SimpleDioRead,
//! };
//! use kernel::prelude::*;
//!
//! #[pin_data]
//! struct Path {
//!     #[pin]
//!     bioset: DioBioSet<()>,
//! }
//!
//! impl SimpleDioRead for Path {
//!     type Data = ();
//!     type Reason = ();
//!
//!     fn read<'a>(&'a self, req: OfferedRead<'a, ()>) -> Result<Outcome<'a, ()>> {
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
//!
//!     fn declined(&self, _reason: ()) {}
//!
//!     fn end_io(&self, _done: &CompletedRead<'_, ()>) {}
//! }
//! ```
//!
//! C header: [`include/linux/iomap-simple-dio.h`](srctree/include/linux/iomap-simple-dio.h)

mod bio;
mod completion;
mod read;
mod registration;
mod tests;

pub use self::{
    bio::{DioBioSet, DioRequest, FilledBio, ReadBio},
    completion::CompletedRead,
    read::{Decline, Extent, MappedRead, OfferedRead, Outcome, Served},
    registration::{Registration, SimpleDioRead},
};

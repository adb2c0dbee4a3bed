// SPDX-License-Identifier: GPL-2.0

//! Simple direct-I/O path for iomap file systems.
//!
//! Serves small `O_DIRECT` reads that map to one written extent, and, where file systems
//! offer them and `/sys/kernel/iomap/simple_write` selects it, small `O_DIRECT` overwrites of
//! written blocks, with a single bio from a dedicated bio set, whose front pad holds the
//! per-request state: one allocation per request, no `struct iomap_dio`, no `iomap_iter`
//! loop, and completion straight from `->bi_end_io` (errors, page cache to drop and syncs
//! are completed from the super block's `s_dio_done_wq`). Everything else is left to
//! `__iomap_dio_rw()`. This file is the policy: what is served, what is counted; the
//! mechanism, with every rule a request must follow to end as the generic path would end it,
//! is `kernel::fs::iomap::simple_dio`. See `Documentation/filesystems/iomap/simple-dio.rst`.

use core::fmt;
use kernel::{
    bindings,
    debugfs::{Dir, File},
    error::Error,
    fs::iomap::{
        simple_dio::{
            Completed, Decline, DioBioSet, Direction, Offered, OfferedRead, OfferedWrite, Outcome,
            Registration, SimpleDio,
        },
        NotOneExtent,
    },
    percpu_stats::PerCpuStats,
    prelude::*,
};

module! {
    type: SimpleDioModule,
    name: "iomap_simple_dio",
    authors: ["simple-dio-rs developers"],
    description: "Simple direct-I/O path for iomap file systems",
    license: "GPL",
}

/// Declares the counters: one list gives the variants, their order and their names.
macro_rules! stats {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        /// Why a request was, or was not, served by the simple path: one counter each.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(usize)]
        enum Stat {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Stat {
            /// Every counter, in the order `stats` shows them.
            const ALL: &'static [Stat] = &[$(Stat::$variant,)*];
            /// The number of counters.
            const COUNT: usize = Self::ALL.len();

            /// The counter's name in `stats`.
            fn name(self) -> &'static str {
                match self {
                    $(Stat::$variant => $name,)*
                }
            }
        }
    };
}

stats! {
    /// Served by the simple path.
    Hit => "hits",
    /// Zero bytes asked for.
    Empty => "fallback_empty",
    /// Larger than the simple path serves (64 KiB, or one block if larger).
    TooLarge => "fallback_too_large",
    /// `IOMAP_DIO_FORCE_WAIT`, `IOMAP_DIO_PARTIAL` or `IOMAP_DIO_BOUNCE` asked for.
    DioFlags => "fallback_dio_flags",
    /// Reaches past the end of the file.
    BeyondEof => "fallback_beyond_eof",
    /// The file is encrypted (fscrypt).
    Encrypted => "fallback_encrypted",
    /// The file system maps with `->iomap_next` only.
    NoIomapBegin => "fallback_no_iomap_begin",
    /// A file system the path has not been proven on (see `SERVED_FS`); where file
    /// systems opt in (`IOMAP_SIMPLE_DIO_OPT_IN`), never.
    FsNotServed => "fallback_fs_not_served",
    /// A hole, an unwritten extent, inline data, ...
    NotMapped => "fallback_not_mapped",
    /// The mapping ends before the read does.
    PartialMapping => "fallback_partial_mapping",
    /// The mapping carries integrity metadata.
    Integrity => "fallback_integrity",
    /// Fewer bytes than asked could be pinned (a multi-segment buffer, say).
    PinShort => "fallback_pin_short",
    /// Misaligned offset, length or buffer: `EINVAL` to the caller.
    Unaligned => "einval_unaligned",
    /// `IOCB_NOWAIT` would have blocked (page cache to write back, a mapping or a bio
    /// allocation that would sleep): `EAGAIN` to the caller.
    NowaitAgain => "eagain_nowait",
    /// The device failed the read.
    ReadError => "read_errors",
    /// Completions run from the workqueue (errors, pages to dirty again).
    WorkCompletion => "work_completions",
    /// A write served by the simple path.
    WriteHit => "write_hits",
    /// A served dsync write that went out `REQ_FUA`, with no sync after it.
    WriteFua => "write_fua",
    /// A write of zero bytes.
    WriteEmpty => "write_fallback_empty",
    /// A write larger than the simple path serves.
    WriteTooLarge => "write_fallback_too_large",
    /// A write with `iomap_dio_rw()` flags.
    WriteDioFlags => "write_fallback_dio_flags",
    /// A write that reaches past the end of the file.
    WriteBeyondEof => "write_fallback_beyond_eof",
    /// A write that ends inside the last block of the file (the generic path zeroes the rest).
    WriteEofTail => "write_fallback_eof_tail",
    /// An atomic write, or one with integrity metadata.
    WriteAtomic => "write_fallback_atomic",
    /// A write to an encrypted file.
    WriteEncrypted => "write_fallback_encrypted",
    /// A write to a file system without `->iomap_begin`.
    WriteNoIomapBegin => "write_fallback_no_iomap_begin",
    /// A write to a device that needs stable pages (XFS bounces the buffer).
    WriteStableWrites => "write_fallback_stable_writes",
    /// A write over pages in the page cache.
    WritePagesCached => "write_fallback_pages_cached",
    /// A write to a file with a writeback error latched.
    WriteWritebackError => "write_fallback_writeback_error",
    /// A write over a hole, an unwritten extent, inline data, ...
    WriteNotMapped => "write_fallback_not_mapped",
    /// A write whose mapping ends before it does.
    WritePartialMapping => "write_fallback_partial_mapping",
    /// A write whose mapping carries integrity metadata.
    WriteIntegrity => "write_fallback_integrity",
    /// A write that is not a pure overwrite: it would allocate, or its blocks are new or
    /// shared (reflink).
    WriteNotOverwrite => "write_fallback_not_overwrite",
    /// A write of which fewer bytes than asked could be pinned.
    WritePinShort => "write_fallback_pin_short",
    /// A misaligned write: `EINVAL` to the caller.
    WriteUnaligned => "write_einval_unaligned",
    /// An `IOCB_NOWAIT` write that would have blocked: `EAGAIN` to the caller.
    WriteNowaitAgain => "write_eagain_nowait",
    /// The device or the file system failed the write.
    WriteError => "write_errors",
    /// Write completions run from the workqueue (errors, syncs, page cache to drop).
    WriteWorkCompletion => "write_work_completions",
}

/// The file systems the path serves (`s_type->name`) where it is hooked into `iomap_dio_rw()`;
/// every other caller is declined, counted as `fallback_fs_not_served`. Where file systems opt
/// in through `iomap_dio_read_simple()`, the path serves those that call it, and no list is
/// needed.
///
/// Each was checked against the path's rules and is tested by `make test`: see the callers
/// table in `Documentation/filesystems/iomap/simple-dio.rst`.
const SERVED_FS: &[&[u8]] = &[b"ext4", b"xfs"];

/// The largest read served regardless of the block size.
///
/// Database pages (8 KiB PostgreSQL, 16 KiB InnoDB) and small-record key-value stores
/// read up to this on 4 KiB-block file systems, where the C series serves nothing. It
/// is one bio of at most 16 vectors, a page each, which the `biovec-16` slab of the bio
/// set's pool serves (17 for a buffer that starts inside a page: `biovec-64`; up to 4
/// vectors, 16 KiB of scattered pages, fit inline in the bio's own allocation). Beyond
/// it, the per-byte cost of the transfer dwarfs the per-request cost the path saves,
/// and a read is ever more likely to span several extents.
const MAX_READ_BYTES: usize = 64 * 1024;

/// The largest read the path serves: `MAX_READ_BYTES`, or one block if larger.
fn max_read_bytes(block_size: u32) -> usize {
    MAX_READ_BYTES.max(block_size as usize)
}

impl Stat {
    /// The counter of a request the mechanism declines for `why`: a write's when `write`.
    fn declined(why: Decline, write: bool) -> Self {
        // (read, write): a reason only a write has counts as a write's either way.
        let (read, written) = match why {
            Decline::Empty => (Stat::Empty, Stat::WriteEmpty),
            Decline::DioFlags => (Stat::DioFlags, Stat::WriteDioFlags),
            Decline::BeyondEof => (Stat::BeyondEof, Stat::WriteBeyondEof),
            Decline::Encrypted => (Stat::Encrypted, Stat::WriteEncrypted),
            Decline::NoIomapBegin => (Stat::NoIomapBegin, Stat::WriteNoIomapBegin),
            Decline::NotOneExtent(NotOneExtent::NotMapped) => {
                (Stat::NotMapped, Stat::WriteNotMapped)
            }
            Decline::NotOneExtent(NotOneExtent::Partial) => {
                (Stat::PartialMapping, Stat::WritePartialMapping)
            }
            Decline::NotOneExtent(NotOneExtent::Integrity) => {
                (Stat::Integrity, Stat::WriteIntegrity)
            }
            Decline::PinShort => (Stat::PinShort, Stat::WritePinShort),
            Decline::Atomic => return Stat::WriteAtomic,
            Decline::EofTail => return Stat::WriteEofTail,
            Decline::StableWrites => return Stat::WriteStableWrites,
            Decline::PagesCached => return Stat::WritePagesCached,
            Decline::WritebackError => return Stat::WriteWritebackError,
            Decline::NotOverwrite => return Stat::WriteNotOverwrite,
        };
        if write {
            written
        } else {
            read
        }
    }

    /// `read`, or `write` for a request of a direction that writes.
    #[inline(always)]
    fn of<Dir: Direction>(read: Stat, write: Stat) -> Stat {
        if Dir::WRITE {
            write
        } else {
            read
        }
    }
}

/// The per-CPU counters, shown in debugfs as `iomap_simple_dio/stats`.
#[pin_data]
struct Stats {
    #[pin]
    counters: PerCpuStats<{ Stat::COUNT }>,
}

impl Stats {
    fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            counters <- PerCpuStats::new(),
        })
    }

    fn count(&self, stat: Stat) {
        self.counters.add(stat as usize, 1);
    }

    fn get(&self, stat: Stat) -> u64 {
        self.counters.sum(stat as usize)
    }
}

impl fmt::Debug for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &stat in Stat::ALL {
            writeln!(f, "{} {}", stat.name(), self.get(stat))?;
        }
        Ok(())
    }
}

/// The simple path: its bio set and counters, handed to every callback.
#[pin_data]
struct SimpleDioPath {
    #[pin]
    bioset: DioBioSet<()>,
    #[pin]
    stats: File<Stats>,
    _dir: Dir,
}

impl SimpleDioPath {
    /// Counts `EAGAIN` from an `IOCB_NOWAIT` request that would have blocked, and passes `e`
    /// on.
    fn count_again<Dir: Direction>(&self, e: Error) -> Error {
        if e == EAGAIN {
            self.stats
                .count(Stat::of::<Dir>(Stat::NowaitAgain, Stat::WriteNowaitAgain));
        }
        e
    }

    /// Counts a failed request: an `EAGAIN` where the device would have blocked, or an error.
    fn count_failed(&self, e: Error, write: bool) {
        self.stats.count(match (e == EAGAIN, write) {
            (true, false) => Stat::NowaitAgain,
            (true, true) => Stat::WriteNowaitAgain,
            (false, false) => Stat::ReadError,
            (false, true) => Stat::WriteError,
        });
    }

    /// Serves a read or a write within the path's limits, or declines it.
    // Each trampoline is the only caller of its direction's copy: inlined into it.
    #[inline(always)]
    fn serve<'a, Dir: Direction>(&'a self, req: Offered<'a, (), Dir>) -> Result<Outcome<'a, Stat>> {
        let inode = req.inode();
        // A constant: the test is compiled out where file systems opt in (writes come only
        // from there).
        if !bindings::IOMAP_SIMPLE_DIO_HAS_OPT_IN
            && !SERVED_FS
                .iter()
                .any(|name| inode.super_block().type_name_is(name))
        {
            return Ok(Outcome::Declined(Stat::FsNotServed));
        }
        // The most common reason to decline comes first: large direct I/O. Every other rule is
        // the mechanism's, each tested once.
        if req.len() > max_read_bytes(inode.block_size()) {
            return Ok(Outcome::Declined(Stat::of::<Dir>(
                Stat::TooLarge,
                Stat::WriteTooLarge,
            )));
        }
        let mut req = match req.map().map_err(|e| self.count_again::<Dir>(e))? {
            Ok(req) => req,
            Err(why) => return Ok(Outcome::Declined(Stat::declined(why, Dir::WRITE))),
        };
        let extent = match req.extent() {
            Ok(extent) => extent,
            Err(why) => return Ok(Outcome::Declined(Stat::declined(why, Dir::WRITE))),
        };
        let fua = extent.fua();
        // `EINVAL` from here on is a misaligned request or buffer, which the generic path
        // fails the same way.
        let count_einval = |e: Error| {
            if e == EINVAL {
                self.stats
                    .count(Stat::of::<Dir>(Stat::Unaligned, Stat::WriteUnaligned));
            }
            self.count_again::<Dir>(e)
        };
        let bio = extent.alloc_bio(&self.bioset, ()).map_err(count_einval)?;
        let bio = match req.fill_bio(bio).map_err(count_einval)? {
            Ok(bio) => bio,
            Err(why) => return Ok(Outcome::Declined(Stat::declined(why, Dir::WRITE))),
        };
        self.stats.count(Stat::of::<Dir>(Stat::Hit, Stat::WriteHit));
        if fua {
            self.stats.count(Stat::WriteFua);
        }
        let served = req.submit(bio);
        if let Some(Err(e)) = served.result() {
            self.count_failed(e, Dir::WRITE);
        }
        Ok(Outcome::Served(served))
    }
}

impl SimpleDio for SimpleDioPath {
    type Data = ();
    type Reason = Stat;

    // The hook's read trampoline is this function's only caller: inlined into it.
    #[inline(always)]
    fn read<'a>(&'a self, req: OfferedRead<'a, ()>) -> Result<Outcome<'a, Stat>> {
        self.serve(req)
    }

    // As `read`, for the write trampoline.
    #[inline(always)]
    fn write<'a>(&'a self, req: OfferedWrite<'a, ()>) -> Result<Outcome<'a, Stat>> {
        self.serve(req)
    }

    fn declined(&self, reason: Stat) {
        self.stats.count(reason);
    }

    // As `read`.
    #[inline(always)]
    fn end_io(&self, done: &Completed<'_, ()>) {
        let write = done.is_write();
        if let Err(e) = done.status() {
            self.count_failed(e, write);
        }
        if done.deferred() {
            self.stats.count(if write {
                Stat::WriteWorkCompletion
            } else {
                Stat::WorkCompletion
            });
        }
    }
}

struct SimpleDioModule {
    _registration: Registration<SimpleDioPath>,
}

impl kernel::Module for SimpleDioModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let dir = Dir::new(c"iomap_simple_dio");
        // SAFETY: The module holds the registration until its exit, which none of the path's
        // callbacks brings about.
        let registration = unsafe {
            Registration::new(try_pin_init!(SimpleDioPath {
                bioset <- DioBioSet::new(4),
                stats <- dir.read_only_file(c"stats", Stats::new()),
                _dir: dir.clone(),
            }))
        }?;
        pr_info!("simple direct-I/O path registered\n");
        // Dropping the registration unregisters the path and waits for its reads.
        Ok(Self {
            _registration: registration,
        })
    }
}

#[cfg(CONFIG_IOMAP_SIMPLE_DIO_KUNIT_TEST)]
#[path = "iomap_simple_dio_test.rs"]
mod kunit;

// SPDX-License-Identifier: GPL-2.0

//! Simple direct-I/O read path for iomap file systems.
//!
//! Serves small `O_DIRECT` reads that map to one written extent with a single bio from a
//! dedicated bio set, whose front pad holds the per-request state: one allocation per read,
//! no `struct iomap_dio`, no `iomap_iter` loop, and completion straight from `->bi_end_io`
//! (errors are completed from the super block's `s_dio_done_wq`). Everything else is left
//! to `__iomap_dio_rw()`. This file is the policy: what is served, what is counted; the
//! mechanism, with every rule a read must follow to end as the generic path would end it,
//! is `kernel::fs::iomap::simple_dio`. See `Documentation/filesystems/iomap/simple-dio.rst`.

use core::fmt;
use kernel::{
    bindings,
    debugfs::{Dir, File},
    error::Error,
    fs::iomap::{
        simple_dio::{
            CompletedRead, Decline, DioBioSet, OfferedRead, Outcome, Registration, SimpleDioRead,
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
    description: "Simple direct-I/O read path for iomap file systems",
    license: "GPL",
}

/// Declares the counters: one list gives the variants, their order and their names.
macro_rules! stats {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        /// Why a read was, or was not, served by the simple path: one counter each.
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

impl From<Decline> for Stat {
    /// The counter of a read the mechanism declines.
    fn from(why: Decline) -> Self {
        match why {
            Decline::Empty => Stat::Empty,
            Decline::DioFlags => Stat::DioFlags,
            Decline::BeyondEof => Stat::BeyondEof,
            Decline::Encrypted => Stat::Encrypted,
            Decline::NoIomapBegin => Stat::NoIomapBegin,
            Decline::NotOneExtent(NotOneExtent::NotMapped) => Stat::NotMapped,
            Decline::NotOneExtent(NotOneExtent::Partial) => Stat::PartialMapping,
            Decline::NotOneExtent(NotOneExtent::Integrity) => Stat::Integrity,
            Decline::PinShort => Stat::PinShort,
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

/// The simple read path: its bio set and counters, handed to every callback.
#[pin_data]
struct SimpleDioPath {
    #[pin]
    bioset: DioBioSet<()>,
    #[pin]
    stats: File<Stats>,
    _dir: Dir,
}

impl SimpleDioPath {
    /// Counts `EAGAIN` from an `IOCB_NOWAIT` read that would have blocked, and passes `e` on.
    fn count_again(&self, e: Error) -> Error {
        if e == EAGAIN {
            self.stats.count(Stat::NowaitAgain);
        }
        e
    }

    /// Counts a failed read: an `EAGAIN` where the device would have blocked, or an error.
    fn count_failed(&self, e: Error) {
        self.stats.count(if e == EAGAIN {
            Stat::NowaitAgain
        } else {
            Stat::ReadError
        });
    }
}

impl SimpleDioRead for SimpleDioPath {
    type Data = ();
    type Reason = Stat;

    // The hook's read trampoline is this function's only caller: inlined into it.
    #[inline(always)]
    fn read<'a>(&'a self, req: OfferedRead<'a, ()>) -> Result<Outcome<'a, Stat>> {
        let inode = req.inode();
        // A constant: the test is compiled out where file systems opt in.
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
            return Ok(Outcome::Declined(Stat::TooLarge));
        }
        let mut req = match req.map().map_err(|e| self.count_again(e))? {
            Ok(req) => req,
            Err(why) => return Ok(Outcome::Declined(why.into())),
        };
        let extent = match req.extent() {
            Ok(extent) => extent,
            Err(why) => return Ok(Outcome::Declined(Decline::from(why).into())),
        };
        // `EINVAL` from here on is a misaligned read or buffer, which the generic path fails
        // the same way.
        let count_einval = |e: Error| {
            if e == EINVAL {
                self.stats.count(Stat::Unaligned);
            }
            self.count_again(e)
        };
        let bio = extent.alloc_bio(&self.bioset, ()).map_err(count_einval)?;
        let bio = match req.fill_bio(bio).map_err(count_einval)? {
            Ok(bio) => bio,
            Err(why) => return Ok(Outcome::Declined(why.into())),
        };
        self.stats.count(Stat::Hit);
        let served = req.submit(bio);
        if let Some(Err(e)) = served.result() {
            self.count_failed(e);
        }
        Ok(Outcome::Served(served))
    }

    fn declined(&self, reason: Stat) {
        self.stats.count(reason);
    }

    // As `read`.
    #[inline(always)]
    fn end_io(&self, done: &CompletedRead<'_, ()>) {
        if let Err(e) = done.status() {
            self.count_failed(e);
        }
        if done.deferred() {
            self.stats.count(Stat::WorkCompletion);
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
        pr_info!("simple direct-I/O read path registered\n");
        // Dropping the registration unregisters the path and waits for its reads.
        Ok(Self {
            _registration: registration,
        })
    }
}

#[cfg(CONFIG_IOMAP_SIMPLE_DIO_KUNIT_TEST)]
#[path = "iomap_simple_dio_test.rs"]
mod kunit;

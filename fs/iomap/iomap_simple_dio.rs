// SPDX-License-Identifier: GPL-2.0

//! Simple direct-I/O read path for iomap file systems.
//!
//! Serves small `O_DIRECT` reads that map to one written extent with a single bio from a
//! dedicated bio set, whose front pad holds the per-request state: one allocation per read,
//! no `struct iomap_dio`, no `iomap_iter` loop, and completion straight from `->bi_end_io`
//! (errors are completed from the super block's `s_dio_done_wq`). Everything else is left
//! to `__iomap_dio_rw()`. See `Documentation/filesystems/iomap/simple-dio.rst`.

use core::{
    fmt,
    mem::offset_of,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    bindings,
    block::bio::{Bio, BioSet},
    debugfs::{Dir, File},
    error::Error,
    ffi::c_void,
    fs::iomap::{self, HasCompletionWork, Inode, Iocb, IomapOps, Registration, SimpleDioRead},
    iov::IovIterDest,
    percpu_counter::PerCpuCounters,
    prelude::*,
    sync::static_lock_class,
    types::Opaque,
};

module! {
    type: SimpleDioModule,
    name: "iomap_simple_dio",
    authors: ["simple-dio-rs developers"],
    description: "Simple direct-I/O read path for iomap file systems",
    license: "GPL",
}

/// Why a read was, or was not, served by the simple path: one counter each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
enum Stat {
    /// Served by the simple path.
    Hit,
    /// Zero bytes asked for.
    Empty,
    /// Larger than the simple path serves (64 KiB, or one block if larger).
    TooLarge,
    /// `IOMAP_DIO_FORCE_WAIT`, `IOMAP_DIO_PARTIAL` or `IOMAP_DIO_BOUNCE` asked for.
    DioFlags,
    /// Reaches past the end of the file.
    BeyondEof,
    /// The file is encrypted (fscrypt).
    Encrypted,
    /// The file system maps with `->iomap_next` only.
    NoIomapBegin,
    /// A hole, an unwritten extent, inline data, ...
    NotMapped,
    /// The mapping ends before the read does.
    PartialMapping,
    /// The mapping carries integrity metadata.
    Integrity,
    /// Fewer bytes than asked could be pinned (a multi-segment buffer, say).
    PinShort,
    /// Misaligned offset, length or buffer: `EINVAL` to the caller.
    Unaligned,
    /// `IOCB_NOWAIT` would have blocked: `EAGAIN` to the caller.
    NowaitAgain,
    /// The device failed the read.
    ReadError,
    /// Completions run from the workqueue (errors, pages to dirty again).
    WorkCompletion,
}

const NR_STATS: usize = Stat::WorkCompletion as usize + 1;

impl Stat {
    const ALL: [Stat; NR_STATS] = [
        Stat::Hit,
        Stat::Empty,
        Stat::TooLarge,
        Stat::DioFlags,
        Stat::BeyondEof,
        Stat::Encrypted,
        Stat::NoIomapBegin,
        Stat::NotMapped,
        Stat::PartialMapping,
        Stat::Integrity,
        Stat::PinShort,
        Stat::Unaligned,
        Stat::NowaitAgain,
        Stat::ReadError,
        Stat::WorkCompletion,
    ];

    fn name(self) -> &'static str {
        match self {
            Stat::Hit => "hits",
            Stat::Empty => "fallback_empty",
            Stat::TooLarge => "fallback_too_large",
            Stat::DioFlags => "fallback_dio_flags",
            Stat::BeyondEof => "fallback_beyond_eof",
            Stat::Encrypted => "fallback_encrypted",
            Stat::NoIomapBegin => "fallback_no_iomap_begin",
            Stat::NotMapped => "fallback_not_mapped",
            Stat::PartialMapping => "fallback_partial_mapping",
            Stat::Integrity => "fallback_integrity",
            Stat::PinShort => "fallback_pin_short",
            Stat::Unaligned => "einval_unaligned",
            Stat::NowaitAgain => "eagain_nowait",
            Stat::ReadError => "read_errors",
            Stat::WorkCompletion => "work_completions",
        }
    }
}

/// The largest read served regardless of the block size.
///
/// Database pages (8 KiB PostgreSQL, 16 KiB InnoDB) and small-record key-value stores
/// read up to this on 4 KiB-block file systems, where the C series serves nothing. It
/// is one bio of at most 16 vectors, which the `biovec-16` slab of the bio set's pool
/// serves (up to 4 vectors, 16 KiB of scattered pages, fit inline in the bio's own
/// allocation). Beyond it, the per-byte cost of the transfer dwarfs the per-request
/// cost the path saves, and a read is ever more likely to span several extents.
const MAX_READ_BYTES: usize = 64 * 1024;

/// The largest read the path serves: `MAX_READ_BYTES`, or one block if larger.
fn max_read_bytes(block_size: u32) -> usize {
    MAX_READ_BYTES.max(block_size as usize)
}

/// What the request test needs to know of a read.
struct Request {
    count: usize,
    pos: i64,
    i_size: i64,
    block_size: u32,
    dio_flags: u32,
    encrypted: bool,
    has_iomap_begin: bool,
}

/// Decides, before mapping, whether the simple path can serve a read.
fn check_request(r: &Request) -> Result<(), Stat> {
    if r.count == 0 {
        return Err(Stat::Empty);
    }
    // The most common reason to decline comes first: large direct I/O.
    if r.count > max_read_bytes(r.block_size) {
        return Err(Stat::TooLarge);
    }
    let declined =
        bindings::IOMAP_DIO_FORCE_WAIT | bindings::IOMAP_DIO_PARTIAL | bindings::IOMAP_DIO_BOUNCE;
    if r.dio_flags & declined != 0 {
        return Err(Stat::DioFlags);
    }
    if r.pos < 0 || i128::from(r.pos) + r.count as i128 > i128::from(r.i_size) {
        return Err(Stat::BeyondEof);
    }
    if r.encrypted {
        return Err(Stat::Encrypted);
    }
    if !r.has_iomap_begin {
        return Err(Stat::NoIomapBegin);
    }
    Ok(())
}

/// What the mapping test needs to know of a mapping.
struct Mapping {
    kind: u16,
    flags: u16,
    covers: bool,
    has_bdev: bool,
}

impl Mapping {
    fn of(map: &iomap::Iomap, pos: i64, count: usize) -> Self {
        Self {
            kind: map.kind(),
            flags: map.flags(),
            covers: map.covers(pos, count as u64),
            has_bdev: map.bdev().is_some(),
        }
    }
}

/// Decides whether a mapping of the read can be read with one bio.
// IOMAP_F_INTEGRITY is 0 without CONFIG_BLK_DEV_INTEGRITY: its test is then always false.
#[allow(clippy::bad_bit_mask)]
fn check_mapping(m: &Mapping) -> Result<(), Stat> {
    if m.kind != iomap::IOMAP_MAPPED || !m.has_bdev {
        return Err(Stat::NotMapped);
    }
    if !m.covers {
        return Err(Stat::PartialMapping);
    }
    if m.flags & iomap::IOMAP_F_INTEGRITY != 0 {
        return Err(Stat::Integrity);
    }
    Ok(())
}

/// Returns whether offset and length are multiples of `alignment` (a power of two).
fn is_aligned(pos: i64, count: usize, alignment: u32) -> bool {
    ((pos as u64) | count as u64) & (u64::from(alignment) - 1) == 0
}

/// The per-CPU counters, shown in debugfs as `iomap_simple_dio/stats`.
#[pin_data]
struct Stats {
    #[pin]
    counters: PerCpuCounters<NR_STATS>,
}

impl Stats {
    fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            counters <- PerCpuCounters::new(static_lock_class!()),
        })
    }

    fn count(&self, stat: Stat) {
        self.counters.add(stat as usize, 1);
    }

    fn get(&self, stat: Stat) -> i64 {
        self.counters.sum(stat as usize)
    }
}

impl fmt::Debug for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for stat in Stat::ALL {
            writeln!(f, "{} {}", stat.name(), self.get(stat))?;
        }
        Ok(())
    }
}

/// The state of one read, in the front pad of its bio.
struct SimpleDio {
    /// The request; taken when it is completed.
    iocb: Option<Iocb>,
    /// Bytes the bio reads.
    size: u32,
    /// The buffer is user memory: its pages were dirtied before the read.
    user_backed: bool,
    /// Completion from process context (errors, pages to dirty again).
    work: Opaque<bindings::work_struct>,
}

// SAFETY: The work item is only touched by the workqueue after `queue_work`, and the request
// is completed once, from whichever CPU finishes it.
unsafe impl Send for SimpleDio {}

// SAFETY: `work` is an `Opaque<work_struct>` field of `SimpleDio`.
unsafe impl HasCompletionWork for SimpleDio {
    const WORK_OFFSET: usize = offset_of!(SimpleDio, work);
}

/// Module-wide state, reached by the read path and completions through `STATE`.
#[pin_data]
struct State {
    #[pin]
    bioset: BioSet<SimpleDio>,
    #[pin]
    stats: File<Stats>,
    _dir: Dir,
}

/// The state, while the module is registered; every call and completion holds the
/// registration, so it is never null or freed under them.
static STATE: AtomicPtr<State> = AtomicPtr::new(core::ptr::null_mut());

fn state() -> &'static State {
    // SAFETY: Set before registering and cleared only after unregistering, which waits for
    // every call, bio and work item: all our callers run in between.
    unsafe { &*STATE.load(Ordering::Acquire) }
}

/// Finishes a read: result, file position, fserror, pages, `inode_dio_end`.
///
/// Returns the request and its result; called once the bio is done, from process context
/// when `process_ctx` (pages may then be dirtied again here).
fn finish(mut bio: Bio<SimpleDio>, process_ctx: bool) -> (Option<Iocb>, isize) {
    let st = state();
    let status = bio.status();
    let size = bio.data().size;
    let user_backed = bio.data().user_backed;
    let mut iocb = bio.data_mut().iocb.take();
    let mut ret = size as isize;
    if let Some(iocb) = iocb.as_mut() {
        // SAFETY: The file of a request in progress holds its inode.
        let inode = unsafe { Inode::from_raw(iocb.inode().as_raw()) };
        match status {
            Ok(()) => iocb.advance_pos(size.into()),
            Err(e) => {
                // REQ_NOWAIT bios fail with EAGAIN where the device would block.
                st.stats.count(if e == EAGAIN {
                    Stat::NowaitAgain
                } else {
                    Stat::ReadError
                });
                if e != EAGAIN && e != ENOTBLK {
                    inode.report_read_error(iocb.pos(), size.into(), e);
                }
                ret = e.to_errno() as isize;
            }
        }
        if user_backed {
            // Re-dirtying sleeps; `end_io` punts here when it is needed.
            bio.release_pages(process_ctx && !bio.pages_all_dirty());
        } else {
            bio.release_pages(false);
        }
        inode.dio_end();
        iomap::trace_complete(iocb, if ret < 0 { ret as i32 } else { 0 }, ret);
        // The bio goes away below: io_uring must not poll it any more.
        iocb.clear_poll_bio();
    }
    drop(bio);
    (iocb, ret)
}

/// The simple read path, registered behind `iomap_dio_rw()`.
struct SimpleDioPath;

impl SimpleDioPath {
    /// Maps, checks and submits; `-ENOTBLK` hands the read to the generic path.
    fn serve(
        st: &State,
        iocb: Iocb,
        iter: &mut IovIterDest<'_>,
        ops: &IomapOps,
        dio_flags: u32,
    ) -> isize {
        // SAFETY: The file of a request in progress holds its inode; it outlives this call.
        let inode = unsafe { Inode::from_raw(iocb.inode().as_raw()) };
        let count = iter.len();
        let pos = iocb.pos();
        let req = Request {
            count,
            pos,
            i_size: inode.size(),
            block_size: inode.block_size(),
            dio_flags,
            encrypted: inode.is_encrypted(),
            has_iomap_begin: ops.has_begin(),
        };
        if let Err(why) = check_request(&req) {
            st.stats.count(why);
            return -(bindings::ENOTBLK as isize);
        }

        let nowait = iocb.flags() & iomap::IOCB_NOWAIT != 0;
        let map_flags = iomap::IOMAP_DIRECT | if nowait { iomap::IOMAP_NOWAIT } else { 0 };
        if let Err(e) = iocb.write_and_wait(count) {
            if e == EAGAIN {
                st.stats.count(Stat::NowaitAgain);
            }
            return e.to_errno() as isize;
        }

        inode.dio_begin();
        let mut map = iomap::Iomap::new();
        if let Err(e) = ops.begin(inode, pos, count as u64, map_flags, &mut map) {
            inode.dio_end();
            if e == EAGAIN {
                st.stats.count(Stat::NowaitAgain);
            }
            return e.to_errno() as isize;
        }
        let ret = Self::submit_mapped(st, iocb, iter, &map, dio_flags, nowait);
        let done = if ret == -(bindings::EIOCBQUEUED as isize) || ret > 0 {
            count as isize
        } else {
            0
        };
        ops.end(inode, pos, count as u64, done, map_flags, &mut map);
        if ret < 0 && ret != -(bindings::EIOCBQUEUED as isize) {
            inode.dio_end();
        }
        ret
    }

    /// Builds and submits the bio for a mapped read; `inode_dio_end` is the caller's on error.
    fn submit_mapped(
        st: &State,
        iocb: Iocb,
        iter: &mut IovIterDest<'_>,
        map: &iomap::Iomap,
        dio_flags: u32,
        nowait: bool,
    ) -> isize {
        // SAFETY: As in `serve`.
        let inode = unsafe { Inode::from_raw(iocb.inode().as_raw()) };
        let count = iter.len();
        let pos = iocb.pos();
        if let Err(why) = check_mapping(&Mapping::of(map, pos, count)) {
            st.stats.count(why);
            return -(bindings::ENOTBLK as isize);
        }
        let Some(bdev) = map.bdev() else {
            return -(bindings::ENOTBLK as isize);
        };
        let alignment = if dio_flags & bindings::IOMAP_DIO_FSBLOCK_ALIGNED != 0 {
            inode.block_size()
        } else {
            bdev.logical_block_size()
        };
        if !is_aligned(pos, count, alignment) {
            st.stats.count(Stat::Unaligned);
            return EINVAL.to_errno() as isize;
        }
        let sync = iocb.is_sync();
        if !sync {
            if let Err(e) = inode.super_block().init_dio_done_wq() {
                return e.to_errno() as isize;
            }
        }

        iomap::trace_begin(&iocb, iter, dio_flags);
        let user_backed = iomap::iter_is_user_backed(iter);
        let nr_vecs = iomap::iter_vecs_to_alloc(iter, bindings::BIO_MAX_VECS as u16);
        let gfp = if nowait { GFP_NOWAIT } else { GFP_KERNEL };
        let hipri = iocb.flags() & iomap::IOCB_HIPRI != 0;
        let ioprio = iocb.ioprio();
        let data = SimpleDio {
            iocb: Some(iocb),
            size: 0,
            user_backed,
            work: Opaque::uninit(),
        };
        let mut bio = match st
            .bioset
            .alloc(bdev, nr_vecs, bindings::req_op_REQ_OP_READ, gfp, data)
        {
            Ok(bio) => bio,
            Err(e) => {
                st.stats.count(Stat::NowaitAgain);
                return e.to_errno() as isize;
            }
        };
        bio.set_sector(map.sector(pos));
        bio.set_ioprio(ioprio);
        if let Err(e) = bio.add_iter_pages(iter, alignment - 1) {
            if e == EINVAL {
                st.stats.count(Stat::Unaligned);
            }
            return e.to_errno() as isize;
        }
        let size = bio.size();
        if size as usize != count {
            bio.release_pages(false);
            // SAFETY: `add_iter_pages` advanced `iter` by exactly `size` bytes.
            unsafe { iter.revert(size as usize) };
            st.stats.count(Stat::PinShort);
            return -(bindings::ENOTBLK as isize);
        }
        bio.data_mut().size = size;
        if user_backed {
            bio.set_pages_dirty();
        }
        if nowait {
            bio.add_opf(bindings::REQ_NOWAIT);
        }
        st.stats.count(Stat::Hit);

        if sync {
            // The status is read again in `finish`.
            let _ = bio.submit_wait();
            return finish(bio, true).1;
        }
        if hipri {
            bio.add_opf(bindings::REQ_POLLED);
            let raw = bio.as_raw();
            if let Some(iocb) = bio.data().iocb.as_ref() {
                iocb.set_poll_bio(raw);
            }
        }
        iomap::submit::<Self>(bio);
        -(bindings::EIOCBQUEUED as isize)
    }
}

impl SimpleDioRead for SimpleDioPath {
    type Data = SimpleDio;

    fn read(
        iocb: Iocb,
        iter: &mut IovIterDest<'_>,
        ops: &IomapOps,
        _private: *mut c_void,
        dio_flags: u32,
    ) -> isize {
        Self::serve(state(), iocb, iter, ops, dio_flags)
    }

    fn end_io(bio: Bio<SimpleDio>) {
        let needs_work =
            bio.status().is_err() || (bio.data().user_backed && !bio.pages_all_dirty());
        if needs_work {
            if let Some(iocb) = bio.data().iocb.as_ref() {
                // SAFETY: The file of a request in progress holds its inode.
                let inode = unsafe { Inode::from_raw(iocb.inode().as_raw()) };
                let sb = inode.super_block();
                state().stats.count(Stat::WorkCompletion);
                iomap::queue_work::<Self>(sb, bio);
                return;
            }
        }
        let (iocb, ret) = finish(bio, false);
        if let Some(iocb) = iocb {
            iocb.complete(ret);
        }
    }

    fn complete_work(bio: Bio<SimpleDio>) {
        let (iocb, ret) = finish(bio, true);
        if let Some(iocb) = iocb {
            iocb.complete(ret);
        }
    }
}

struct SimpleDioModule {
    registration: Option<Registration<SimpleDioPath>>,
    _state: Pin<KBox<State>>,
}

impl kernel::Module for SimpleDioModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let dir = Dir::new(c"iomap_simple_dio");
        let state = KBox::try_pin_init(
            try_pin_init!(State {
                bioset <- BioSet::new(4),
                stats <- dir.read_only_file(c"stats", Stats::new()),
                _dir: dir.clone(),
            }),
            GFP_KERNEL,
        )?;
        let ptr: *const State = &*state;
        STATE.store(ptr.cast_mut(), Ordering::Release);
        let registration = match Registration::new() {
            Ok(r) => r,
            Err(e) => {
                STATE.store(core::ptr::null_mut(), Ordering::Release);
                return Err(e);
            }
        };
        pr_info!("simple direct-I/O read path registered\n");
        Ok(Self {
            registration: Some(registration),
            _state: state,
        })
    }
}

impl Drop for SimpleDioModule {
    fn drop(&mut self) {
        // Waits for every read, bio and completion work of the path.
        drop(self.registration.take());
        STATE.store(core::ptr::null_mut(), Ordering::Release);
    }
}

#[cfg(CONFIG_IOMAP_SIMPLE_DIO_KUNIT_TEST)]
#[path = "iomap_simple_dio_test.rs"]
mod kunit;

// SPDX-License-Identifier: GPL-2.0
//! sdio-check: O_DIRECT read and write checker for the simple direct-I/O path.
//!
//! Runs in the test guest (statically linked). It writes files with a known pattern and
//! reads them back with O_DIRECT through pread, preadv2 (RWF_NOWAIT, RWF_HIPRI), Linux AIO
//! (io_submit) and io_uring (interrupt driven or IORING_SETUP_IOPOLL), checking every byte
//! returned and the result against what is expected.
//!
//! ```text
//! sdio-check fill FILE SIZE [--seed S]          pattern file, written and fsynced
//! sdio-check write FILE [--off N] [--len N] [--seed S]   buffered write, left dirty
//! sdio-check dwrite FILE [--engine E] [--off N] [--len N] [--count K] [--random]
//!                 [--dsync] [--sync] [--nowait] [--hipri] [--iov N] [--buf-off N]
//!                 [--base-seed B] [--expect-errno NAME] [--fs-error NAME] [--seed S]
//!                 [--check-only] [--allow-errno NAMES] [--race KIND] [--fdatasync]
//! sdio-check replay-log LOG DEV --end-mark NAME
//!
//! dwrite: O_DIRECT writes of the pattern for S, each read back at once with O_DIRECT and
//! checked byte for byte. With --base-seed B (the file was filled with B), the whole file is
//! checked at the end against what it must hold, with O_DIRECT and then buffered reads (whose
//! page cache is dropped again), so a write that landed anywhere else fails too.
//! --check-only: no write; the file must hold what the same command did write (the offsets
//! come from the seed), as after a power cut that must have kept every acknowledged write.
//! --fdatasync: fdatasync() the file after the writes (it must succeed); only then are they
//! acknowledged.
//! --race KIND: a thread races the writes, until they are done: truncate (the file cut to
//! half its size and extended back), punch (FALLOC_FL_PUNCH_HOLE of a random block), zero
//! (FALLOC_FL_ZERO_RANGE of one), mmap (a shared mapping written with the pattern of seed
//! S + 1), bufwrite (buffered writes of that pattern), bufread (buffered reads), clone (the
//! file reflinked into FILE.clone, FICLONE, whose sectors must each hold the old data or a
//! write's at the end). The writes
//! are not read back one by one then; at the end, after fsync, every 512-byte sector must
//! hold one whole pattern the race allows (the base, the writes', the racer's, zeros; past
//! the truncation point never the base), and buffered reads must return what O_DIRECT
//! reads do: no stale page cache.
//! sdio-check read FILE [--engine E] [--off N] [--len N] [--count K] [--random]
//!                 [--nowait] [--hipri] [--iov N] [--buf-off N] [--unmapped] [--buf-file F]
//!                 [--expect-errno NAME] [--zero] [--zero-from N] [--seed S] [--secs T]
//!                 [--race-truncate] [--fs-error NAME]
//!
//! --race-truncate: the file is first cut to half its size and extended back (the upper
//! half is then a hole), and a thread keeps cutting and extending it while the reads
//! run: short reads are fine, but the lower half must read as the pattern and the
//! upper half as zeros; stale data past a truncation point fails.
//!
//! --fs-error NAME: watch the file's file system with fanotify (FAN_FS_ERROR) while
//! reading; after the reads, an error event carrying errno NAME must arrive (fserror
//! reports from a worker, so it is waited for, up to 10 seconds). `--fs-error none`:
//! no error event may arrive (the worker is given half a second after the reads).
//!
//! --buf-file F: the buffer is a shared mapping of file F (created, sized to fit), so the
//! pages read into are file pages, not anonymous memory.
//!
//! replay-log: replays a dm-log-writes log (LOG, the target's log device) onto DEV, whose
//! content must be what the logged device held when logging began, up to the mark NAME
//! (`dmsetup message DEV 0 mark NAME`). dm-log-writes logs a write only once it is stable
//! (a flush covered it, or it was REQ_FUA), so DEV then holds what the disk held if power
//! had been cut when the mark was set. Discarded ranges are written as zeros. Prints the
//! entries, flushes and FUA writes replayed.
//!
//! FILE may be a block device (a loop device over a pattern file): its size is its end.
//! dwrite takes one too.
//! ```
//! Engines (dwrite: the same, pwrite and pwritev2 for pread and preadv2): pread, preadv2,
//! aio, uring, uring-poll, uring-fixed (a registered buffer,
//! IORING_OP_READ_FIXED: the kernel reads into it through an ITER_BVEC iterator, as
//! loop, nfsd and other in-kernel callers do; one iovec only). Exit 0 when every read
//! matched.

use std::ffi::CString;
use std::process::exit;
use std::time::{Duration, Instant};

const ALIGN: usize = 4096;

fn die(msg: &str) -> ! {
    eprintln!("sdio-check: {msg}");
    exit(1)
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn errno_name(e: i32) -> String {
    match e {
        0 => "OK".into(),
        libc::EINVAL => "EINVAL".into(),
        libc::EAGAIN => "EAGAIN".into(),
        libc::EIO => "EIO".into(),
        libc::ENOMEM => "ENOMEM".into(),
        libc::EFAULT => "EFAULT".into(),
        libc::EOPNOTSUPP => "EOPNOTSUPP".into(),
        libc::ENOTBLK => "ENOTBLK".into(),
        _ => format!("errno{e}"),
    }
}

fn pattern_byte(seed: u64, off: u64) -> u8 {
    let word = (off & !7) ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    word.to_le_bytes()[(off & 7) as usize]
}

/// Page-aligned buffer from mmap, so parts of it can be unmapped.
struct Buf {
    ptr: *mut u8,
    map_len: usize,
}

impl Buf {
    fn new(len: usize) -> Buf {
        let map_len = (len + 2 * ALIGN).next_multiple_of(ALIGN);
        // SAFETY: Anonymous private mapping, checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            die("mmap failed");
        }
        Buf { ptr: ptr.cast(), map_len }
    }

    /// A buffer of `len` bytes that is a shared mapping of file `path`, sized to fit.
    fn new_file(len: usize, path: &str) -> Buf {
        let map_len = (len + 2 * ALIGN).next_multiple_of(ALIGN);
        let fd = open(path, libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC);
        // SAFETY: Valid fd.
        if unsafe { libc::ftruncate(fd, map_len as i64) } != 0 {
            die("ftruncate of the buffer file failed");
        }
        // SAFETY: Shared mapping of the file just sized, checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            die("mmap of the buffer file failed");
        }
        Buf { ptr: ptr.cast(), map_len }
    }

    /// Unmaps every page from `from` bytes into the buffer on.
    fn unmap_from(&self, from: usize) {
        let start = from.next_multiple_of(ALIGN);
        // SAFETY: The range lies within our mapping.
        unsafe { libc::munmap(self.ptr.add(start).cast(), self.map_len - start) };
    }
}

#[derive(Clone)]
struct Opts {
    engine: String,
    off: u64,
    len: usize,
    count: u64,
    random: bool,
    nowait: bool,
    hipri: bool,
    iov: usize,
    buf_off: usize,
    unmapped: bool,
    buf_file: Option<String>,
    expect_errno: Option<String>,
    zero_from: Option<u64>,
    seed: u64,
    secs: u64,
    race_truncate: bool,
    fs_error: Option<String>,
    /// Fault injection with a task filter (failslab, fail_page_alloc, fail_make_request):
    /// this task is marked to fail (`/proc/self/make-it-fail`) only while each read runs.
    fail_self: bool,
    /// A read may fail with one of these errnos (comma-separated; counted, reported); any
    /// other result must be the right data.
    allow_errno: Option<String>,
    /// dwrite: `RWF_DSYNC` on each write.
    dsync: bool,
    /// dwrite: `RWF_SYNC` on each write.
    sync: bool,
    /// dwrite: the seed the file was filled with, to check all of it at the end.
    base_seed: Option<u64>,
    /// dwrite: `fdatasync()` after the writes.
    fdatasync: bool,
    /// replay-log: the mark to replay up to.
    end_mark: Option<String>,
    /// dwrite: write nothing; check that the file holds what the same writes would have left
    /// (after a power cut, say).
    check_only: bool,
    /// dwrite: what a second thread does to the file while the writes run (see `race_loop`).
    race: Option<String>,
}

impl Opts {
    /// Whether result `r` is an error `--allow-errno` lets pass.
    fn allowed(&self, r: i64) -> bool {
        r < 0
            && self
                .allow_errno
                .as_deref()
                .is_some_and(|list| list.split(',').any(|e| e == errno_name(-r as i32)))
    }
}

fn parse_num(s: &str) -> u64 {
    let (n, mul) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 1024),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    n.parse::<u64>().unwrap_or_else(|_| die(&format!("bad number {s}"))) * mul
}

fn open(path: &str, flags: i32) -> i32 {
    let c = CString::new(path).unwrap();
    // SAFETY: Valid C string.
    let fd = unsafe { libc::open(c.as_ptr(), flags, 0o644) };
    if fd < 0 {
        die(&format!("open {path}: {}", errno_name(errno())));
    }
    fd
}

fn fill(path: &str, size: u64, seed: u64) {
    let fd = open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC);
    let chunk = 1 << 20;
    let mut buf = vec![0u8; chunk];
    let mut off = 0u64;
    while off < size {
        let n = chunk.min((size - off) as usize);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = pattern_byte(seed, off + i as u64);
        }
        // SAFETY: Valid buffer of n bytes.
        let r = unsafe { libc::pwrite(fd, buf.as_ptr().cast(), n, off as i64) };
        if r != n as isize {
            die("pwrite failed");
        }
        off += n as u64;
    }
    // SAFETY: Valid fd.
    if unsafe { libc::fsync(fd) } != 0 {
        die("fsync failed");
    }
    // Clean now: drop the page cache the writes left, which a direct write would have to
    // invalidate (and the simple path declines).
    // SAFETY: Valid fd.
    unsafe { libc::posix_fadvise(fd, 0, 0, libc::POSIX_FADV_DONTNEED) };
    // SAFETY: Valid fd.
    unsafe { libc::close(fd) };
}

/// Buffered write of the pattern for `seed` over `[off, off + len)`, not synced.
fn write_dirty(path: &str, off: u64, len: usize, seed: u64) {
    let fd = open(path, libc::O_WRONLY);
    let buf: Vec<u8> = (0..len as u64).map(|i| pattern_byte(seed, off + i)).collect();
    // SAFETY: Valid buffer of len bytes.
    let r = unsafe { libc::pwrite(fd, buf.as_ptr().cast(), len, off as i64) };
    if r != len as isize {
        die("pwrite failed");
    }
    // SAFETY: Valid fd.
    unsafe { libc::close(fd) };
}

/// Linux AIO, through raw system calls (no libaio needed).
mod aio {
    #[repr(C)]
    #[derive(Default)]
    pub struct IoCb {
        pub data: u64,
        pub key: u32,
        pub rw_flags: i32,
        pub opcode: u16,
        pub reqprio: i16,
        pub fildes: u32,
        pub buf: u64,
        pub nbytes: u64,
        pub offset: i64,
        pub reserved2: u64,
        pub flags: u32,
        pub resfd: u32,
    }
    #[repr(C)]
    #[derive(Default)]
    pub struct IoEvent {
        pub data: u64,
        pub obj: u64,
        pub res: i64,
        pub res2: i64,
    }
    pub const IOCB_CMD_PREADV: u16 = 7;
    pub const IOCB_CMD_PWRITEV: u16 = 8;
}

struct Engine {
    kind: String,
    fd: i32,
    ring: Option<io_uring::IoUring>,
    aio_ctx: libc::c_ulong,
}

impl Engine {
    fn new(kind: &str, fd: i32) -> Engine {
        let mut e = Engine {
            kind: kind.into(),
            fd,
            ring: None,
            aio_ctx: 0,
        };
        match kind {
            "pread" | "preadv2" | "pwrite" | "pwritev2" => {}
            "uring" | "uring-fixed" => {
                e.ring = Some(io_uring::IoUring::new(8).unwrap_or_else(|err| die(&format!("io_uring: {err}"))))
            }
            "uring-poll" => {
                e.ring = Some(
                    io_uring::IoUring::builder()
                        .setup_iopoll()
                        .build(8)
                        .unwrap_or_else(|err| die(&format!("io_uring iopoll: {err}"))),
                )
            }
            "aio" => {
                // SAFETY: io_setup writes the context id.
                let r = unsafe { libc::syscall(libc::SYS_io_setup, 8, &mut e.aio_ctx as *mut _) };
                if r != 0 {
                    die("io_setup failed");
                }
            }
            _ => die(&format!("unknown engine {kind}")),
        }
        e
    }

    /// One write from `iovs`; returns bytes or -errno.
    fn write(&mut self, iovs: &[libc::iovec], off: u64, o: &Opts) -> i64 {
        self.io(iovs, off, o, true)
    }

    /// One read into `iovs`; returns bytes or -errno.
    fn read(&mut self, iovs: &[libc::iovec], off: u64, o: &Opts) -> i64 {
        self.io(iovs, off, o, false)
    }

    /// One read into `iovs`, or write from them; returns bytes or -errno.
    fn io(&mut self, iovs: &[libc::iovec], off: u64, o: &Opts, write: bool) -> i64 {
        let mut flags = 0;
        if o.nowait {
            flags |= libc::RWF_NOWAIT;
        }
        if o.hipri {
            flags |= libc::RWF_HIPRI;
        }
        if write && o.dsync {
            flags |= libc::RWF_DSYNC;
        }
        if write && o.sync {
            flags |= libc::RWF_SYNC;
        }
        let res = |r: isize| if r < 0 { -(errno() as i64) } else { r as i64 };
        let (base, len) = (iovs[0].iov_base, iovs[0].iov_len);
        match self.kind.as_str() {
            "pread" | "pwrite" if iovs.len() == 1 && flags & !(libc::RWF_NOWAIT | libc::RWF_HIPRI) == 0 => {
                // SAFETY: The iovec describes our buffer.
                res(unsafe {
                    if write {
                        libc::pwrite(self.fd, base, len, off as i64)
                    } else {
                        libc::pread(self.fd, base, len, off as i64)
                    }
                })
            }
            "pread" | "preadv2" | "pwrite" | "pwritev2" => {
                let (p, n) = (iovs.as_ptr(), iovs.len() as i32);
                // SAFETY: The iovecs describe our buffer.
                res(unsafe {
                    if write {
                        libc::pwritev2(self.fd, p, n, off as i64, flags)
                    } else {
                        libc::preadv2(self.fd, p, n, off as i64, flags)
                    }
                })
            }
            "aio" => {
                let mut cb = aio::IoCb {
                    opcode: if write { aio::IOCB_CMD_PWRITEV } else { aio::IOCB_CMD_PREADV },
                    fildes: self.fd as u32,
                    buf: iovs.as_ptr() as u64,
                    nbytes: iovs.len() as u64,
                    offset: off as i64,
                    rw_flags: flags,
                    ..Default::default()
                };
                let mut cbp: *mut aio::IoCb = &mut cb;
                // SAFETY: One valid iocb.
                let r = unsafe { libc::syscall(libc::SYS_io_submit, self.aio_ctx, 1, &mut cbp as *mut _) };
                if r != 1 {
                    return -(errno() as i64);
                }
                let mut ev = aio::IoEvent::default();
                // SAFETY: Room for one event.
                let r = unsafe {
                    libc::syscall(
                        libc::SYS_io_getevents,
                        self.aio_ctx,
                        1,
                        1,
                        &mut ev as *mut _,
                        std::ptr::null::<libc::timespec>(),
                    )
                };
                if r != 1 {
                    die("io_getevents failed");
                }
                ev.res
            }
            "uring-fixed" => {
                if iovs.len() != 1 {
                    die("uring-fixed uses one buffer");
                }
                let ring = self.ring.as_mut().unwrap();
                // SAFETY: The buffer stays mapped until it is unregistered below.
                unsafe { ring.submitter().register_buffers(iovs) }
                    .unwrap_or_else(|e| die(&format!("IORING_REGISTER_BUFFERS: {e}")));
                let fd = io_uring::types::Fd(self.fd);
                let sqe = if write {
                    io_uring::opcode::WriteFixed::new(fd, base.cast(), len as u32, 0)
                        .offset(off)
                        .rw_flags(flags)
                        .build()
                } else {
                    io_uring::opcode::ReadFixed::new(fd, base.cast(), len as u32, 0)
                        .offset(off)
                        .rw_flags(flags)
                        .build()
                };
                // SAFETY: The registered buffer outlives the request.
                let r = unsafe { uring_one(ring, &sqe) };
                ring.submitter()
                    .unregister_buffers()
                    .unwrap_or_else(|e| die(&format!("IORING_UNREGISTER_BUFFERS: {e}")));
                r
            }
            _ => {
                let ring = self.ring.as_mut().unwrap();
                let (fd, p, n) = (io_uring::types::Fd(self.fd), iovs.as_ptr(), iovs.len() as u32);
                let sqe = if write {
                    io_uring::opcode::Writev::new(fd, p, n).offset(off).rw_flags(flags).build()
                } else {
                    io_uring::opcode::Readv::new(fd, p, n).offset(off).rw_flags(flags).build()
                };
                // SAFETY: The buffers outlive the request.
                unsafe { uring_one(ring, &sqe) }
            }
        }
    }
}

/// Submits one request on `ring`, waits for it and returns its result.
///
/// # Safety
///
/// The memory `sqe` points to must stay valid until it completes (this waits for that).
unsafe fn uring_one(ring: &mut io_uring::IoUring, sqe: &io_uring::squeue::Entry) -> i64 {
    let sqe = sqe.clone().user_data(7);
    // SAFETY: The caller keeps the request's memory valid; it completes before we return.
    unsafe { ring.submission().push(&sqe).unwrap_or_else(|_| die("sq full")) };
    ring.submit_and_wait(1).unwrap_or_else(|e| die(&format!("io_uring_enter: {e}")));
    // A polled ring's io_uring_enter() may return before the completion when the task must
    // reschedule (io_iopoll_check()), as it must when its CPU goes offline: poll again.
    let mut tries = 0;
    let cqe = loop {
        if let Some(cqe) = ring.completion().next() {
            break cqe;
        }
        tries += 1;
        if tries > 100_000 {
            die("no cqe");
        }
        match ring.submit_and_wait(1) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => die(&format!("io_uring_enter: {e}")),
        }
    };
    cqe.result() as i64
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `FICLONE` (linux/fs.h): `_IOW(0x94, 9, int)`.
const FICLONE: libc::Ioctl = 0x4004_9409;

// fanotify UAPI values (linux/fanotify.h) the libc crate may not carry.
const FAN_FS_ERROR: u64 = 0x0000_8000;
const FAN_REPORT_FID: u32 = 0x0000_0200;
const FAN_MARK_ADD: u32 = 0x0000_0001;
const FAN_MARK_FILESYSTEM: u32 = 0x0000_0100;
const FAN_EVENT_INFO_TYPE_ERROR: u8 = 5;

/// A fanotify group that receives the file-system error events of one file system.
struct FsErrorWatch {
    fd: i32,
}

impl FsErrorWatch {
    fn new(path: &str) -> Self {
        // SAFETY: Plain system call; FAN_FS_ERROR needs a FID-reporting group.
        let fd = unsafe {
            libc::fanotify_init(
                libc::FAN_CLASS_NOTIF | FAN_REPORT_FID | libc::FAN_NONBLOCK,
                libc::O_RDONLY as u32,
            )
        };
        if fd < 0 {
            die(&format!("fanotify_init: {}", errno_name(errno())));
        }
        let c = CString::new(path).unwrap_or_else(|_| die("bad path"));
        // SAFETY: Valid group fd and NUL-terminated path.
        let r = unsafe {
            libc::fanotify_mark(
                fd,
                FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
                FAN_FS_ERROR,
                libc::AT_FDCWD,
                c.as_ptr(),
            )
        };
        if r != 0 {
            die(&format!("fanotify_mark FAN_FS_ERROR: {}", errno_name(errno())));
        }
        Self { fd }
    }

    /// Waits up to `limit` for an error event; returns its errno and error count.
    fn wait(&self, limit: Duration) -> Option<(i32, u32)> {
        let deadline = Instant::now() + limit;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            let mut pfd = libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 };
            // SAFETY: One valid pollfd.
            if unsafe { libc::poll(&mut pfd, 1, 100) } <= 0 {
                continue;
            }
            // SAFETY: Valid fd and buffer.
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                continue;
            }
            let n = n as usize;
            let u16_at = |i: usize| u16::from_ne_bytes([buf[i], buf[i + 1]]);
            let u32_at = |i: usize| u32::from_ne_bytes(buf[i..i + 4].try_into().unwrap_or([0; 4]));
            // struct fanotify_event_metadata: event_len, vers, reserved, metadata_len, mask...
            let mut ev = 0;
            while ev + 24 <= n {
                let event_len = u32_at(ev) as usize;
                let meta_len = u16_at(ev + 6) as usize;
                let mask = u64::from_ne_bytes(buf[ev + 8..ev + 16].try_into().unwrap_or([0; 8]));
                if event_len < 24 || ev + event_len > n {
                    break;
                }
                if mask & FAN_FS_ERROR != 0 {
                    // Info records: struct fanotify_event_info_header { type, pad, len }.
                    let mut rec = ev + meta_len;
                    while rec + 4 <= ev + event_len {
                        let len = u16_at(rec + 2) as usize;
                        if buf[rec] == FAN_EVENT_INFO_TYPE_ERROR && rec + 12 <= n {
                            return Some((u32_at(rec + 4) as i32, u32_at(rec + 8)));
                        }
                        if len == 0 {
                            break;
                        }
                        rec += len;
                    }
                }
                ev += event_len;
            }
        }
        None
    }
}

fn read_cmd(path: &str, o: &Opts) {
    let watch = o.fs_error.as_ref().map(|_| FsErrorWatch::new(path));
    let fd = open(path, libc::O_RDONLY | libc::O_DIRECT);
    let size = file_size(fd);
    let mut eng = Engine::new(&o.engine, fd);
    let buf = match &o.buf_file {
        Some(f) => Buf::new_file(o.len + o.buf_off, f),
        None => Buf::new(o.len + o.buf_off),
    };
    if o.unmapped {
        buf.unmap_from(o.buf_off + o.len / 2);
    }
    // SAFETY: Within the mapping.
    let base = unsafe { buf.ptr.add(o.buf_off) };
    let iovs = iovecs(base, o.len, o.iov);
    let mut racer = None;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut zero_from = o.zero_from;
    if o.race_truncate {
        let half = (size / 2) & !(ALIGN as u64 - 1);
        let wfd = open(path, libc::O_WRONLY);
        // SAFETY: Valid fd.
        if unsafe { libc::ftruncate(wfd, half as i64) } != 0
            || unsafe { libc::ftruncate(wfd, size as i64) } != 0
        {
            die("ftruncate failed");
        }
        zero_from = Some(half);
        let stop = stop.clone();
        racer = Some(std::thread::spawn(move || {
            let mut flips = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: Valid fd.
                unsafe {
                    libc::ftruncate(wfd, half as i64);
                    libc::ftruncate(wfd, size as i64);
                }
                flips += 1;
            }
            flips
        }));
    }
    let mut rng = Rng(o.seed.wrapping_mul(2654435761).wrapping_add(12345) | 1);
    let start = Instant::now();
    // Opened once, before any read: opening a file allocates, which an injection that fails
    // this task's allocations would fail; writing to it does not.
    let fail_self = o.fail_self.then(|| {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/proc/thread-self/make-it-fail")
            .unwrap_or_else(|_| die("cannot open /proc/thread-self/make-it-fail (CONFIG_FAULT_INJECTION)"))
    });
    if fail_self.is_some() {
        fault_in_everything();
    }
    let (mut reads, mut bytes, mut allowed) = (0u64, 0u64, 0u64);
    loop {
        if o.secs > 0 {
            if start.elapsed() >= Duration::from_secs(o.secs) {
                break;
            }
        } else if reads >= o.count {
            break;
        }
        let off = if o.random {
            let slots = (size.saturating_sub(o.len as u64) / o.len as u64).max(0) + 1;
            (rng.next() % slots) * o.len as u64
        } else {
            o.off
        };
        if !o.unmapped {
            // Poison the buffer so stale contents cannot pass the check.
            // SAFETY: Within the mapping.
            unsafe { std::ptr::write_bytes(base, 0xa5, o.len) };
        }
        if let Some(f) = &fail_self {
            make_it_fail(f, true);
        }
        let r = eng.read(&iovs, off, o);
        if let Some(f) = &fail_self {
            make_it_fail(f, false);
        }
        reads += 1;
        if o.allowed(r) {
            allowed += 1;
            continue;
        }
        if let Some(want) = &o.expect_errno {
            let got = if r < 0 { errno_name(-r as i32) } else { "OK".into() };
            if &got != want {
                die(&format!("read {} at {off}: got {got} ({r}), expected {want}", o.len));
            }
            continue;
        }
        if r < 0 {
            die(&format!("read {} at {off} ({}): {}", o.len, o.engine, errno_name(-r as i32)));
        }
        let want = if off >= size { 0 } else { (size - off).min(o.len as u64) };
        if o.race_truncate {
            if r as u64 > want || r as u64 % 512 != 0 && off + (r as u64) < size {
                die(&format!("read {} at {off} during truncation: returned {r}", o.len));
            }
        } else if r as u64 != want {
            die(&format!("read {} at {off}: returned {r}, expected {want} (size {size})", o.len));
        }
        for i in 0..r as usize {
            // SAFETY: Within the buffer; r <= len.
            let got = unsafe { *base.add(i) };
            let at = off + i as u64;
            let exp = match zero_from {
                Some(z) if at >= z => 0,
                _ => pattern_byte(o.seed, at),
            };
            if got != exp {
                die(&format!(
                    "data mismatch at file offset {}: got {got:#04x}, expected {exp:#04x} (read {} at {off}, {})",
                    off + i as u64,
                    o.len,
                    o.engine
                ));
            }
        }
        bytes += r as u64;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = racer {
        let flips = t.join().unwrap_or(0);
        println!("racer: {flips} truncate/extend cycles");
    }
    check_fs_error(watch.as_ref(), o.fs_error.as_deref());
    if let Some(e) = &o.allow_errno {
        println!("allowed: {allowed} of {reads} reads failed with {e}");
    }
    println!("ok: {reads} reads, {bytes} bytes verified ({} engine)", o.engine);
}

/// The size of the file or block device open as `fd` (a device's is where it ends).
fn file_size(fd: i32) -> u64 {
    // SAFETY: stat buffer is written by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: Valid fd and stat buffer.
    unsafe { libc::fstat(fd, &mut st) };
    if st.st_mode & libc::S_IFMT != libc::S_IFBLK {
        return st.st_size as u64;
    }
    // SAFETY: Valid fd.
    let end = unsafe { libc::lseek(fd, 0, libc::SEEK_END) };
    if end < 0 {
        die("lseek to the end of the device failed");
    }
    end as u64
}

/// `len` bytes from `base` as `parts` iovecs (at least one), the last taking the rest.
fn iovecs(base: *mut u8, len: usize, parts: usize) -> Vec<libc::iovec> {
    let parts = parts.max(1);
    let mut iovs = Vec::new();
    let mut at = 0;
    for i in 0..parts {
        let n = if i + 1 == parts { len - at } else { len / parts };
        // SAFETY: Within the caller's buffer of `len` bytes.
        iovs.push(libc::iovec { iov_base: unsafe { base.add(at) }.cast(), iov_len: n });
        at += n;
    }
    iovs
}

/// After the I/O: with `want` "none", no FAN_FS_ERROR may arrive (half a second for the
/// worker); with an errno name, one carrying it must, within 10 seconds.
fn check_fs_error(watch: Option<&FsErrorWatch>, want: Option<&str>) {
    let (Some(watch), Some(want)) = (watch, want) else {
        return;
    };
    if want == "none" {
        if let Some((e, count)) = watch.wait(Duration::from_millis(500)) {
            die(&format!("FAN_FS_ERROR {} (error count {count}), expected none", errno_name(e)));
        }
        return;
    }
    match watch.wait(Duration::from_secs(10)) {
        Some((e, count)) if errno_name(e) == want => {
            println!("fanotify: FAN_FS_ERROR {want} (error count {count})")
        }
        Some((e, _)) => die(&format!("FAN_FS_ERROR carried {}, expected {want}", errno_name(e))),
        None => die(&format!("no FAN_FS_ERROR event within 10 s (expected {want})")),
    }
}

/// Reads `len` bytes at `off` of `fd` with `pread` into a fresh aligned buffer.
fn read_back(fd: i32, off: u64, len: usize) -> Vec<u8> {
    let buf = Buf::new(len);
    // SAFETY: The buffer has room for `len` bytes.
    let r = unsafe { libc::pread(fd, buf.ptr.cast(), len, off as i64) };
    if r != len as isize {
        die(&format!("read back {len} at {off}: {}", if r < 0 { errno_name(errno()) } else { format!("{r} bytes") }));
    }
    // SAFETY: `r` bytes were read into the buffer.
    let v = unsafe { std::slice::from_raw_parts(buf.ptr, len) }.to_vec();
    // SAFETY: Our own mapping.
    unsafe { libc::munmap(buf.ptr.cast(), buf.map_len) };
    v
}

/// Compares `got`, read at `off`, with what the file must hold there (`want(offset)`).
fn compare(got: &[u8], off: u64, what: &str, want: impl Fn(u64) -> u8) {
    for (i, &b) in got.iter().enumerate() {
        let at = off + i as u64;
        if b != want(at) {
            die(&format!("{what}: data mismatch at file offset {at}: got {b:#04x}, expected {:#04x}", want(at)));
        }
    }
}

fn dwrite_cmd(path: &str, o: &Opts) {
    let watch = o.fs_error.as_ref().map(|_| FsErrorWatch::new(path));
    let fd = open(path, libc::O_WRONLY | libc::O_DIRECT);
    let rfd = open(path, libc::O_RDONLY | libc::O_DIRECT);
    let size = file_size(fd);
    // Which seed each block of the file holds: the base seed, or the seed of a write.
    let mut written = vec![false; size.div_ceil(512) as usize];
    let mut eng = Engine::new(&o.engine, fd);
    let buf = Buf::new(o.len + o.buf_off);
    // SAFETY: Within the mapping.
    let base = unsafe { buf.ptr.add(o.buf_off) };
    let iovs = iovecs(base, o.len, o.iov);
    let mut rng = Rng(o.seed.wrapping_mul(2654435761).wrapping_add(54321) | 1);
    let (mut writes, mut bytes, mut allowed) = (0u64, 0u64, 0u64);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let racer = o.race.clone().map(|kind| {
        let (stop, path, seed) = (stop.clone(), path.to_string(), o.seed + 1);
        std::thread::spawn(move || race_loop(&kind, &path, size, seed, &stop))
    });
    while writes < o.count {
        let off = if o.random {
            let slots = (size.saturating_sub(o.len as u64) / o.len as u64) + 1;
            (rng.next() % slots) * o.len as u64
        } else {
            o.off
        };
        for i in 0..o.len {
            // SAFETY: Within the buffer.
            unsafe { *base.add(i) = pattern_byte(o.seed, off + i as u64) };
        }
        let r = if o.check_only { o.len as i64 } else { eng.write(&iovs, off, o) };
        writes += 1;
        if o.allowed(r) {
            allowed += 1;
            continue;
        }
        if let Some(want) = &o.expect_errno {
            let got = if r < 0 { errno_name(-r as i32) } else { "OK".into() };
            if &got != want {
                die(&format!("write {} at {off}: got {got} ({r}), expected {want}", o.len));
            }
            if r < 0 {
                continue;
            }
        }
        if r < 0 {
            die(&format!("write {} at {off} ({}): {}", o.len, o.engine, errno_name(-r as i32)));
        }
        if r as usize != o.len {
            die(&format!("write {} at {off}: returned {r}", o.len));
        }
        for b in off / 512..(off + o.len as u64).div_ceil(512) {
            if let Some(w) = written.get_mut(b as usize) {
                *w = true;
            }
        }
        if racer.is_none() {
            compare(&read_back(rfd, off, o.len), off, "direct read after the write", |a| {
                pattern_byte(o.seed, a)
            });
        }
        bytes += r as u64;
    }
    if o.fdatasync && !o.check_only {
        // SAFETY: Valid fd.
        if unsafe { libc::fdatasync(fd) } != 0 {
            die(&format!("fdatasync after the writes: {}", errno_name(errno())));
        }
    }
    if let Some(t) = racer {
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let rounds = t.join().unwrap_or(0);
        race_check(path, o, size, rounds);
        println!("ok: {writes} writes raced by {rounds} rounds of {}", o.race.as_deref().unwrap_or(""));
        return;
    }
    if let Some(base_seed) = o.base_seed {
        let want = |a: u64| {
            let seed = if written[(a / 512) as usize] { o.seed } else { base_seed };
            pattern_byte(seed, a)
        };
        let whole = size as usize & !511;
        compare(&read_back(rfd, 0, whole), 0, "direct read of the whole file", want);
        // Buffered, through the page cache, which is dropped again: the next writes must
        // not find pages there.
        let bfd = open(path, libc::O_RDONLY);
        let mut v = vec![0u8; size as usize];
        // SAFETY: Room for `size` bytes.
        let r = unsafe { libc::pread(bfd, v.as_mut_ptr().cast(), v.len(), 0) };
        if r != size as isize {
            die("buffered read of the whole file failed");
        }
        compare(&v, 0, "buffered read of the whole file", want);
        // SAFETY: Valid fd.
        unsafe { libc::posix_fadvise(bfd, 0, 0, libc::POSIX_FADV_DONTNEED) };
        // SAFETY: Valid fd.
        unsafe { libc::close(bfd) };
    }
    check_fs_error(watch.as_ref(), o.fs_error.as_deref());
    if let Some(e) = &o.allow_errno {
        println!("allowed: {allowed} of {writes} writes failed with {e}");
    }
    println!("ok: {writes} writes, {bytes} bytes verified ({} engine)", o.engine);
}

/// The racer of `dwrite --race KIND` on the file at `path` of `size` bytes: returns the
/// number of rounds it ran until `stop`.
fn race_loop(kind: &str, path: &str, size: u64, seed: u64, stop: &std::sync::atomic::AtomicBool) -> u64 {
    let fd = open(path, libc::O_RDWR);
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9) | 1);
    let blocks = size / ALIGN as u64;
    let mut rounds = 0u64;
    let map = if kind == "mmap" {
        // SAFETY: A shared mapping of the file's `size` bytes, checked below.
        let p = unsafe {
            libc::mmap(std::ptr::null_mut(), size as usize, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0)
        };
        if p == libc::MAP_FAILED {
            die("mmap of the file failed");
        }
        p.cast::<u8>()
    } else {
        std::ptr::null_mut()
    };
    let mut buf = vec![0u8; ALIGN];
    // The reflink target of "clone", next to the file.
    let clone_fd = (kind == "clone")
        .then(|| open(&format!("{path}.clone"), libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC));
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let off = (rng.next() % blocks.max(1)) * ALIGN as u64;
        // SAFETY (each arm): valid fd, buffers and mapping of the sizes given.
        let r = match kind {
            "truncate" => unsafe {
                let half = (size / 2) & !(ALIGN as u64 - 1);
                libc::ftruncate(fd, half as i64) | libc::ftruncate(fd, size as i64)
            },
            "punch" => unsafe {
                libc::fallocate(fd, libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE, off as i64, ALIGN as i64)
            },
            "zero" => unsafe {
                libc::fallocate(fd, libc::FALLOC_FL_ZERO_RANGE | libc::FALLOC_FL_KEEP_SIZE, off as i64, ALIGN as i64)
            },
            "mmap" => {
                for i in 0..ALIGN {
                    // SAFETY: Within the mapping (`off + ALIGN <= size`).
                    unsafe { *map.add(off as usize + i) = pattern_byte(seed, off + i as u64) };
                }
                0
            }
            "bufwrite" => {
                for (i, b) in buf.iter_mut().enumerate() {
                    *b = pattern_byte(seed, off + i as u64);
                }
                let n = unsafe { libc::pwrite(fd, buf.as_ptr().cast(), ALIGN, off as i64) };
                if n == ALIGN as isize { 0 } else { -1 }
            }
            "bufread" => {
                let n = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), ALIGN, off as i64) };
                if n >= 0 { 0 } else { -1 }
            }
            // FICLONE: the whole file reflinked into the clone, again and again.
            "clone" => unsafe { libc::ioctl(clone_fd.unwrap_or(-1), FICLONE, fd) },
            _ => die(&format!("unknown race {kind}")),
        };
        if r != 0 {
            die(&format!("race {kind} at {off}: {}", errno_name(errno())));
        }
        rounds += 1;
    }
    if !map.is_null() {
        // SAFETY: Our mapping; written back before it goes.
        unsafe {
            libc::msync(map.cast(), size as usize, libc::MS_SYNC);
            libc::munmap(map.cast(), size as usize);
        }
    }
    // SAFETY: Valid fd.
    unsafe {
        libc::fsync(fd);
        libc::close(fd);
    }
    rounds
}

/// After `dwrite --race`: every 512-byte sector of the file holds one whole pattern the race
/// allows, and buffered reads return what O_DIRECT reads do.
fn race_check(path: &str, o: &Opts, size: u64, rounds: u64) {
    let rfd = open(path, libc::O_RDONLY | libc::O_DIRECT);
    let direct = read_back(rfd, 0, size as usize);
    let kind = o.race.as_deref().unwrap_or("");
    let half = (size / 2) & !(ALIGN as u64 - 1);
    for (n, sector) in direct.chunks(512).enumerate() {
        let at = n as u64 * 512;
        let is = |seed: u64| sector.iter().enumerate().all(|(i, &b)| b == pattern_byte(seed, at + i as u64));
        let zeros = sector.iter().all(|&b| b == 0);
        let base_ok = o.base_seed.is_some_and(|b| is(b)) && !(kind == "truncate" && at >= half && rounds > 0);
        let racer_ok = matches!(kind, "mmap" | "bufwrite") && is(o.seed + 1);
        let zero_ok = matches!(kind, "truncate" | "punch" | "zero") && zeros;
        // A shared mapping is written a byte at a time: a page written back while the racer
        // is inside it, after a direct write that could not drop it, mixes the two in one
        // sector, on the generic path too ("Page cache invalidation failure"). Each byte must
        // still be one an allowed pattern puts there.
        let mixed_ok = kind == "mmap"
            && sector.iter().enumerate().all(|(i, &b)| {
                let a = at + i as u64;
                b == pattern_byte(o.seed, a)
                    || b == pattern_byte(o.seed + 1, a)
                    || o.base_seed.is_some_and(|s| b == pattern_byte(s, a))
            });
        if !(is(o.seed) || base_ok || racer_ok || zero_ok || mixed_ok) {
            die(&format!("race {kind}: sector at {at} holds no pattern the race allows"));
        }
    }
    if kind == "clone" {
        // The last clone is a snapshot: each sector the old data or a write's.
        let cfd = open(&format!("{path}.clone"), libc::O_RDONLY | libc::O_DIRECT);
        for (n, sector) in read_back(cfd, 0, size as usize).chunks(512).enumerate() {
            let at = n as u64 * 512;
            let is = |seed: u64| sector.iter().enumerate().all(|(i, &b)| b == pattern_byte(seed, at + i as u64));
            if !(is(o.seed) || o.base_seed.is_some_and(|b| is(b))) {
                die(&format!("race clone: sector at {at} of the clone holds neither pattern"));
            }
        }
        // SAFETY: Valid fd.
        unsafe { libc::close(cfd) };
    }
    let bfd = open(path, libc::O_RDONLY);
    let mut buffered = vec![0u8; size as usize];
    // SAFETY: Room for `size` bytes.
    let r = unsafe { libc::pread(bfd, buffered.as_mut_ptr().cast(), buffered.len(), 0) };
    if r != size as isize {
        die("buffered read of the whole file failed");
    }
    if let Some(i) = (0..size as usize).find(|&i| buffered[i] != direct[i]) {
        die(&format!("race {kind}: stale page cache at {i}: buffered {:#04x}, direct {:#04x}", buffered[i], direct[i]));
    }
    // SAFETY: Valid fd.
    unsafe { libc::posix_fadvise(bfd, 0, 0, libc::POSIX_FADV_DONTNEED) };
}

/// Makes every page this process uses resident, now and later (`mlockall()`), and grows the
/// stack ahead: a page fault of this task from user space while it is marked to fail every
/// allocation would get `VM_FAULT_OOM` and retry for ever, since the task is never the one
/// the OOM killer picks. Only the read under test may then meet an allocation.
fn fault_in_everything() {
    // SAFETY: No pointer is passed.
    if unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } != 0 {
        die("mlockall() failed");
    }
    let stack = [0u8; 256 << 10];
    std::hint::black_box(&stack);
}

/// Marks this thread for fault injection with a task filter, or unmarks it, through its
/// `/proc/thread-self/make-it-fail`, open already.
fn make_it_fail(f: &std::fs::File, on: bool) {
    use std::io::Write;
    let mut f = f;
    if f.write_all(if on { b"1" } else { b"0" }).is_err() {
        die("cannot write /proc/thread-self/make-it-fail");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Opts {
        engine: "pread".into(),
        off: 0,
        len: 4096,
        count: 1,
        random: false,
        nowait: false,
        hipri: false,
        iov: 1,
        buf_off: 0,
        unmapped: false,
        buf_file: None,
        expect_errno: None,
        zero_from: None,
        seed: 1,
        secs: 0,
        race_truncate: false,
        fs_error: None,
        fail_self: false,
        allow_errno: None,
        dsync: false,
        sync: false,
        base_seed: None,
        check_only: false,
        race: None,
        fdatasync: false,
        end_mark: None,
    };
    let mut pos = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| die(&format!("{a} needs a value")));
        match a.as_str() {
            "--engine" => o.engine = val(),
            "--off" => o.off = parse_num(&val()),
            "--len" => o.len = parse_num(&val()) as usize,
            "--count" => o.count = parse_num(&val()),
            "--random" => o.random = true,
            "--nowait" => o.nowait = true,
            "--hipri" => o.hipri = true,
            "--iov" => o.iov = parse_num(&val()) as usize,
            "--buf-off" => o.buf_off = parse_num(&val()) as usize,
            "--unmapped" => o.unmapped = true,
            "--buf-file" => o.buf_file = Some(val()),
            "--expect-errno" => o.expect_errno = Some(val()),
            "--zero" => o.zero_from = Some(0),
            "--zero-from" => o.zero_from = Some(parse_num(&val())),
            "--seed" => o.seed = parse_num(&val()),
            "--secs" => o.secs = parse_num(&val()),
            "--race-truncate" => o.race_truncate = true,
            "--fs-error" => o.fs_error = Some(val()),
            "--fail-self" => o.fail_self = true,
            "--allow-errno" => o.allow_errno = Some(val()),
            "--dsync" => o.dsync = true,
            "--sync" => o.sync = true,
            "--base-seed" => o.base_seed = Some(parse_num(&val())),
            "--check-only" => o.check_only = true,
            "--race" => o.race = Some(val()),
            "--fdatasync" => o.fdatasync = true,
            "--end-mark" => o.end_mark = Some(val()),
            _ => pos.push(a.clone()),
        }
    }
    match pos.first().map(String::as_str) {
        Some("fill") if pos.len() == 3 => fill(&pos[1], parse_num(&pos[2]), o.seed),
        Some("read") if pos.len() == 2 => read_cmd(&pos[1], &o),
        Some("write") if pos.len() == 2 => write_dirty(&pos[1], o.off, o.len, o.seed),
        Some("dwrite") if pos.len() == 2 => dwrite_cmd(&pos[1], &o),
        Some("replay-log") if pos.len() == 3 => match &o.end_mark {
            Some(mark) => replay_log(&pos[1], &pos[2], mark),
            None => die("replay-log needs --end-mark NAME"),
        },
        _ => die("usage: sdio-check fill FILE SIZE | write FILE | dwrite FILE | read FILE | replay-log LOG DEV [options] (see source)"),
    }
}

/// dm-log-writes' on-disk flags (drivers/md/dm-log-writes.c).
const LOG_FLUSH_FLAG: u64 = 1 << 0;
const LOG_FUA_FLAG: u64 = 1 << 1;
const LOG_DISCARD_FLAG: u64 = 1 << 2;
const LOG_MARK_FLAG: u64 = 1 << 3;
const WRITE_LOG_MAGIC: u64 = 0x6a73_6677_7368_72;
/// `_IO(0x12, 97)`: drop a block device's buffer cache.
const BLKFLSBUF: libc::c_ulong = 0x1261;

/// `replay-log LOG DEV --end-mark NAME`: the log's writes, in their order, onto DEV up to
/// the mark NAME (see the top of this file).
fn replay_log(log: &str, dev: &str, mark: &str) {
    let lfd = open(log, libc::O_RDONLY);
    // Nothing cached of the log from before it was written (another opener keeps the
    // block device's page cache).
    // SAFETY: Valid fd; BLKFLSBUF takes no argument.
    unsafe { libc::ioctl(lfd, BLKFLSBUF) };
    let dfd = open(dev, libc::O_RDWR);
    let read_at = |off: u64, len: usize| -> Vec<u8> {
        let mut v = vec![0u8; len];
        // SAFETY: Room for `len` bytes.
        let r = unsafe { libc::pread(lfd, v.as_mut_ptr().cast(), len, off as i64) };
        if r != len as isize {
            die(&format!("short read of the log at {off}"));
        }
        v
    };
    let le64 = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let sup = read_at(0, 512);
    if le64(&sup, 0) != WRITE_LOG_MAGIC || le64(&sup, 8) != 1 {
        die("not a dm-log-writes log (magic or version)");
    }
    let nr_entries = le64(&sup, 16);
    let ss = u32::from_le_bytes(sup[24..28].try_into().unwrap()) as u64;
    if !(512..=65536).contains(&ss) || !ss.is_power_of_two() {
        die(&format!("log sector size {ss}"));
    }
    let (mut pos, mut writes, mut flushes, mut fuas) = (ss, 0u64, 0u64, 0u64);
    for n in 0..nr_entries {
        let hdr = read_at(pos, ss as usize);
        let (sector, nr, flags, data_len) = (le64(&hdr, 0), le64(&hdr, 8), le64(&hdr, 16), le64(&hdr, 24));
        pos += ss;
        if std::env::var_os("SDIO_REPLAY_VERBOSE").is_some() {
            println!("entry {n}: sector {sector} nr {nr} flags {flags:#x} data_len {data_len}");
        }
        if flags & LOG_MARK_FLAG != 0 {
            let name = hdr.get(32..32 + data_len as usize).unwrap_or_else(|| die("bad mark entry"));
            if name == mark.as_bytes() {
                // SAFETY: Valid fd.
                if unsafe { libc::fsync(dfd) } != 0 {
                    die("fsync of the replay device failed");
                }
                println!("ok: replayed {n} entries to mark {mark}: {writes} writes, {flushes} flushes, {fuas} FUA");
                return;
            }
            continue;
        }
        if data_len != 0 {
            // Inline data: no bio makes such an entry.
            die(&format!("entry {n}: inline data, which replay-log does not know"));
        }
        flushes += u64::from(flags & LOG_FLUSH_FLAG != 0);
        fuas += u64::from(flags & LOG_FUA_FLAG != 0);
        let discard = flags & LOG_DISCARD_FLAG != 0;
        let (mut done, len) = (0u64, nr * ss);
        // In pieces of at most 1 MiB: a discard may cover the whole device.
        while done < len {
            let piece = (len - done).min(1 << 20) as usize;
            let data = if discard {
                vec![0u8; piece]
            } else {
                read_at(pos + done, piece)
            };
            let at = (sector * ss + done) as i64;
            // SAFETY: `data` holds `piece` bytes.
            if unsafe { libc::pwrite(dfd, data.as_ptr().cast(), piece, at) } != piece as isize {
                die(&format!("replay write of {piece} at byte {at} failed"));
            }
            done += piece as u64;
        }
        if !discard {
            pos += len;
        }
        writes += u64::from(len > 0);
    }
    die(&format!("no mark {mark} in the log's {nr_entries} entries"));
}

// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the simple read path's mechanism: the `struct iomap_iter` a file system
//! gets, the undo of a declined read, registration.

#[macros::kunit_tests(rust_kernel_fs_iomap_simple_dio)]
mod suite {
    use super::super::{registration::Vtable, *};
    use crate::{alloc::KBox, bindings, ffi::c_void, prelude::*};
    use core::mem::offset_of;
    use core::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    const PRIVATE: usize = 0x5a5a_0000;
    const POS: i64 = 8192;
    const LEN: usize = 4096;

    /// What the test file system's callbacks saw.
    static BEGIN_OK: AtomicUsize = AtomicUsize::new(0);
    static END_OK: AtomicUsize = AtomicUsize::new(0);
    static END_WRITTEN: AtomicI64 = AtomicI64::new(-1);
    static BEGIN_CALLS: AtomicUsize = AtomicUsize::new(0);
    static BEGIN_FLAGS: AtomicUsize = AtomicUsize::new(0);

    /// Returns the `struct iomap_iter` that `iomap` is embedded in, as `container_of()` would.
    fn iter_of(iomap: *mut bindings::iomap) -> *mut bindings::iomap_iter {
        iomap
            .cast::<u8>()
            .wrapping_sub(offset_of!(bindings::iomap_iter, iomap))
            .cast()
    }

    /// Checks what erofs relies on: the iomap lives in an `iomap_iter` of this read.
    fn iter_is_real(inode: *mut bindings::inode, iomap: *mut bindings::iomap) -> bool {
        let it = iter_of(iomap);
        // SAFETY: Only read if the layout is right; on the old layout this reads the stack
        // next to the mapping, which the test accepts failing on.
        unsafe {
            (*it).inode == inode
                && (*it).private as usize == PRIVATE
                && (*it).pos == POS
                && (*it).len == LEN as u64
                && (*it).flags & bindings::IOMAP_DIRECT != 0
        }
    }

    /// The test file system's `->iomap_begin`: records whether the iomap is in a real iter.
    ///
    /// # Safety
    ///
    /// `iomap` must be writable; it is read as part of a `struct iomap_iter` only if it is one.
    unsafe extern "C" fn test_begin(
        inode: *mut bindings::inode,
        pos: i64,
        length: i64,
        flags: u32,
        iomap: *mut bindings::iomap,
        _srcmap: *mut bindings::iomap,
    ) -> i32 {
        BEGIN_CALLS.fetch_add(1, Ordering::Relaxed);
        BEGIN_FLAGS.store(flags as usize, Ordering::Relaxed);
        if iter_is_real(inode, iomap) && pos == POS && length == LEN as i64 {
            BEGIN_OK.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: `iomap` is writable: a hole over the read.
        unsafe {
            (*iomap).type_ = bindings::IOMAP_HOLE as u16;
            (*iomap).offset = 0;
            (*iomap).length = 1 << 20;
        }
        0
    }

    /// The test file system's `->iomap_end`: records whether the iomap is in a real iter.
    ///
    /// # Safety
    ///
    /// As for [`test_begin`].
    unsafe extern "C" fn test_end(
        inode: *mut bindings::inode,
        pos: i64,
        length: i64,
        written: isize,
        _flags: u32,
        iomap: *mut bindings::iomap,
    ) -> i32 {
        if iter_is_real(inode, iomap) && pos == POS && length == LEN as i64 {
            END_OK.fetch_add(1, Ordering::Relaxed);
        }
        END_WRITTEN.store(written as i64, Ordering::Relaxed);
        0
    }

    static TEST_OPS: bindings::iomap_ops = bindings::iomap_ops {
        iomap_begin: Some(test_begin),
        iomap_end: Some(test_end),
        iomap_next: None,
    };

    /// A path that maps and then declines: what the mapping looked like is in the statics.
    struct MapThenDecline {
        declined: AtomicUsize,
    }

    impl MapThenDecline {
        fn serve<'a, Dir: Direction>(
            &'a self,
            req: Offered<'a, (), Dir>,
        ) -> Result<Outcome<'a, u32>> {
            let mapped = match req.map()? {
                Ok(mapped) => mapped,
                Err(Decline::BeyondEof) => return Ok(Outcome::Declined(8)),
                Err(_) => return Ok(Outcome::Declined(10)),
            };
            let map = mapped.iomap();
            // A wrong mapping is a decline of its own (an error would be reported through
            // the test inode's super block, which it has none of).
            if map.kind() != bindings::IOMAP_HOLE as u16 || !map.covers(POS, LEN as u64) {
                return Ok(Outcome::Declined(9));
            }
            Ok(Outcome::Declined(7))
        }
    }

    impl SimpleDio for MapThenDecline {
        type Data = ();
        type Reason = u32;

        fn read<'a>(&'a self, req: OfferedRead<'a, ()>) -> Result<Outcome<'a, u32>> {
            self.serve(req)
        }

        fn write<'a>(&'a self, req: OfferedWrite<'a, ()>) -> Result<Outcome<'a, u32>> {
            self.serve(req)
        }

        fn declined(&self, reason: u32) {
            LAST_REASON.store(reason as usize, Ordering::Relaxed);
            self.declined.fetch_add(1, Ordering::Relaxed);
        }

        fn end_io(&self, _done: &Completed<'_, ()>) {}
    }

    /// The reason of the last read [`MapThenDecline`] declined.
    static LAST_REASON: AtomicUsize = AtomicUsize::new(0);

    /// The id of the last [`Declines`] context dropped.
    static LAST_DROPPED: AtomicUsize = AtomicUsize::new(0);

    /// A path that declines every read; records its id when its context goes.
    #[pin_data(PinnedDrop)]
    struct Declines {
        id: usize,
    }

    #[pinned_drop]
    impl PinnedDrop for Declines {
        fn drop(self: Pin<&mut Self>) {
            LAST_DROPPED.store(self.id, Ordering::Relaxed);
        }
    }

    /// A [`Declines`] context, as [`Registration::new`] takes it.
    fn declines(id: usize) -> impl PinInit<Declines, Error> {
        try_pin_init!(Declines { id })
    }

    impl SimpleDio for Declines {
        type Data = ();
        type Reason = ();

        fn read<'a>(&'a self, _req: OfferedRead<'a, ()>) -> Result<Outcome<'a, ()>> {
            Ok(Outcome::Declined(()))
        }

        fn write<'a>(&'a self, _req: OfferedWrite<'a, ()>) -> Result<Outcome<'a, ()>> {
            Ok(Outcome::Declined(()))
        }

        fn declined(&self, _reason: ()) {}

        fn end_io(&self, _done: &Completed<'_, ()>) {}
    }

    /// One path at a time: registering a second fails with `EBUSY` and drops its context.
    /// Built as a module (nothing is registered while KUnit runs at boot), dropping the
    /// registration unregisters and drops the context, and the next registration succeeds;
    /// built in, the module's own registration is there for good.
    #[test]
    fn register_once() -> Result {
        // The test drops each registration itself, never from one of the path's callbacks
        // (`Declines` has none that drops anything).
        #[cfg(CONFIG_IOMAP_SIMPLE_DIO = "m")]
        {
            // SAFETY: Dropped by the test, see above.
            let first = unsafe { Registration::new(declines(1)) }?;
            // SAFETY: Dropped by the test, see above.
            let second = unsafe { Registration::new(declines(2)) };
            assert_eq!(second.err(), Some(EBUSY));
            assert_eq!(LAST_DROPPED.load(Ordering::Relaxed), 2);
            drop(first);
            assert_eq!(LAST_DROPPED.load(Ordering::Relaxed), 1);
            // SAFETY: Dropped by the test, see above.
            drop(unsafe { Registration::new(declines(3)) }?);
            assert_eq!(LAST_DROPPED.load(Ordering::Relaxed), 3);
        }
        #[cfg(not(CONFIG_IOMAP_SIMPLE_DIO = "m"))]
        {
            // SAFETY: Dropped by the test, see above.
            let second = unsafe { Registration::new(declines(2)) };
            assert_eq!(second.err(), Some(EBUSY));
            assert_eq!(LAST_DROPPED.load(Ordering::Relaxed), 2);
        }
        Ok(())
    }

    /// Offers [`MapThenDecline`] a read of `LEN` bytes at `POS` of a file of `i_size` bytes,
    /// with the test file system's operations; checks that the generic path gets the request
    /// untouched (position, length, no dio count left behind) and returns the reason the read
    /// was declined for.
    fn offer_map_then_decline(i_size: i64) -> Result<usize> {
        offer_map_then_decline_as::<Read>(i_size, bindings::ITER_DEST, 1)
    }

    /// [`offer_map_then_decline`] for a request of direction `Dir` with an iterator of
    /// direction `iter_dir` (`ITER_DEST`, `ITER_SOURCE`), which the path must see `declines`
    /// times (0: handed back before the path sees it).
    fn offer_map_then_decline_as<Dir: Direction>(
        i_size: i64,
        iter_dir: u32,
        declines: usize,
    ) -> Result<usize> {
        // All-zero inodes, files, mappings and kiocbs are valid enough for what the read
        // touches: `i_size`, `i_flags`, `i_dio_count` (an atomic), `f_inode`, `f_mapping` (no
        // pages: nothing to write back), `ki_filp`, `ki_pos`, `ki_flags`.
        // SAFETY: See above.
        let zeroed: bindings::inode = unsafe { core::mem::zeroed() };
        let mut inode = KBox::new(zeroed, GFP_KERNEL)?;
        // SAFETY: See above.
        let zeroed: bindings::address_space = unsafe { core::mem::zeroed() };
        let mut mapping = KBox::new(zeroed, GFP_KERNEL)?;
        // SAFETY: See above.
        let zeroed: bindings::file = unsafe { core::mem::zeroed() };
        let mut file = KBox::new(zeroed, GFP_KERNEL)?;
        // SAFETY: See above.
        let zeroed: bindings::kiocb = unsafe { core::mem::zeroed() };
        let mut kiocb = KBox::new(zeroed, GFP_KERNEL)?;
        inode.i_size = i_size;
        let inode_ptr: *mut bindings::inode = &mut *inode;
        file.f_inode = inode_ptr;
        file.f_mapping = &mut *mapping;
        kiocb.ki_filp = &mut *file;
        kiocb.ki_pos = POS;
        let mut buf = KVec::<u8>::with_capacity(LEN, GFP_KERNEL)?;
        let kvec = bindings::kvec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: LEN,
        };
        // SAFETY: All-zero is a valid `struct iov_iter` to initialise.
        let mut iter: bindings::iov_iter = unsafe { core::mem::zeroed() };
        // SAFETY: `iter` and `kvec` are valid; the buffer has `LEN` bytes.
        unsafe { bindings::iov_iter_kvec(&mut iter, iter_dir, &kvec, 1, LEN) };

        let path = MapThenDecline {
            declined: AtomicUsize::new(0),
        };
        LAST_REASON.store(0, Ordering::Relaxed);
        // SAFETY: The arguments are those a read of `LEN` bytes at `POS` would get.
        let ret = unsafe {
            Vtable::<MapThenDecline>::offer::<Dir>(
                core::ptr::from_ref(&path).cast_mut().cast(),
                &mut *kiocb,
                &mut iter,
                &TEST_OPS,
                core::ptr::without_provenance_mut::<c_void>(PRIVATE),
                0,
                core::ptr::null(),
            )
        };
        assert_eq!(ret, None);
        assert_eq!(path.declined.load(Ordering::Relaxed), declines);
        assert_eq!(kiocb.ki_pos, POS);
        // SAFETY: `count` is the member of its union in use for a kvec iterator.
        let left = unsafe { iter.__bindgen_anon_1.__bindgen_anon_1.as_ref().count };
        assert_eq!(left, LEN);
        // SAFETY: The inode is valid.
        assert_eq!(unsafe { bindings::atomic_read(&inode.i_dio_count) }, 0);
        Ok(LAST_REASON.load(Ordering::Relaxed))
    }

    /// `->iomap_begin` and `->iomap_end` get an iomap inside a real `struct iomap_iter` of
    /// the read, with the caller's `private` (erofs' `container_of()`), and a declined read
    /// hands the generic path an untouched request.
    #[test]
    fn begin_gets_a_real_iomap_iter() -> Result {
        BEGIN_OK.store(0, Ordering::Relaxed);
        END_OK.store(0, Ordering::Relaxed);
        END_WRITTEN.store(-1, Ordering::Relaxed);
        assert_eq!(offer_map_then_decline(1 << 20)?, 7);
        assert_eq!(BEGIN_OK.load(Ordering::Relaxed), 1);
        assert_eq!(END_OK.load(Ordering::Relaxed), 1);
        assert_eq!(END_WRITTEN.load(Ordering::Relaxed), 0);
        Ok(())
    }

    /// A read past the end of the file is declined by `map()` before anything is done for
    /// it: no `->iomap_begin`, no `->iomap_end`, no dio count.
    #[test]
    fn beyond_eof_declined_before_mapping() -> Result {
        BEGIN_CALLS.store(0, Ordering::Relaxed);
        END_OK.store(0, Ordering::Relaxed);
        END_WRITTEN.store(-1, Ordering::Relaxed);
        assert_eq!(offer_map_then_decline(POS + LEN as i64 - 1)?, 8);
        assert_eq!(BEGIN_CALLS.load(Ordering::Relaxed), 0);
        assert_eq!(END_WRITTEN.load(Ordering::Relaxed), -1);
        assert_eq!(END_OK.load(Ordering::Relaxed), 0);
        Ok(())
    }

    /// A write is mapped with `IOMAP_WRITE | IOMAP_OVERWRITE_ONLY`, so that a file system
    /// that would allocate refuses, and a declined write leaves the request untouched.
    #[test]
    fn write_mapped_overwrite_only() -> Result {
        BEGIN_CALLS.store(0, Ordering::Relaxed);
        BEGIN_FLAGS.store(0, Ordering::Relaxed);
        END_WRITTEN.store(-1, Ordering::Relaxed);
        assert_eq!(
            offer_map_then_decline_as::<Write>(1 << 20, bindings::ITER_SOURCE, 1)?,
            7
        );
        assert_eq!(BEGIN_CALLS.load(Ordering::Relaxed), 1);
        let want = bindings::IOMAP_WRITE | bindings::IOMAP_DIRECT | bindings::IOMAP_OVERWRITE_ONLY;
        assert_eq!(BEGIN_FLAGS.load(Ordering::Relaxed), want as usize);
        assert_eq!(END_WRITTEN.load(Ordering::Relaxed), 0);
        Ok(())
    }

    /// A request of the other direction than the trampoline's is handed back before the path
    /// sees it: a read at the write trampoline, a write at the read one.
    #[test]
    fn other_direction_handed_back() -> Result {
        BEGIN_CALLS.store(0, Ordering::Relaxed);
        assert_eq!(
            offer_map_then_decline_as::<Write>(1 << 20, bindings::ITER_DEST, 0)?,
            0
        );
        assert_eq!(
            offer_map_then_decline_as::<Read>(1 << 20, bindings::ITER_SOURCE, 0)?,
            0
        );
        assert_eq!(BEGIN_CALLS.load(Ordering::Relaxed), 0);
        Ok(())
    }

    /// The tests `map()` makes of a write beyond those of a read, each reason on its own.
    #[test]
    fn write_offer_checks() -> Result {
        use super::super::request::check_write_offer;
        const MIB: i64 = 1 << 20;
        // SAFETY: All-zero is a valid `struct address_space` for what the checks read: its
        // flags and `nrpages` (no pages: `filemap_range_has_page()` is not called).
        let zeroed: bindings::address_space = unsafe { core::mem::zeroed() };
        let mut mapping = KBox::new(zeroed, GFP_KERNEL)?;
        let m: *mut bindings::address_space = &mut *mapping;
        // SAFETY: `m` is valid for each call.
        let check = |flags: i32, pos: i64, len: usize, i_size: i64| unsafe {
            check_write_offer(flags, pos, len, i_size, 4096, m)
        };
        assert_eq!(check(0, 0, 4096, MIB), Ok(()));
        assert_eq!(check(0, MIB - 4096, 4096, MIB), Ok(()));
        assert_eq!(
            check(bindings::IOCB_ATOMIC, 0, 4096, MIB),
            Err(Decline::Atomic)
        );
        assert_eq!(
            check(bindings::IOCB_HAS_METADATA as i32, 0, 4096, MIB),
            Err(Decline::Atomic)
        );
        // Ends at an `i_size` inside a block; ending inside a block before it is fine.
        assert_eq!(check(0, MIB - 1024, 512, MIB - 512), Err(Decline::EofTail));
        assert_eq!(check(0, MIB - 2048, 512, MIB - 512), Ok(()));
        for bit in [
            bindings::mapping_flags_AS_EIO,
            bindings::mapping_flags_AS_ENOSPC,
        ] {
            mapping.flags = 1 << bit;
            assert_eq!(check(0, 0, 4096, MIB), Err(Decline::WritebackError));
        }
        mapping.flags = 1 << bindings::mapping_flags_AS_STABLE_WRITES;
        assert_eq!(check(0, 0, 4096, MIB), Err(Decline::StableWrites));
        Ok(())
    }

    /// The tests `map()` makes before doing anything for a read, each reason on its own.
    #[test]
    fn offer_checks() {
        use super::super::request::check_offer;
        const MIB: i64 = 1 << 20;
        assert_eq!(check_offer(4096, 0, MIB, 0, false), Ok(()));
        assert_eq!(check_offer(512, 4096 * 7, MIB, 0, false), Ok(()));
        assert_eq!(check_offer(4096, MIB - 4096, MIB, 0, false), Ok(()));
        assert_eq!(check_offer(0, 0, MIB, 0, false), Err(Decline::Empty));
        for flag in [
            bindings::IOMAP_DIO_FORCE_WAIT,
            bindings::IOMAP_DIO_PARTIAL,
            bindings::IOMAP_DIO_BOUNCE,
        ] {
            assert_eq!(
                check_offer(4096, 0, MIB, flag, false),
                Err(Decline::DioFlags)
            );
        }
        let fsblock = bindings::IOMAP_DIO_FSBLOCK_ALIGNED;
        assert_eq!(check_offer(4096, 0, MIB, fsblock, false), Ok(()));
        assert_eq!(
            check_offer(4096, MIB, MIB, 0, false),
            Err(Decline::BeyondEof)
        );
        assert_eq!(
            check_offer(4096, MIB - 512, MIB, 0, false),
            Err(Decline::BeyondEof)
        );
        assert_eq!(
            check_offer(4096, -4096, MIB, 0, false),
            Err(Decline::BeyondEof)
        );
        assert_eq!(
            check_offer(4096, i64::MAX, MIB, 0, false),
            Err(Decline::BeyondEof)
        );
        assert_eq!(check_offer(4096, 0, MIB, 0, true), Err(Decline::Encrypted));
    }

    /// The alignment is `iomap_dio_alignment()`'s, and the test of a read against it.
    #[test]
    fn alignment() {
        use super::super::request::{dio_alignment, is_aligned};
        let fsblock = bindings::IOMAP_DIO_FSBLOCK_ALIGNED;
        assert_eq!(dio_alignment(0, || 4096, || 512), 512);
        assert_eq!(dio_alignment(fsblock, || 4096, || 512), 4096);
        assert!(is_aligned(0, 4096, 512));
        assert!(is_aligned(512, 512, 512));
        assert!(!is_aligned(1, 4096, 512));
        assert!(!is_aligned(0, 4095, 512));
        assert!(!is_aligned(256, 512, 512));
        assert!(!is_aligned(512, 512, 4096));
        assert!(is_aligned(8192, 4096, 4096));
    }
}

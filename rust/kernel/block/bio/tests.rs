// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the bio abstractions: the front pad, the vector bound, what a bio refuses, a
//! bio submitted to complete asynchronously, and a bio in storage its owner provides, on the
//! first RAM disk (`brd`).

#[macros::kunit_tests(rust_kernel_block_bio)]
mod suite {
    use super::super::{Bio, BioSet, BioStorage, CompletedBio, EndIo, Op, ReqFlags};
    use crate::{
        bindings,
        block::bdev::{BdevFile, OpenMode},
        page::{Page, PAGE_SIZE},
        prelude::*,
        sync::{Arc, Completion},
    };
    use core::{
        ptr::null_mut,
        sync::atomic::{AtomicI32, AtomicUsize, Ordering},
    };

    /// Drops of [`Pad`] values, to see that a bio drops its data exactly once.
    static PAD_DROPS: AtomicUsize = AtomicUsize::new(0);

    /// Per-request data with a recognisable pattern and a drop count.
    struct Pad([u64; 5]);

    impl Drop for Pad {
        fn drop(&mut self) {
            PAD_DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The front pad round trip: the data written at allocation is where the bio's data
    /// accessors, `into_raw`/`from_raw` and `from_data` find it, the bio is aligned as a
    /// `struct bio`, and dropping the bio drops the data once (and returns the bio to its set).
    #[test]
    fn front_pad_round_trip() -> Result {
        let set = KBox::pin_init(BioSet::<Pad>::new(2), GFP_KERNEL)?;
        let drops = PAD_DROPS.load(Ordering::Relaxed);
        let pattern = [0x0123_4567_89ab_cdef, 1, 2, 3, u64::MAX];
        // SAFETY: A null device is allowed.
        let mut bio = unsafe { set.alloc_raw(null_mut(), Op::Read, 1, GFP_KERNEL, Pad(pattern)) }?;
        assert_eq!(bio.data().0, pattern);
        assert_eq!(bio.size(), 0);
        assert_eq!(bio.as_raw() as usize % align_of::<bindings::bio>(), 0);
        let data: *const Pad = bio.data();
        assert_eq!(
            bio.as_raw() as usize - data as usize,
            BioSet::<Pad>::FRONT_PAD
        );
        bio.data_mut().0[1] = 42;

        let raw = bio.into_raw();
        // SAFETY: `raw` comes from `into_raw` of a bio of `set`, which is still alive.
        let bio = unsafe { Bio::<Pad>::from_raw(raw) };
        assert_eq!(bio.data().0[1], 42);
        // SAFETY: The bio, given up by `into_raw`, is of a `BioSet<Pad>`.
        let data = unsafe { Bio::<Pad>::data_ptr(bio.into_raw()) };
        // SAFETY: `data` is the data of a bio whose ownership `into_raw` gave up; its set is
        // alive.
        let mut bio = unsafe { Bio::<Pad>::from_data(data) };
        assert_eq!(bio.as_raw(), raw);
        assert_eq!(bio.data().0[4], u64::MAX);
        assert_eq!(PAD_DROPS.load(Ordering::Relaxed), drops);

        // Nothing was pinned: releasing is a no-op, twice over.
        bio.release_pages();
        bio.release_pages();
        drop(bio);
        assert_eq!(PAD_DROPS.load(Ordering::Relaxed), drops + 1);
        Ok(())
    }

    /// More vectors than any bio holds fail with `EINVAL` (before, `biovec_slab()`'s
    /// `BUG()`), and the data is dropped; `BIO_MAX_VECS` itself is served.
    #[test]
    fn too_many_vectors() -> Result {
        let set = KBox::pin_init(BioSet::<Pad>::new(2), GFP_KERNEL)?;
        let drops = PAD_DROPS.load(Ordering::Relaxed);
        let max = bindings::BIO_MAX_VECS as u16;
        for nr in [max + 1, u16::MAX] {
            // SAFETY: A null device is allowed.
            let r = unsafe { set.alloc_raw(null_mut(), Op::Read, nr, GFP_KERNEL, Pad([0; 5])) };
            assert_eq!(r.err(), Some(EINVAL));
        }
        assert_eq!(PAD_DROPS.load(Ordering::Relaxed), drops + 2);
        // SAFETY: A null device is allowed.
        let bio = unsafe { set.alloc_raw(null_mut(), Op::Read, max, GFP_KERNEL, Pad([0; 5])) }?;
        // SAFETY: The bio is valid.
        assert_eq!(unsafe { (*bio.as_raw()).bi_max_vecs }, max);
        Ok(())
    }

    /// A bio in a [`BioStorage`]: its data is in front of it as in a set's bio, it holds no more
    /// vectors than the storage (more fail with `EINVAL`, the data dropped), it has no set, and
    /// dropping it drops the data once and frees the storage for the next bio.
    #[test]
    fn storage_round_trip() -> Result {
        let mut room = BioStorage::<Pad, 2>::new();
        let drops = PAD_DROPS.load(Ordering::Relaxed);
        let pattern = [7, 6, 5, 4, 3];
        // SAFETY: A null device is allowed.
        let r = unsafe { room.init_raw(null_mut(), Op::Read, 3, Pad(pattern)) };
        assert_eq!(r.err(), Some(EINVAL));
        assert_eq!(PAD_DROPS.load(Ordering::Relaxed), drops + 1);
        for nr in [0, 2] {
            // SAFETY: A null device is allowed.
            let mut bio = unsafe { room.init_raw(null_mut(), Op::Write, nr, Pad(pattern)) }?;
            let raw = bio.as_raw();
            // SAFETY: The bio is valid.
            let (pool, max) = unsafe { ((*raw).bi_pool, (*raw).bi_max_vecs) };
            assert!(pool.is_null());
            assert_eq!(max, nr);
            assert_eq!(bio.data().0, pattern);
            let data: *const Pad = bio.data();
            assert_eq!(raw as usize - data as usize, BioSet::<Pad>::FRONT_PAD);
            bio.data_mut().0[0] = 9;
            assert_eq!(bio.data().0[0], 9);
            assert_eq!(bio.submit_wait(), Err(EINVAL));
        }
        assert_eq!(PAD_DROPS.load(Ordering::Relaxed), drops + 3);
        Ok(())
    }

    /// A page written and read back through bios in storage on the stack, each waited for; the
    /// storage holds one bio after another.
    #[test]
    fn storage_submit_wait() -> Result {
        let file = BdevFile::open(bindings::RAMDISK_MAJOR, 0, OpenMode::READ_WRITE)?;
        let (src, dst) = (Page::alloc_page(GFP_KERNEL)?, Page::alloc_page(GFP_KERNEL)?);
        let mut pattern = [0u8; PAGE_SIZE];
        for (i, b) in pattern.iter_mut().enumerate() {
            *b = (i * 13 + 5) as u8;
        }
        // SAFETY: `pattern` holds `PAGE_SIZE` bytes; no bio uses the page yet.
        unsafe { src.write_raw(pattern.as_ptr(), 0, PAGE_SIZE)? };
        let mut room = BioStorage::<u32, 1>::new();
        let mut bio = room.init(file.bdev(), Op::Write, 1, 1)?;
        bio.set_sector(16);
        bio.set_flags(ReqFlags::SYNC | ReqFlags::FUA)?;
        bio.add_page(&src, PAGE_SIZE, 0)?;
        bio.submit_wait()?;
        assert_eq!(bio.submit_wait(), Err(EINVAL));
        drop(bio);
        let mut bio = room.init(file.bdev(), Op::Read, 1, 2)?;
        bio.set_sector(16);
        bio.add_page(&dst, PAGE_SIZE, 0)?;
        bio.submit_wait()?;
        assert_eq!(*bio.data(), 2);
        drop(bio);
        let mut back = [0u8; PAGE_SIZE];
        // SAFETY: `back` holds `PAGE_SIZE` bytes; the bio that read into the page is done.
        unsafe { dst.read_raw(back.as_mut_ptr(), 0, PAGE_SIZE)? };
        assert!(back == pattern);
        Ok(())
    }

    /// What a bio refuses, before anything reaches the block layer: a page range that is empty
    /// or past the page, a full bio, a priority class past `IOPRIO_CLASS_IDLE`, and submission
    /// with no data or no device.
    #[test]
    fn refusals() -> Result {
        let set = KBox::pin_init(BioSet::<u32>::new(2), GFP_KERNEL)?;
        let (page, other) = (Page::alloc_page(GFP_KERNEL)?, Page::alloc_page(GFP_KERNEL)?);
        // SAFETY: A null device is allowed.
        let mut bio = unsafe { set.alloc_raw(null_mut(), Op::Write, 1, GFP_KERNEL, 0) }?;
        assert_eq!(bio.add_page(&page, 0, 0), Err(EINVAL));
        assert_eq!(bio.add_page(&page, PAGE_SIZE, 1), Err(EINVAL));
        assert_eq!(bio.add_page(&page, 1, usize::MAX), Err(EINVAL));
        assert_eq!(bio.submit_wait(), Err(EINVAL));
        bio.add_page(&page, 512, 0)?;
        // The one vector is taken; a page that does not merge into it does not fit.
        assert_eq!(bio.add_page(&other, 512, 0), Err(EINVAL));
        assert_eq!(bio.size(), 512);
        // No device: not submitted, whatever it carries.
        assert_eq!(bio.submit_wait(), Err(EINVAL));
        let idle = (bindings::IOPRIO_CLASS_IDLE as u16) << bindings::IOPRIO_CLASS_SHIFT;
        bio.set_ioprio(idle)?;
        assert_eq!(
            bio.set_ioprio(idle + (1 << bindings::IOPRIO_CLASS_SHIFT)),
            Err(EINVAL)
        );
        assert_eq!(bio.set_ioprio(u16::MAX), Err(EINVAL));
        // SAFETY: The bio is valid.
        assert_eq!(unsafe { (*bio.as_raw()).bi_ioprio }, idle);
        Ok(())
    }

    /// The state of one asynchronous bio: its status, and the completion its waiter sleeps on.
    #[pin_data]
    struct Waiter {
        status: AtomicI32,
        #[pin]
        done: Completion,
    }

    /// Completes a bio whose data is its [`Waiter`].
    struct Wake;

    impl EndIo<Arc<Waiter>> for Wake {
        fn end_io(bio: CompletedBio<Arc<Waiter>>) {
            let errno = bio.status().err().map_or(0, |e| e.to_errno());
            let waiter = bio.data().clone();
            waiter.status.store(errno, Ordering::Relaxed);
            // The set must outlive the bio: tell the waiter once it is freed.
            drop(bio);
            waiter.done.complete_all();
        }
    }

    /// Submits `page` at sector 8 of `file` for `op` and waits for its [`EndIo`].
    fn submit_async(set: &BioSet<Arc<Waiter>>, file: &BdevFile, op: Op, page: &Page) -> Result {
        let waiter = Arc::pin_init(
            pin_init!(Waiter {
                status: AtomicI32::new(1),
                done <- Completion::new(),
            }),
            GFP_KERNEL,
        )?;
        let mut bio = set.alloc(file.bdev(), op, 1, GFP_KERNEL, waiter.clone())?;
        bio.set_sector(8);
        bio.add_page(page, PAGE_SIZE, 0)?;
        // SAFETY: The set, the device and the page outlive the bio: this waits until `Wake`
        // has dropped it, and `Wake::end_io` is built-in code.
        unsafe { bio.submit::<Wake>() }?;
        waiter.done.wait_for_completion();
        match waiter.status.load(Ordering::Relaxed) {
            0 => Ok(()),
            e => Err(Error::from_errno(e)),
        }
    }

    /// A page written and read back through [`Bio::submit`] and [`EndIo`].
    #[test]
    fn async_round_trip() -> Result {
        let file = BdevFile::open(bindings::RAMDISK_MAJOR, 0, OpenMode::READ_WRITE)?;
        let set = KBox::pin_init(BioSet::<Arc<Waiter>>::new(2), GFP_KERNEL)?;
        let (src, dst) = (Page::alloc_page(GFP_KERNEL)?, Page::alloc_page(GFP_KERNEL)?);
        let mut pattern = [0u8; PAGE_SIZE];
        for (i, b) in pattern.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        // SAFETY: `pattern` holds `PAGE_SIZE` bytes; no bio uses the page yet.
        unsafe { src.write_raw(pattern.as_ptr(), 0, PAGE_SIZE)? };
        submit_async(&set, &file, Op::Write, &src)?;
        submit_async(&set, &file, Op::Read, &dst)?;
        let mut back = [0u8; PAGE_SIZE];
        // SAFETY: `back` holds `PAGE_SIZE` bytes; the bio that read into the page is freed.
        unsafe { dst.read_raw(back.as_mut_ptr(), 0, PAGE_SIZE)? };
        assert!(back == pattern);
        Ok(())
    }

    /// An I/O vector with a misaligned segment after an aligned one adds nothing: the bio is
    /// left empty, not with the size of pages it gave back; a bio that writes takes no
    /// destination buffer.
    #[test]
    fn misaligned_iter() -> Result {
        let file = BdevFile::open(bindings::RAMDISK_MAJOR, 0, OpenMode::READ)?;
        let set = KBox::pin_init(BioSet::<u32>::new(2), GFP_KERNEL)?;
        let mut buf = KVec::<u8>::from_elem(0u8, 2 * PAGE_SIZE, GFP_KERNEL)?;
        let base = buf.as_mut_ptr();
        let kvec = [
            bindings::kvec {
                iov_base: base.cast(),
                iov_len: 512,
            },
            bindings::kvec {
                // SAFETY: Within the buffer.
                iov_base: unsafe { base.add(PAGE_SIZE + 1) }.cast(),
                iov_len: 512,
            },
        ];
        // SAFETY: Zeroes are a valid `iov_iter` for `iov_iter_kvec()` to set up.
        let mut iter: bindings::iov_iter = unsafe { core::mem::zeroed() };
        // SAFETY: `kvec` describes `buf`, which outlives the iterator and the bios.
        unsafe { bindings::iov_iter_kvec(&mut iter, bindings::ITER_DEST, kvec.as_ptr(), 2, 1024) };
        // SAFETY: A destination iterator over `buf`, which nothing else uses meanwhile.
        let it = unsafe { crate::iov::IovIterDest::from_raw(&mut iter) };
        let mut bio = set.alloc(file.bdev(), Op::Write, 2, GFP_KERNEL, 0)?;
        assert_eq!(bio.add_iter_pages(it, 0), Err(EINVAL));
        assert_eq!(it.len(), 1024);
        let mut bio = set.alloc(file.bdev(), Op::Read, 2, GFP_KERNEL, 0)?;
        assert_eq!(bio.add_iter_pages(it, 0), Err(EINVAL));
        assert_eq!(bio.size(), 0);
        assert_eq!(bio.submit_wait(), Err(EINVAL));
        Ok(())
    }

    /// What a write bio takes from a source vector reaches the device, and a read bio fills a
    /// destination vector with it; neither takes a vector of the other direction.
    #[test]
    fn iter_round_trip() -> Result {
        const LEN: usize = 2048;
        let file = BdevFile::open(bindings::RAMDISK_MAJOR, 0, OpenMode::READ_WRITE)?;
        let set = KBox::pin_init(BioSet::<u32>::new(2), GFP_KERNEL)?;
        let mut src = KVec::<u8>::with_capacity(LEN, GFP_KERNEL)?;
        for i in 0..LEN {
            src.push((i * 7 + 3) as u8, GFP_KERNEL)?;
        }
        let mut dst = KVec::<u8>::from_elem(0u8, LEN, GFP_KERNEL)?;
        // One vector a half: a vector of two segments.
        let kvecs = |buf: *mut u8| {
            [
                bindings::kvec {
                    iov_base: buf.cast(),
                    iov_len: LEN / 2,
                },
                bindings::kvec {
                    // SAFETY: Within the buffer.
                    iov_base: unsafe { buf.add(LEN / 2) }.cast(),
                    iov_len: LEN / 2,
                },
            ]
        };
        let (src_vecs, dst_vecs) = (kvecs(src.as_mut_ptr()), kvecs(dst.as_mut_ptr()));
        // SAFETY: Zeroes are a valid `iov_iter` for `iov_iter_kvec()` to set up.
        let (mut src_it, mut dst_it): (bindings::iov_iter, bindings::iov_iter) =
            unsafe { (core::mem::zeroed(), core::mem::zeroed()) };
        // SAFETY: The vectors describe `src` and `dst`, which outlive the iterators and bios.
        unsafe {
            bindings::iov_iter_kvec(
                &mut src_it,
                bindings::ITER_SOURCE,
                src_vecs.as_ptr(),
                2,
                LEN,
            );
            bindings::iov_iter_kvec(&mut dst_it, bindings::ITER_DEST, dst_vecs.as_ptr(), 2, LEN);
        }
        // SAFETY: A source over `src` and a destination over `dst`, which nothing else uses
        // meanwhile.
        let (src_it, dst_it) = unsafe {
            (
                crate::iov::IovIterSource::from_raw(&mut src_it),
                crate::iov::IovIterDest::from_raw(&mut dst_it),
            )
        };
        let mut bio = set.alloc(file.bdev(), Op::Read, 2, GFP_KERNEL, 0)?;
        assert_eq!(bio.add_iter_pages(src_it, 0), Err(EINVAL));
        let mut bio = set.alloc(file.bdev(), Op::Write, 2, GFP_KERNEL, 0)?;
        bio.add_iter_pages(src_it, 0)?;
        assert_eq!((bio.size(), src_it.len()), (LEN as u32, 0));
        bio.submit_wait()?;
        let mut bio = set.alloc(file.bdev(), Op::Read, 2, GFP_KERNEL, 0)?;
        bio.add_iter_pages(dst_it, 0)?;
        assert_eq!((bio.size(), dst_it.len()), (LEN as u32, 0));
        bio.submit_wait()?;
        drop(bio);
        assert!(src[..] == dst[..]);
        Ok(())
    }

    /// A bio is submitted once: after `submit_wait` it takes no page and is not submitted
    /// again; `FUA` is for writes only; `MKDEV()`'s bounds hold.
    #[test]
    fn one_shot() -> Result {
        assert_eq!(
            BdevFile::open(bindings::RAMDISK_MAJOR, 1 << 20, OpenMode::READ).err(),
            Some(EINVAL)
        );
        assert_eq!(
            BdevFile::open(1 << 12, 0, OpenMode::READ).err(),
            Some(EINVAL)
        );
        let file = BdevFile::open(bindings::RAMDISK_MAJOR, 0, OpenMode::READ_WRITE)?;
        let set = KBox::pin_init(BioSet::<u32>::new(2), GFP_KERNEL)?;
        let page = Page::alloc_page(GFP_KERNEL)?;
        let mut bio = set.alloc(file.bdev(), Op::Read, 2, GFP_KERNEL, 0)?;
        assert_eq!(bio.set_flags(ReqFlags::FUA), Err(EINVAL));
        bio.set_flags(ReqFlags::SYNC | ReqFlags::IDLE)?;
        bio.add_page(&page, 512, 0)?;
        bio.submit_wait()?;
        assert_eq!(bio.submit_wait(), Err(EINVAL));
        assert_eq!(bio.add_page(&page, 512, 512), Err(EINVAL));
        let mut bio = set.alloc(file.bdev(), Op::Write, 1, GFP_KERNEL, 0)?;
        bio.set_flags(ReqFlags::FUA)?;
        bio.add_page(&page, PAGE_SIZE, 0)?;
        bio.submit_wait()
    }
}

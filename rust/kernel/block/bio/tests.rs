// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the bio abstractions: the front pad, the vector bound.

#[macros::kunit_tests(rust_kernel_block_bio)]
mod suite {
    use super::super::{Bio, BioSet};
    use crate::{bindings, prelude::*};
    use core::sync::atomic::{AtomicUsize, Ordering};

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
    /// accessors, `into_raw`/`from_raw` and `from_data` find it, the bio starts on a cache
    /// line, and dropping the bio drops the data once (and returns the bio to its set).
    #[test]
    fn front_pad_round_trip() -> Result {
        let set = KBox::pin_init(BioSet::<Pad>::new(2), GFP_KERNEL)?;
        let drops = PAD_DROPS.load(Ordering::Relaxed);
        let pattern = [0x0123_4567_89ab_cdef, 1, 2, 3, u64::MAX];
        // SAFETY: The bio without a device is neither given pages nor submitted.
        let mut bio = unsafe { set.alloc(core::ptr::null_mut(), 1, GFP_KERNEL, Pad(pattern)) }?;
        assert_eq!(bio.data().0, pattern);
        assert_eq!(bio.size(), 0);
        assert_eq!(bio.as_raw() as usize % 64, 0);
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
            // SAFETY: No bio is made; one would be neither given pages nor submitted.
            let r = unsafe { set.alloc(core::ptr::null_mut(), nr, GFP_KERNEL, Pad([0; 5])) };
            assert_eq!(r.err(), Some(EINVAL));
        }
        assert_eq!(PAD_DROPS.load(Ordering::Relaxed), drops + 2);
        // SAFETY: The bio without a device is neither given pages nor submitted.
        let bio = unsafe { set.alloc(core::ptr::null_mut(), max, GFP_KERNEL, Pad([0; 5])) }?;
        // SAFETY: The bio is valid.
        assert_eq!(unsafe { (*bio.as_raw()).bi_max_vecs }, max);
        Ok(())
    }
}

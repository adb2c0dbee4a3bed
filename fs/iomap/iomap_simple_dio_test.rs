// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the simple direct-I/O read path: the request, mapping and alignment
//! rules and the counters.

use kernel::prelude::*;

#[kunit_tests(iomap_simple_dio)]
mod tests {
    use super::super::*;

    fn req(count: usize, pos: i64) -> Request {
        Request {
            count,
            pos,
            i_size: 1 << 20,
            block_size: 4096,
            dio_flags: 0,
            encrypted: false,
            has_iomap_begin: true,
        }
    }

    #[test]
    fn request_served() {
        assert_eq!(check_request(&req(4096, 0)), Ok(()));
        assert_eq!(check_request(&req(512, 4096 * 7)), Ok(()));
        assert_eq!(check_request(&req(4096, (1 << 20) - 4096)), Ok(()));
    }

    #[test]
    fn request_size_rule() {
        // Multi-block reads up to 64 KiB: database page sizes on 4 KiB blocks.
        for kib in [8, 16, 32, 64] {
            assert_eq!(check_request(&req(kib * 1024, 0)), Ok(()));
        }
        // A file system block larger than the cap is still served whole.
        let mut r = req(1 << 17, 0);
        r.block_size = 1 << 17;
        r.i_size = 1 << 20;
        assert_eq!(check_request(&r), Ok(()));
        r.count = (1 << 17) + 512;
        assert_eq!(check_request(&r), Err(Stat::TooLarge));
        assert_eq!(max_read_bytes(1024), 65536);
        assert_eq!(max_read_bytes(4096), 65536);
        assert_eq!(max_read_bytes(65536), 65536);
    }

    #[test]
    fn request_declined() {
        assert_eq!(check_request(&req(0, 0)), Err(Stat::Empty));
        assert_eq!(check_request(&req(65536 + 4096, 0)), Err(Stat::TooLarge));
        assert_eq!(check_request(&req(65537, 0)), Err(Stat::TooLarge));
        assert_eq!(check_request(&req(1 << 20, 0)), Err(Stat::TooLarge));
        assert_eq!(check_request(&req(4096, 1 << 20)), Err(Stat::BeyondEof));
        assert_eq!(
            check_request(&req(4096, (1 << 20) - 512)),
            Err(Stat::BeyondEof)
        );
        assert_eq!(check_request(&req(4096, -4096)), Err(Stat::BeyondEof));
        assert_eq!(check_request(&req(4096, i64::MAX)), Err(Stat::BeyondEof));
        for flag in [dio_flags::FORCE_WAIT, dio_flags::PARTIAL, dio_flags::BOUNCE] {
            let mut r = req(4096, 0);
            r.dio_flags = flag;
            assert_eq!(check_request(&r), Err(Stat::DioFlags));
        }
        let mut r = req(4096, 0);
        r.dio_flags = dio_flags::FSBLOCK_ALIGNED;
        assert_eq!(check_request(&r), Ok(()));
        let mut r = req(4096, 0);
        r.encrypted = true;
        assert_eq!(check_request(&r), Err(Stat::Encrypted));
        let mut r = req(4096, 0);
        r.has_iomap_begin = false;
        assert_eq!(check_request(&r), Err(Stat::NoIomapBegin));
    }

    /// Each reason a mapping cannot be read with one bio has its own counter.
    #[test]
    fn mapping() {
        assert_eq!(Stat::from(NotOneExtent::NotMapped), Stat::NotMapped);
        assert_eq!(Stat::from(NotOneExtent::Partial), Stat::PartialMapping);
        assert_eq!(Stat::from(NotOneExtent::Integrity), Stat::Integrity);
    }

    #[test]
    fn alignment() {
        assert!(is_aligned(0, 4096, 512));
        assert!(is_aligned(512, 512, 512));
        assert!(!is_aligned(1, 4096, 512));
        assert!(!is_aligned(0, 4095, 512));
        assert!(!is_aligned(512, 512, 4096));
        assert!(is_aligned(8192, 4096, 4096));
    }

    #[test]
    fn counters() -> Result {
        let stats = KBox::pin_init(Stats::new(), GFP_KERNEL)?;
        for &stat in Stat::ALL {
            assert_eq!(stats.get(stat), 0);
        }
        for _ in 0..1000 {
            stats.count(Stat::Hit);
        }
        stats.count(Stat::BeyondEof);
        assert_eq!(stats.get(Stat::Hit), 1000);
        assert_eq!(stats.get(Stat::BeyondEof), 1);
        assert_eq!(stats.get(Stat::TooLarge), 0);
        let mut names = KVec::new();
        assert_eq!(Stat::ALL.len(), Stat::COUNT);
        for (i, &stat) in Stat::ALL.iter().enumerate() {
            // The counters are indexed by the variant: the list is in declaration order.
            assert_eq!(stat as usize, i);
            assert!(!names.contains(&stat.name()));
            names.push(stat.name(), GFP_KERNEL)?;
        }
        Ok(())
    }
}

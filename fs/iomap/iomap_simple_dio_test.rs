// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the simple direct-I/O read path's policy: the size rule, the counter of
//! each decline, the counters.

use kernel::prelude::*;

#[kunit_tests(iomap_simple_dio)]
mod tests {
    use super::super::*;

    #[test]
    fn size_rule() {
        // Multi-block reads up to 64 KiB: database page sizes on 4 KiB blocks.
        assert_eq!(max_read_bytes(512), 65536);
        assert_eq!(max_read_bytes(1024), 65536);
        assert_eq!(max_read_bytes(4096), 65536);
        assert_eq!(max_read_bytes(65536), 65536);
        // A file system block larger than the cap is still served whole.
        assert_eq!(max_read_bytes(1 << 17), 1 << 17);
    }

    /// Each reason the mechanism declines a read has its own counter.
    #[test]
    fn declines() {
        let pairs = [
            (Decline::Empty, Stat::Empty),
            (Decline::DioFlags, Stat::DioFlags),
            (Decline::BeyondEof, Stat::BeyondEof),
            (Decline::Encrypted, Stat::Encrypted),
            (Decline::NoIomapBegin, Stat::NoIomapBegin),
            (
                Decline::NotOneExtent(NotOneExtent::NotMapped),
                Stat::NotMapped,
            ),
            (
                Decline::NotOneExtent(NotOneExtent::Partial),
                Stat::PartialMapping,
            ),
            (
                Decline::NotOneExtent(NotOneExtent::Integrity),
                Stat::Integrity,
            ),
            (Decline::PinShort, Stat::PinShort),
        ];
        for (i, &(why, stat)) in pairs.iter().enumerate() {
            assert_eq!(Stat::from(why), stat);
            for &(_, other) in &pairs[..i] {
                assert_ne!(stat, other);
            }
        }
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

// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the simple direct-I/O path's policy: the size rule, the counter of
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

    /// Each reason the mechanism declines a request has its own counter, a read's apart from
    /// a write's; a reason only a write has is counted as a write's.
    #[test]
    fn declines() {
        let reasons = [
            Decline::Empty,
            Decline::DioFlags,
            Decline::BeyondEof,
            Decline::Encrypted,
            Decline::NoIomapBegin,
            Decline::NotOneExtent(NotOneExtent::NotMapped),
            Decline::NotOneExtent(NotOneExtent::Partial),
            Decline::NotOneExtent(NotOneExtent::Integrity),
            Decline::PinShort,
        ];
        let write_only = [
            Decline::Atomic,
            Decline::EofTail,
            Decline::StableWrites,
            Decline::PagesCached,
            Decline::WritebackError,
            Decline::NotOverwrite,
        ];
        assert_eq!(Stat::declined(Decline::Empty, false), Stat::Empty);
        assert_eq!(Stat::declined(Decline::PinShort, true), Stat::WritePinShort);
        let mut seen = KVec::<Stat>::new();
        for &why in &reasons {
            for write in [false, true] {
                let stat = Stat::declined(why, write);
                assert!(!seen.contains(&stat));
                assert_eq!(stat.name().starts_with("write_"), write);
                seen.push(stat, GFP_KERNEL).unwrap();
            }
        }
        for &why in &write_only {
            let stat = Stat::declined(why, false);
            assert_eq!(Stat::declined(why, true), stat);
            assert!(stat.name().starts_with("write_fallback_"));
            assert!(!seen.contains(&stat));
            seen.push(stat, GFP_KERNEL).unwrap();
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

// SPDX-License-Identifier: GPL-2.0

//! iomap: a file system's mapping operations (`struct iomap_ops`) and the mappings they
//! return (`struct iomap`), and the `iomap_dio_rw()` flags.
//!
//! [`simple_dio`] builds a direct-I/O read path on them, behind the hook in
//! `iomap_dio_rw()`.
//!
//! C header: [`include/linux/iomap.h`](srctree/include/linux/iomap.h)

use crate::{bindings, block::bdev::BlockDevice, types::Opaque};
use core::ptr::NonNull;

#[cfg(CONFIG_IOMAP_SIMPLE_DIO)]
pub mod simple_dio;

/// `iomap_dio_rw()` flags (`IOMAP_DIO_*`) a read may come with.
pub mod dio_flags {
    use crate::bindings;
    /// Wait for completion even for an asynchronous kiocb.
    pub const FORCE_WAIT: u32 = bindings::IOMAP_DIO_FORCE_WAIT;
    /// Return a short read instead of falling back when a page fault would be needed.
    pub const PARTIAL: u32 = bindings::IOMAP_DIO_PARTIAL;
    /// Offset and length must be aligned to the file system block, not the device's.
    pub const FSBLOCK_ALIGNED: u32 = bindings::IOMAP_DIO_FSBLOCK_ALIGNED;
    /// Read through a bounce buffer.
    pub const BOUNCE: u32 = bindings::IOMAP_DIO_BOUNCE;
}

/// Mapping type: blocks are allocated and written at `addr`.
pub const IOMAP_MAPPED: u16 = bindings::IOMAP_MAPPED as u16;
/// Mapping flag: the blocks carry integrity metadata (zero without `BLK_DEV_INTEGRITY`).
pub const IOMAP_F_INTEGRITY: u16 = bindings::IOMAP_F_INTEGRITY as u16;

/// A file system's mapping operations (`struct iomap_ops`).
///
/// # Invariants
///
/// The wrapped `struct iomap_ops` is valid for the lifetime of any reference to `Self`.
#[repr(transparent)]
pub struct IomapOps(Opaque<bindings::iomap_ops>);

impl IomapOps {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to valid iomap operations that stay valid for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::iomap_ops) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper and the caller guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the operations, to call.
    #[inline]
    pub(crate) fn ops(&self) -> &bindings::iomap_ops {
        // SAFETY: The operations are valid (type invariant) and never written.
        unsafe { &*self.0.get() }
    }

    /// Returns whether the file system maps through `->iomap_begin`.
    ///
    /// Some file systems provide only `->iomap_next`; they need the generic iterator.
    #[inline]
    pub fn has_begin(&self) -> bool {
        self.ops().iomap_begin.is_some()
    }
}

/// A mapping of a file range, as `->iomap_begin` filled it, borrowed for `'b`.
///
/// # Invariants
///
/// The block device of the mapping, if it has one, is valid for `'b`.
#[derive(Clone, Copy)]
pub struct Iomap<'b> {
    map: &'b bindings::iomap,
}

impl<'b> Iomap<'b> {
    /// Wraps a mapping.
    ///
    /// # Safety
    ///
    /// `map.bdev` must be null or a block device that stays valid for `'b`: that of the file
    /// system that filled it in, for a read of one of its files in progress.
    #[inline]
    pub unsafe fn from_raw(map: &'b bindings::iomap) -> Self {
        // INVARIANT: By the caller's guarantee.
        Self { map }
    }

    /// Returns the mapping type ([`IOMAP_MAPPED`], ...).
    #[inline]
    pub fn kind(&self) -> u16 {
        self.map.type_
    }

    /// Returns the `IOMAP_F_*` flags.
    #[inline]
    pub fn flags(&self) -> u16 {
        self.map.flags
    }

    /// Returns the file offset where the mapping starts.
    #[inline]
    pub fn offset(&self) -> i64 {
        self.map.offset
    }

    /// Returns the length of the mapping in bytes.
    #[inline]
    pub fn length(&self) -> u64 {
        self.map.length
    }

    /// Returns whether the mapping covers all of `[pos, pos + len)`.
    // Bitwise on purpose: see below. `allow`, not `expect`: clippy 1.85, the kernel's
    // minimum, does not lint this.
    #[allow(clippy::needless_bitwise_bool)]
    #[inline]
    pub fn covers(&self, pos: i64, len: u64) -> bool {
        // Without 128-bit arithmetic: `pos` lies `skip` bytes into the mapping (exact in a
        // `u64` when `pos` is not before it), which has `length - skip` bytes left from there.
        // Without short-circuits: one branch for the caller, not one per condition.
        let skip = pos.wrapping_sub(self.map.offset) as u64;
        (pos >= self.map.offset)
            & (skip <= self.map.length)
            & (self.map.length.wrapping_sub(skip) >= len)
    }

    /// Returns the device sector where file offset `pos` lives (`iomap_sector`).
    #[inline]
    pub fn sector(&self, pos: i64) -> u64 {
        self.map
            .addr
            .wrapping_add(pos.wrapping_sub(self.map.offset) as u64)
            >> bindings::SECTOR_SHIFT
    }

    /// Returns the block device of a mapped range, if the mapping has one.
    #[inline]
    pub fn bdev(&self) -> Option<&'b BlockDevice> {
        // SAFETY: The block device is valid for `'b` (type invariant).
        NonNull::new(self.map.bdev).map(|b| unsafe { BlockDevice::from_raw(b.as_ptr()) })
    }

    /// Returns the block device to read `[pos, pos + len)` from with one bio, or why it cannot
    /// be.
    ///
    /// One bio reads the range only from one written extent ([`IOMAP_MAPPED`]) on a block
    /// device, without integrity metadata, that covers all of it: anything else (a hole, an
    /// unwritten extent, inline data, another extent further on) holds other bytes than the
    /// device does there.
    // IOMAP_F_INTEGRITY is 0 without CONFIG_BLK_DEV_INTEGRITY: its test is then always false.
    #[allow(clippy::bad_bit_mask)]
    // Bitwise on purpose: see below. `allow`, not `expect`: clippy 1.85, the kernel's
    // minimum, does not lint this.
    #[allow(clippy::needless_bitwise_bool)]
    #[inline]
    pub fn one_extent(&self, pos: i64, len: u64) -> Result<&'b BlockDevice, NotOneExtent> {
        // All three tests, then one branch: a read served takes no branch per condition.
        let bdev = self.bdev();
        let mapped = bdev.is_some() & (self.kind() == IOMAP_MAPPED);
        let covers = self.covers(pos, len);
        let integrity = self.flags() & IOMAP_F_INTEGRITY != 0;
        match bdev {
            Some(bdev) if mapped & covers & !integrity => Ok(bdev),
            _ if !mapped => Err(NotOneExtent::NotMapped),
            _ if !covers => Err(NotOneExtent::Partial),
            _ => Err(NotOneExtent::Integrity),
        }
    }
}

/// Why one bio cannot read a range of a mapping ([`Iomap::one_extent`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotOneExtent {
    /// Not a written extent on a block device: a hole, an unwritten or delayed extent, inline
    /// data, ...
    NotMapped,
    /// The extent ends before the range does.
    Partial,
    /// The extent carries integrity metadata ([`IOMAP_F_INTEGRITY`]).
    Integrity,
}

#[macros::kunit_tests(rust_kernel_fs_iomap)]
mod tests {
    use super::*;
    use crate::prelude::*;

    /// Returns a mapping of `length` bytes at file offset `offset`, device byte `addr`.
    fn mapping(offset: i64, length: u64, addr: u64) -> bindings::iomap {
        // SAFETY: All-zero is a valid `struct iomap` (a hole, null pointers).
        let mut map: bindings::iomap = unsafe { core::mem::zeroed() };
        map.offset = offset;
        map.length = length;
        map.addr = addr;
        map
    }

    /// `Iomap::covers` at the edges, without overflow wherever the numbers are.
    #[test]
    fn iomap_covers() {
        let m = mapping(8192, 8192, 0);
        let map = Iomap { map: &m };
        assert!(map.covers(8192, 8192));
        assert!(map.covers(12288, 4096));
        assert!(map.covers(16383, 1));
        assert!(map.covers(8192, 0));
        assert!(!map.covers(8191, 4096));
        assert!(!map.covers(12288, 4097));
        assert!(!map.covers(16384, 1));
        assert!(!map.covers(-1, 1));
        assert!(!map.covers(i64::MIN, 1));
        assert!(!map.covers(i64::MAX, u64::MAX));
        // A mapping to the end of the address space, and one from a negative offset.
        let m = mapping(0, u64::MAX, 0);
        let map = Iomap { map: &m };
        assert!(map.covers(i64::MAX, 4096));
        assert!(map.covers(0, u64::MAX));
        let m = mapping(i64::MIN, u64::MAX, 0);
        let map = Iomap { map: &m };
        assert!(!map.covers(i64::MAX, 1));
    }

    /// `Iomap::one_extent`: the device of a written extent over the range, and each reason
    /// why not, in the order it tests them.
    #[test]
    fn iomap_one_extent() -> Result {
        // SAFETY: All-zero is a valid `struct block_device` to point at; nothing reads it.
        let zeroed: bindings::block_device = unsafe { core::mem::zeroed() };
        let bdev = KBox::new(zeroed, GFP_KERNEL)?;
        let bdev_ptr = core::ptr::from_ref::<bindings::block_device>(&bdev).cast_mut();
        let extent = |kind: u32, flags: u32, with_bdev: bool| {
            let mut m = mapping(8192, 8192, 0);
            m.type_ = kind as u16;
            m.flags = flags as u16;
            if with_bdev {
                m.bdev = bdev_ptr;
            }
            m
        };
        let one = |m: &bindings::iomap, pos: i64, len: u64| {
            Iomap { map: m }
                .one_extent(pos, len)
                .map(|b| core::ptr::from_ref(b).cast::<bindings::block_device>())
        };
        let m = extent(bindings::IOMAP_MAPPED, 0, true);
        assert_eq!(one(&m, 8192, 8192), Ok(bdev_ptr.cast_const()));
        assert_eq!(one(&m, 12288, 4096), Ok(bdev_ptr.cast_const()));
        assert_eq!(one(&m, 12288, 8192), Err(NotOneExtent::Partial));
        assert_eq!(one(&m, 4096, 4096), Err(NotOneExtent::Partial));
        for kind in [
            bindings::IOMAP_HOLE,
            bindings::IOMAP_DELALLOC,
            bindings::IOMAP_UNWRITTEN,
            bindings::IOMAP_INLINE,
        ] {
            let m = extent(kind, 0, true);
            assert_eq!(one(&m, 8192, 4096), Err(NotOneExtent::NotMapped));
        }
        let m = extent(bindings::IOMAP_MAPPED, 0, false);
        assert_eq!(one(&m, 8192, 4096), Err(NotOneExtent::NotMapped));
        // Not a written extent comes before not covering, which comes before integrity.
        let m = extent(bindings::IOMAP_HOLE, bindings::IOMAP_F_INTEGRITY, true);
        assert_eq!(one(&m, 4096, 4096), Err(NotOneExtent::NotMapped));
        // Other mapping flags (shared, merged, ...) do not matter to a read.
        let m = extent(bindings::IOMAP_MAPPED, bindings::IOMAP_F_SHARED, true);
        assert_eq!(one(&m, 8192, 4096), Ok(bdev_ptr.cast_const()));
        if IOMAP_F_INTEGRITY != 0 {
            let m = extent(bindings::IOMAP_MAPPED, bindings::IOMAP_F_INTEGRITY, true);
            assert_eq!(one(&m, 8192, 4096), Err(NotOneExtent::Integrity));
            assert_eq!(one(&m, 4096, 4096), Err(NotOneExtent::Partial));
        }
        Ok(())
    }

    /// `Iomap::sector` is `iomap_sector()`: the device byte of `pos`, in 512-byte sectors.
    #[test]
    fn iomap_sector() {
        let m = mapping(8192, 65536, 1 << 20);
        let map = Iomap { map: &m };
        assert_eq!(map.sector(8192), (1 << 20) >> 9);
        assert_eq!(map.sector(12288), ((1 << 20) + 4096) >> 9);
        assert_eq!(map.sector(8192 + 512), ((1 << 20) >> 9) + 1);
    }
}

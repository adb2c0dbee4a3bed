// SPDX-License-Identifier: GPL-2.0

//! Block devices: what I/O to one must respect ([`BlockDevice`]), and opening one by its
//! device number ([`BdevFile`]).
//!
//! C header: [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h)

use crate::{
    bindings,
    error::{code::EINVAL, from_err_ptr, Result},
    types::Opaque,
};
use core::ptr::NonNull;

/// A block device that I/O is sent to.
///
/// Its queue limits may change while it is in use (`queue_limits_commit_update()`, from sysfs
/// among others): each accessor reads the current value, as the C inlines do, and a caller that
/// needs one value for one I/O reads it once.
///
/// # Invariants
///
/// The wrapped `struct block_device` is valid for the lifetime of any reference to `Self`.
#[repr(transparent)]
pub struct BlockDevice(Opaque<bindings::block_device>);

// SAFETY: A `struct block_device` is used from any thread: its accessors here are the unlocked
// reads the C inlines do, and it is not tied to the thread that opened it.
unsafe impl Send for BlockDevice {}
// SAFETY: Every method takes `&self` and reads what C reads unlocked (`bdev_get_queue()`'s limits
// and features), so concurrent calls are fine.
unsafe impl Sync for BlockDevice {}

impl BlockDevice {
    /// Creates a reference to a block device from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct block_device` that stays valid for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::block_device) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper of `struct block_device`, and the caller
        // guarantees it is valid for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the raw `struct block_device` pointer.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::block_device {
        self.0.get()
    }

    /// Returns the smallest unit, in bytes, the device can address
    /// (`bdev_logical_block_size()`).
    #[inline]
    pub fn logical_block_size(&self) -> u32 {
        // SAFETY: The block device is valid (type invariant).
        unsafe { bindings::bdev_logical_block_size(self.as_raw()) }
    }

    /// Returns the mask that the memory address and length of each segment of a DMA buffer
    /// must satisfy (`bdev_dma_alignment()`).
    #[inline]
    pub fn dma_alignment(&self) -> u32 {
        // SAFETY: The block device is valid (type invariant).
        unsafe { bindings::bdev_dma_alignment(self.as_raw()) }
    }

    /// Returns whether the device has a volatile write cache (`bdev_write_cache()`): a write
    /// it has completed survives a power cut only after a flush, or when it was `REQ_FUA`.
    #[inline]
    pub fn write_cache(&self) -> bool {
        // SAFETY: The block device is valid (type invariant).
        unsafe { bindings::bdev_write_cache(self.as_raw()) }
    }

    /// Returns whether the device honours `REQ_FUA` itself (`bdev_fua()`), rather than the
    /// block layer emulating it with a flush after the write.
    #[inline]
    pub fn fua(&self) -> bool {
        // SAFETY: The block device is valid (type invariant).
        unsafe { bindings::bdev_fua(self.as_raw()) }
    }

    /// Returns whether the device supports `REQ_NOWAIT` (`bdev_nowait()`); a device that does
    /// not fails such a bio with `EOPNOTSUPP`.
    #[inline]
    pub fn nowait(&self) -> bool {
        // SAFETY: The block device is valid (type invariant).
        unsafe { bindings::bdev_nowait(self.as_raw()) }
    }

    /// Returns whether the device needs the pages of a write left unchanged while it is in
    /// flight (`bdev_stable_writes()`: checksums or integrity data computed over them).
    #[inline]
    pub fn stable_writes(&self) -> bool {
        // SAFETY: The block device is valid (type invariant).
        unsafe { bindings::bdev_stable_writes(self.as_raw()) }
    }
}

/// How a block device is opened: for reading, writing or both (`blk_mode_t`).
///
/// Never exclusive: the device is opened without a holder, as `bdev_file_open_by_dev()`
/// allows only without `BLK_OPEN_EXCL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenMode(bindings::blk_mode_t);

impl OpenMode {
    /// Open for reading (`BLK_OPEN_READ`).
    pub const READ: Self = Self(bindings::BLK_OPEN_READ);
    /// Open for writing (`BLK_OPEN_WRITE`).
    pub const WRITE: Self = Self(bindings::BLK_OPEN_WRITE);
    /// Open for reading and writing.
    pub const READ_WRITE: Self = Self(bindings::BLK_OPEN_READ | bindings::BLK_OPEN_WRITE);
}

/// A block device opened by its device number (`bdev_file_open_by_dev()`), as a file system or
/// a stacking driver opens the device under it; closed (`bdev_fput()`) on drop.
///
/// # Invariants
///
/// `file` is a block device file returned by `bdev_file_open_by_dev()`, whose reference this
/// object owns.
pub struct BdevFile {
    file: NonNull<bindings::file>,
}

// SAFETY: The file reference may be dropped from any thread: `bdev_fput()` does not depend on the
// opener's context.
unsafe impl Send for BdevFile {}
// SAFETY: `&BdevFile` only gives the `BlockDevice`, which is `Sync`.
unsafe impl Sync for BdevFile {}

impl BdevFile {
    /// Opens the block device `major:minor` (`MKDEV()`).
    ///
    /// Fails with `EINVAL` for numbers `MKDEV()` cannot hold (a minor of `MINORBITS` bits or
    /// more, a major past what is left of a `dev_t`), and with the error of
    /// `bdev_file_open_by_dev()`: `ENXIO` for no such device, `EACCES` for writing to a
    /// read-only one, and so on. It may sleep.
    pub fn open(major: u32, minor: u32, mode: OpenMode) -> Result<Self> {
        if minor >> bindings::MINORBITS != 0 || major >> (u32::BITS - bindings::MINORBITS) != 0 {
            return Err(EINVAL);
        }
        // SAFETY: `MKDEV()` accepts any numbers; `bdev_file_open_by_dev()` takes any device
        // number and mode. Without `BLK_OPEN_EXCL` no holder or holder operations are needed.
        let file = from_err_ptr(unsafe {
            bindings::bdev_file_open_by_dev(
                bindings::MKDEV(major, minor),
                mode.0,
                core::ptr::null_mut(),
                core::ptr::null(),
            )
        })?;
        // INVARIANT: `bdev_file_open_by_dev()` returned an open block device file.
        Ok(Self {
            // SAFETY: `from_err_ptr` returned no error, so the pointer is a valid file.
            file: unsafe { NonNull::new_unchecked(file) },
        })
    }

    /// Returns the opened block device.
    #[inline]
    pub fn bdev(&self) -> &BlockDevice {
        // SAFETY: The file is an open block device file (type invariant), whose device stays
        // valid until `bdev_fput()`, which only drop calls.
        unsafe { BlockDevice::from_raw(bindings::file_bdev(self.file.as_ptr())) }
    }
}

impl Drop for BdevFile {
    fn drop(&mut self) {
        // SAFETY: The reference is ours (type invariant) and given up once, here.
        unsafe { bindings::bdev_fput(self.file.as_ptr()) };
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The block device a bio goes to, and the queue limits read from it.

use crate::{bindings, types::Opaque};

/// A block device that I/O is sent to.
///
/// # Invariants
///
/// The wrapped `struct block_device` is valid for the lifetime of any reference to `Self`.
#[repr(transparent)]
pub struct BlockDevice(Opaque<bindings::block_device>);

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

    /// Returns the queue limits of the device (`bdev_get_queue(bdev)->limits`), to read
    /// one field of with [`read_once`].
    // Read in place, as the C inlines do: a helper call for each limit costs more than
    // the load it wraps, once per I/O.
    #[inline]
    fn limits(&self) -> *const bindings::queue_limits {
        // SAFETY: By the type invariant the block device is valid; its queue is never null
        // and lives as long as it (`bdev_get_queue()`).
        unsafe { &raw const (*(*self.as_raw()).bd_queue).limits }
    }

    /// Returns the smallest unit, in bytes, the device can address.
    #[inline]
    pub fn logical_block_size(&self) -> u32 {
        // SAFETY: The limits are valid (see `limits`).
        unsafe { read_once(&raw const (*self.limits()).logical_block_size) }
    }

    /// Returns the mask that the memory address of a DMA buffer must satisfy.
    #[inline]
    pub fn dma_alignment(&self) -> u32 {
        // SAFETY: The limits are valid (see `limits`).
        unsafe { read_once(&raw const (*self.limits()).dma_alignment) }
    }
}

/// Reads a field that C may rewrite meanwhile, as `READ_ONCE()` does.
///
/// `queue_limits_commit_update()` rewrites a queue's limits (sysfs stores among its callers)
/// with the queue frozen, which waits for requests in flight but not for code that reads the
/// limits before it submits: `bdev_logical_block_size()` and friends read them so, unlocked.
/// A volatile load of a naturally aligned word is what `READ_ONCE()` compiles to.
///
/// # Safety
///
/// `p` must be valid for reads and aligned.
#[inline(always)]
unsafe fn read_once<T: Copy>(p: *const T) -> T {
    // SAFETY: The caller's guarantees.
    unsafe { p.read_volatile() }
}

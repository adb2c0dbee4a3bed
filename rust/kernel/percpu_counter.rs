// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters (`struct percpu_counter`): cheap to add to, summed when read.
//!
//! C header: [`include/linux/percpu_counter.h`](srctree/include/linux/percpu_counter.h)

use crate::{
    bindings,
    error::{to_result, Error},
    prelude::*,
    sync::LockClassKey,
    types::Opaque,
};

/// `N` statistics counters, each a `struct percpu_counter`.
///
/// [`PerCpuCounters::add`] only touches the current CPU's slot (a local cmpxchg, no lock
/// and no shared cache line): the batch is `i32::MAX`, so slots are never folded into the
/// shared total on the way. [`PerCpuCounters::sum`] adds up all CPUs when read.
///
/// # Invariants
///
/// `inner` was initialised by `__percpu_counter_init_many` and is destroyed on drop.
#[pin_data(PinnedDrop)]
pub struct PerCpuCounters<const N: usize> {
    #[pin]
    inner: Opaque<[bindings::percpu_counter; N]>,
}

// SAFETY: The counters are meant to be updated and read from any CPU concurrently.
unsafe impl<const N: usize> Send for PerCpuCounters<N> {}
// SAFETY: `add` and `sum` are safe to call concurrently (per-CPU slots plus a spinlock).
unsafe impl<const N: usize> Sync for PerCpuCounters<N> {}

impl<const N: usize> PerCpuCounters<N> {
    /// Creates `N` counters at zero.
    pub fn new(key: Pin<&'static LockClassKey>) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(move |c: *mut [bindings::percpu_counter; N]| {
                // SAFETY: `c` points to writable memory for `N` counters and `key` is static.
                to_result(unsafe {
                    bindings::__percpu_counter_init_many(
                        c.cast(),
                        0,
                        bindings::GFP_KERNEL,
                        N as u32,
                        key.as_ptr(),
                    )
                })
            }),
        })
    }

    fn counter(&self, i: usize) -> *mut bindings::percpu_counter {
        assert!(i < N);
        // SAFETY: `i < N`, within the array.
        unsafe { self.inner.get().cast::<bindings::percpu_counter>().add(i) }
    }

    /// Adds `v` to counter `i` (`i < N`).
    #[inline]
    pub fn add(&self, i: usize, v: i64) {
        // SAFETY: The counter is initialised (type invariant).
        unsafe { bindings::percpu_counter_add_batch(self.counter(i), v, i32::MAX) };
    }

    /// Returns the exact value of counter `i` (`i < N`), summed over all CPUs.
    pub fn sum(&self, i: usize) -> i64 {
        // SAFETY: The counter is initialised (type invariant).
        unsafe { bindings::__percpu_counter_sum(self.counter(i)) }
    }
}

#[pinned_drop]
impl<const N: usize> PinnedDrop for PerCpuCounters<N> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: The counters were initialised (type invariant) and are destroyed once.
        unsafe { bindings::percpu_counter_destroy_many(self.inner.get().cast(), N as u32) };
    }
}

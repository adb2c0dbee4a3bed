// SPDX-License-Identifier: GPL-2.0

//! Per-CPU statistics counters: one instruction to add to, summed when read.
//!
//! C header: [`include/linux/percpu.h`](srctree/include/linux/percpu.h)

use crate::{bindings, error::Error, prelude::*};
use core::ptr::NonNull;

/// `N` statistics counters, each a `u64` per CPU.
///
/// [`PerCpuCounters::add`] adds to the current CPU's slot only: on SMP x86-64 it is one
/// `add` to a `%gs`-relative address, which preemption cannot split (no lock, no atomic,
/// no call, no batch to fold into a shared total, and 64 bits do not wrap).
/// [`PerCpuCounters::sum`] adds up every possible CPU's slot when read, so a reader may
/// miss adds that race with it, as with any per-CPU statistic.
///
/// # Invariants
///
/// `ptr` is a per-CPU allocation of `N` zero-initialised `u64`s, freed on drop.
pub struct PerCpuCounters<const N: usize> {
    ptr: NonNull<u64>,
}

// SAFETY: The counters are meant to be updated and read from any CPU concurrently.
unsafe impl<const N: usize> Send for PerCpuCounters<N> {}
// SAFETY: `add` touches only the current CPU's slot with a preemption-safe instruction, and
// `sum` only reads.
unsafe impl<const N: usize> Sync for PerCpuCounters<N> {}

impl<const N: usize> PerCpuCounters<N> {
    /// Creates `N` counters at zero.
    pub fn new() -> impl PinInit<Self, Error> {
        let init = |slot: *mut Self| {
            // SAFETY: Any count is a valid argument; the memory comes back zeroed.
            let p = unsafe { bindings::alloc_percpu_u64s(N) };
            let ptr = NonNull::new(p.cast::<u64>()).ok_or(ENOMEM)?;
            // SAFETY: `slot` is valid for writes (the initialiser's contract).
            // INVARIANT: `ptr` is a fresh zeroed per-CPU allocation of `N` `u64`s.
            unsafe { slot.write(Self { ptr }) };
            Ok(())
        };
        // SAFETY: The closure initialises `slot` completely whenever it returns `Ok`.
        unsafe { pin_init::pin_init_from_closure(init) }
    }

    /// Adds `v` to counter `i` (`i < N`) on the current CPU.
    #[inline]
    pub fn add(&self, i: usize, v: u64) {
        assert!(i < N);
        // A per-CPU address (an offset from each CPU's per-CPU base), not a plain pointer.
        let p = self.ptr.as_ptr().wrapping_add(i);
        // Uniprocessor x86-64 kernels address per-CPU data without `%gs` (kunit.py's are UP).
        #[cfg(all(CONFIG_X86_64, CONFIG_SMP))]
        // SAFETY: `p` is a per-CPU address of this allocation (type invariant, `i < N`); on SMP
        // `%gs` holds the current CPU's per-CPU base, so this is `this_cpu_add(*p, v)`: one
        // instruction that preemption or an interrupt cannot split.
        unsafe {
            core::arch::asm!(
                "add qword ptr gs:[{p}], {v}",
                p = in(reg) p,
                v = in(reg) v,
                options(nostack),
            )
        };
        #[cfg(not(all(CONFIG_X86_64, CONFIG_SMP)))]
        // SAFETY: As above, through the C `this_cpu_add()`.
        unsafe {
            bindings::this_cpu_add_u64(p.cast(), v)
        };
    }

    /// Returns counter `i` (`i < N`), summed over all possible CPUs.
    pub fn sum(&self, i: usize) -> u64 {
        assert!(i < N);
        // SAFETY: A per-CPU address of this allocation (type invariant, `i < N`).
        unsafe { bindings::percpu_u64_sum(self.ptr.as_ptr().wrapping_add(i).cast()) }
    }
}

impl<const N: usize> Drop for PerCpuCounters<N> {
    fn drop(&mut self) {
        // SAFETY: The allocation is ours (type invariant) and freed once.
        unsafe { bindings::free_percpu_u64s(self.ptr.as_ptr().cast()) };
    }
}

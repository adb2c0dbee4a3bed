// SPDX-License-Identifier: GPL-2.0

//! Per-CPU statistics: `u64` counters that a hot path adds to on its own CPU, summed when
//! read. No `struct percpu_counter`: no shared total, no batch, no lock.
//!
//! C header: [`include/linux/percpu.h`](srctree/include/linux/percpu.h)

use crate::{
    bindings,
    cpu::{self, CpuId},
    cpumask::Cpumask,
    error::Error,
    prelude::*,
};
use core::ptr::NonNull;

/// `N` statistics counters, each a `u64` per CPU.
///
/// [`PerCpuStats::add`] adds to the current CPU's slot only, as `this_cpu_add()` does: one
/// instruction that preemption or an interrupt cannot split, with no lock, atomic or batch
/// (64 bits do not wrap). On SMP x86-64 that instruction is written here, a `%gs`-relative
/// `add`; elsewhere it is `this_cpu_add()` itself, through a helper.
/// [`PerCpuStats::sum`] adds up every possible CPU's slot when read, so a reader may
/// miss adds that race with it, as with any per-CPU statistic.
///
/// # Invariants
///
/// `ptr` is a per-CPU allocation of `N` zero-initialised `u64`s, freed on drop.
pub struct PerCpuStats<const N: usize> {
    ptr: NonNull<u64>,
}

// SAFETY: The counters are meant to be updated and read from any CPU concurrently.
unsafe impl<const N: usize> Send for PerCpuStats<N> {}
// SAFETY: `add` touches only the current CPU's slot with a preemption-safe instruction, and
// `sum` only reads.
unsafe impl<const N: usize> Sync for PerCpuStats<N> {}

impl<const N: usize> PerCpuStats<N> {
    /// Creates `N` counters at zero.
    ///
    /// `N` must be at least 1, and the counters fit a per-CPU chunk's minimum unit
    /// (`PCPU_MIN_UNIT_SIZE`, 32 KiB): `pcpu_alloc()` warns of any other size. Otherwise it
    /// does not build.
    pub fn new() -> impl PinInit<Self, Error> {
        const { assert!(N >= 1 && N * size_of::<u64>() <= 32 << 10) };
        let init = |slot: *mut Self| {
            let size = N.checked_mul(size_of::<u64>()).ok_or(ENOMEM)?;
            // SAFETY: Any size and a power-of-two alignment are valid; the memory comes back
            // zeroed (`pcpu_alloc()` clears it).
            let p = unsafe { bindings::__alloc_percpu(size, align_of::<u64>()) };
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
            bindings::this_cpu_add_u64(p, v)
        };
    }

    /// Returns counter `i` (`i < N`), summed over all possible CPUs.
    pub fn sum(&self, i: usize) -> u64 {
        assert!(i < N);
        let p = self.ptr.as_ptr().wrapping_add(i);
        // SAFETY: `__cpu_possible_mask` is a static cpumask, set up at boot.
        let possible = unsafe { Cpumask::from_raw(&raw const bindings::__cpu_possible_mask) };
        let mut sum = 0u64;
        // `for_each_possible_cpu()`.
        for id in 0..cpu::nr_cpu_ids() {
            let Some(cpu) = CpuId::from_u32(id) else {
                break;
            };
            if !possible.test(cpu) {
                continue;
            }
            // SAFETY: `p` is a per-CPU address of this allocation (type invariant, `i < N`)
            // and `cpu` a possible CPU, which has a copy of it.
            let q = unsafe { bindings::per_cpu_ptr(p.cast(), cpu.as_u32() as i32) };
            // SAFETY: `q` is that CPU's `u64`, which its CPU may be adding to: a volatile load
            // (`READ_ONCE()`) of an aligned word, as `percpu_counter_sum()` reads the slots.
            sum = sum.wrapping_add(unsafe { q.cast::<u64>().read_volatile() });
        }
        sum
    }
}

impl<const N: usize> Drop for PerCpuStats<N> {
    fn drop(&mut self) {
        // SAFETY: The allocation is ours (type invariant) and freed once.
        unsafe { bindings::free_percpu(self.ptr.as_ptr().cast()) };
    }
}

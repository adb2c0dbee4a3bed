// SPDX-License-Identifier: GPL-2.0

#include <linux/cpumask.h>
#include <linux/percpu.h>

/*
 * Per-CPU u64 counters for kernel::percpu_counter: __alloc_percpu() is a macro,
 * and the slow paths (the sum when read; the add where Rust has no
 * single-instruction this_cpu_add) are only reachable through helpers.
 */
__rust_helper void *rust_helper_alloc_percpu_u64s(size_t n)
{
	return (void __force *)__alloc_percpu(n * sizeof(u64), sizeof(u64));
}

__rust_helper void rust_helper_free_percpu_u64s(void *p)
{
	free_percpu((u64 __percpu __force *)p);
}

__rust_helper void rust_helper_this_cpu_add_u64(void *p, u64 v)
{
	this_cpu_add(*(u64 __percpu __force *)p, v);
}

__rust_helper u64 rust_helper_percpu_u64_sum(void *p)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr((u64 __percpu __force *)p, cpu));
	return sum;
}

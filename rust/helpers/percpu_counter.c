// SPDX-License-Identifier: GPL-2.0

#include <linux/percpu_counter.h>

/*
 * Without CONFIG_SMP these are inline (or, for the init, a differently named
 * inline): give Rust the same names it calls on SMP kernels.
 */
#ifndef CONFIG_SMP
__rust_helper int rust_helper___percpu_counter_init_many(struct percpu_counter *fbc,
							 s64 amount, gfp_t gfp,
							 u32 nr_counters,
							 struct lock_class_key *key)
{
	return percpu_counter_init_many(fbc, amount, gfp, nr_counters);
}

__rust_helper void rust_helper_percpu_counter_destroy_many(struct percpu_counter *fbc,
							   u32 nr_counters)
{
	percpu_counter_destroy_many(fbc, nr_counters);
}

__rust_helper void rust_helper_percpu_counter_add_batch(struct percpu_counter *fbc,
							s64 amount, s32 batch)
{
	percpu_counter_add_batch(fbc, amount, batch);
}

__rust_helper s64 rust_helper___percpu_counter_sum(struct percpu_counter *fbc)
{
	return percpu_counter_sum(fbc);
}
#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * Registration hook and sysfs knobs for the simple direct-I/O path.
 *
 * The path itself lives in fs/iomap/iomap_simple_dio.rs; this file is what stays
 * built in: a static key that keeps iomap_dio_rw() at zero cost while no path is
 * registered or the knob is 0, and, when the path is a module, what keeps count of
 * calls, bios in flight (SRCU-fast readers) and queued completion work (a
 * percpu_ref) so that unregistering waits for all of them. Built in, the path
 * cannot unregister, so there is nothing to count.
 */
#include <linux/bio.h>
#include <linux/fs.h>
#include <linux/fserror.h>
#include <linux/init.h>
#include <linux/iomap.h>
#include <linux/iomap-simple-dio.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <linux/srcu.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>
#include "simple-dio-hook.h"
#include "trace.h"

/*
 * Tested by iomap_dio_rw(), built in, or, where file systems opt in, by the
 * inline iomap_dio_read_simple() in each of them, which may be modules.
 */
DEFINE_STATIC_KEY_FALSE(iomap_simple_dio_key);
#ifdef IOMAP_SIMPLE_DIO_OPT_IN
EXPORT_SYMBOL_GPL(iomap_simple_dio_key);
#endif

/*
 * Tested by the inline iomap_dio_write_simple(): on while a path is registered
 * and /sys/kernel/iomap/simple_write selects it. Only file systems that opt in
 * offer writes.
 */
DEFINE_STATIC_KEY_FALSE(iomap_simple_dio_write_key);
#ifdef IOMAP_SIMPLE_DIO_OPT_IN
EXPORT_SYMBOL_GPL(iomap_simple_dio_write_key);
#endif

static const struct iomap_simple_dio_ops *simple_ops;
static void *simple_data;
static DEFINE_MUTEX(simple_lock);

/*
 * What /sys/kernel/iomap/simple_read selects. Where file systems opt in through
 * iomap_dio_read_simple() (IOMAP_SIMPLE_DIO_OPT_IN), the kernel has a simple
 * path of its own, in C, which the key leaves in place while it is off: the key is
 * on for the generic path and for a registered path, off for the C path.
 */
enum simple_mode {
	SIMPLE_GENERIC,		/* "0": every read takes the generic path */
	SIMPLE_PATH,		/* "rust" or "1": the registered path */
	SIMPLE_C,		/* "c": the kernel's own simple path */
};

static enum simple_mode simple_mode = SIMPLE_PATH;
/*
 * What /sys/kernel/iomap/simple_write selects: SIMPLE_GENERIC or SIMPLE_PATH.
 * Writes start on the generic path: a write the path got wrong would lose data
 * where a read would only return it wrong, so serving them is the
 * administrator's choice.
 */
static enum simple_mode simple_write_mode = SIMPLE_GENERIC;
/* 0 once the hook is set up (knob, reference); registering fails before. */
static int simple_hook_err = -ENODEV;

/*
 * Only a module can go away under load. Built in, the path never unregisters (the
 * exit code of built-in modules is discarded), so nothing is counted.
 *
 * As a module, calls into the path and bios in flight are SRCU-fast readers of
 * simple_srcu (two per-CPU increments each, no barrier, no atomic): a call holds
 * its read section around ->read, a bio from its submission to the return of
 * ->end_io (srcu_down_read_fast()/srcu_up_read_fast(), whose release may come
 * from interrupt context; the cookie rides in ->bi_private). Calls test
 * simple_live inside their section, so unregistering clears it and waits for the
 * readers; completion work, queued from a bio's ->end_io (or from such work),
 * holds simple_ref.
 */
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
DEFINE_STATIC_SRCU_FAST_UPDOWN(simple_srcu);
/* Set, with release, once ops and data are; cleared first when unregistering. */
static bool simple_live;
static struct percpu_ref simple_ref;
static DECLARE_COMPLETION(simple_ref_released);

static void simple_ref_release(struct percpu_ref *ref)
{
	complete(&simple_ref_released);
}

/* The module whose code the registered path is (NULL for built-in code). */
static struct module *simple_owner;

static void simple_unregister_locked(void);

/*
 * A path's module going away while still registered (its registration was
 * leaked, not dropped) is unregistered here, before its code and data are
 * freed: the hook must never call into a module that is gone.
 */
static int simple_module_notify(struct notifier_block *nb,
				unsigned long action, void *data)
{
	if (action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	mutex_lock(&simple_lock);
	if (simple_ops && simple_owner == data) {
		pr_warn("iomap: %s left the simple read path registered; unregistering it\n",
			simple_owner->name);
		simple_unregister_locked();
	}
	mutex_unlock(&simple_lock);
	return NOTIFY_DONE;
}

static struct notifier_block simple_module_nb = {
	.notifier_call = simple_module_notify,
};
#endif

/* Called with simple_lock held. */
static void simple_update_key(void)
{
	enum simple_mode mode = READ_ONCE(simple_mode);

	if ((simple_ops && mode == SIMPLE_PATH) ||
	    (iomap_simple_dio_opt_in() && mode == SIMPLE_GENERIC))
		static_branch_enable(&iomap_simple_dio_key);
	else
		static_branch_disable(&iomap_simple_dio_key);
	if (iomap_simple_dio_opt_in() && simple_ops &&
	    READ_ONCE(simple_write_mode) == SIMPLE_PATH)
		static_branch_enable(&iomap_simple_dio_write_key);
	else
		static_branch_disable(&iomap_simple_dio_write_key);
}

/**
 * iomap_simple_dio_fallback - read with the generic path
 * @iocb: the read, as iomap_dio_rw() got it
 * @iter: its destination, untouched
 * @ops: the file system's mapping operations
 * @private: the file system's data for them
 * @dio_flags: the iomap_dio_rw() flags
 *
 * What a simple path does with a read it does not serve (and what a read gets
 * while no path can take it): iomap_dio_rw() without the hook. Where file systems
 * opt in through iomap_dio_read_simple(), -ENOTBLK, which sends the file system to
 * iomap_dio_rw() itself.
 *
 * Return: what iomap_dio_rw() returns, or -ENOTBLK.
 */
ssize_t iomap_simple_dio_fallback(struct kiocb *iocb, struct iov_iter *iter,
				  const struct iomap_ops *ops, void *private,
				  unsigned int dio_flags)
{
	struct iomap_dio *dio;

	/* The file system that offered the read falls back itself. */
	if (iomap_simple_dio_opt_in())
		return -ENOTBLK;
	dio = __iomap_dio_rw(iocb, iter, ops, NULL, dio_flags, private, 0);
	if (IS_ERR_OR_NULL(dio))
		return PTR_ERR_OR_ZERO(dio);
	return iomap_dio_complete(dio);
}
EXPORT_SYMBOL_GPL(iomap_simple_dio_fallback);

/*
 * Called by iomap_dio_rw() for each read without dops or done_before while the
 * key is on; the path serves it or calls iomap_simple_dio_fallback().
 */
ssize_t iomap_simple_dio_offer(struct kiocb *iocb, struct iov_iter *iter,
			       const struct iomap_ops *ops, void *private,
			       unsigned int dio_flags)
{
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
	struct srcu_ctr __percpu *scp = srcu_read_lock_fast_updown(&simple_srcu);
	ssize_t ret;

	/* Pairs with the release in registering: ops and data are set. */
	if (unlikely(!smp_load_acquire(&simple_live))) {
		srcu_read_unlock_fast_updown(&simple_srcu, scp);
		return iomap_simple_dio_fallback(iocb, iter, ops, private,
						 dio_flags);
	}
	ret = simple_ops->read(iocb, iter, ops, private, dio_flags,
			       simple_data);
	srcu_read_unlock_fast_updown(&simple_srcu, scp);
	return ret;
#else
	return simple_ops->read(iocb, iter, ops, private, dio_flags,
				simple_data);
#endif
}

#ifdef IOMAP_SIMPLE_DIO_OPT_IN
/**
 * iomap_simple_dio_offer_begin - a read a file system offers a simple path
 * @iocb: the read
 * @iter: its destination
 * @begin: the file system's ->iomap_begin
 *
 * Called by iomap_dio_read_simple() while the key is on, for a read that is not
 * empty: with the knob at 0 it leaves the read to the generic path, otherwise it
 * offers it to the registered path, which may serve more than the C path's one
 * block. The path maps with @begin alone, as the C path does.
 *
 * Return: what iomap_dio_read_simple() returns: -ENOTBLK when the caller must read
 * with iomap_dio_rw().
 */
ssize_t iomap_simple_dio_offer_begin(struct kiocb *iocb, struct iov_iter *iter,
				     iomap_iter_begin_fn begin)
{
	const struct iomap_ops ops = { .iomap_begin = begin };

	/* The key is on for the generic path too. */
	if (READ_ONCE(simple_mode) != SIMPLE_PATH)
		return -ENOTBLK;
	/*
	 * Built in, a path is set once and never cleared: one that is not set yet
	 * sends the read to the generic path (the key is about to change). Pairs
	 * with the release in registering: a path seen set has its data set.
	 */
	if (!IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO) && !smp_load_acquire(&simple_ops))
		return -ENOTBLK;
	return iomap_simple_dio_offer(iocb, iter, &ops, NULL, 0);
}
EXPORT_SYMBOL_GPL(iomap_simple_dio_offer_begin);

/**
 * iomap_simple_dio_offer_write - a write a file system offers a simple path
 * @iocb: the write
 * @iter: its source
 * @begin: the file system's ->iomap_begin for direct writes
 * @dops: the file system's completion operations for iomap_dio_rw()
 *
 * Called by iomap_dio_write_simple() while the write key is on. The path maps
 * with @begin alone.
 *
 * Return: what iomap_dio_write_simple() returns: -ENOTBLK when the caller must
 * write with iomap_dio_rw().
 */
ssize_t iomap_simple_dio_offer_write(struct kiocb *iocb, struct iov_iter *iter,
				     iomap_iter_begin_fn begin,
				     const struct iomap_dio_ops *dops)
{
	const struct iomap_ops ops = { .iomap_begin = begin };
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
	struct srcu_ctr __percpu *scp = srcu_read_lock_fast_updown(&simple_srcu);
	ssize_t ret = -ENOTBLK;

	/* Pairs with the release in registering: ops and data are set. */
	if (likely(smp_load_acquire(&simple_live)))
		ret = simple_ops->write(iocb, iter, &ops, dops, simple_data);
	srcu_read_unlock_fast_updown(&simple_srcu, scp);
	return ret;
#else
	/* As for reads: a path not set yet leaves the write to the generic path. */
	if (!smp_load_acquire(&simple_ops))
		return -ENOTBLK;
	return simple_ops->write(iocb, iter, &ops, dops, simple_data);
#endif
}
EXPORT_SYMBOL_GPL(iomap_simple_dio_offer_write);
#endif

/**
 * iomap_simple_dio_invalidate - drop page cache over a completed direct write
 * @iocb: the write, its position not advanced yet
 * @count: the bytes written
 *
 * kiocb_invalidate_post_direct_write(), which is not exported: what
 * iomap_dio_complete() does after a direct write, so that a buffered read does
 * not see a page cached during the write. Process context.
 */
void iomap_simple_dio_invalidate(struct kiocb *iocb, size_t count)
{
	kiocb_invalidate_post_direct_write(iocb, count);
}
EXPORT_SYMBOL_GPL(iomap_simple_dio_invalidate);

static void simple_end_io(struct bio *bio)
{
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
	/* ->end_io frees the bio: take the cookie first. */
	struct srcu_ctr __percpu *scp = bio->bi_private;

	simple_ops->end_io(simple_data, bio);
	srcu_up_read_fast(&simple_srcu, scp);
#else
	simple_ops->end_io(simple_data, bio);
#endif
}

/*
 * iomap_dio_rw_begin for a read that is sure to be served (so that a read that
 * falls back is traced once, by the generic path), with the iterator shown as
 * it was: @done bytes are pinned into the bio already.
 */
static noinline void simple_trace_begin_on(struct kiocb *iocb,
					   struct iov_iter *iter, size_t done,
					   unsigned int dio_flags)
{
	iov_iter_revert(iter, done);
	trace_iomap_dio_rw_begin(iocb, iter, dio_flags, 0);
	iov_iter_advance(iter, done);
}

/* The traced case out of line: the submit calls then save no registers. */
static inline void simple_trace_begin(struct kiocb *iocb, struct iov_iter *iter,
				      size_t done, unsigned int dio_flags)
{
	if (trace_iomap_dio_rw_begin_enabled())
		simple_trace_begin_on(iocb, iter, done, dio_flags);
}

/*
 * submit_bio() with the read traced as __iomap_dio_rw() traces a queued read:
 * iomap_dio_rw_begin before, iomap_dio_rw_queued after, with the iteration's
 * position and length at its end. Once submitted, the read may be complete and
 * @iocb gone: what the second event needs is read first.
 */
static noinline void simple_submit_traced(struct bio *bio, struct kiocb *iocb,
					  struct iov_iter *iter, size_t done,
					  unsigned int dio_flags)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	loff_t end = iocb->ki_pos + done;

	simple_trace_begin(iocb, iter, done, dio_flags);
	submit_bio(bio);
	trace_iomap_dio_rw_queued(inode, end, 0);
}

/**
 * iomap_simple_dio_submit - submit the bio of an asynchronous read
 * @bio: the bio; its completion goes to the path's ->end_io
 * @iocb: the read
 * @iter: its iterator, advanced by the @done bytes pinned into @bio
 * @done: bytes pinned
 * @dio_flags: the iomap_dio_rw() flags
 *
 * Must be called from the path's ->read (inside the call's SRCU read section
 * when the path is a module). Traces the read as the generic path traces an
 * asynchronous one (iomap_dio_rw_begin, iomap_dio_rw_queued).
 */
void iomap_simple_dio_submit(struct bio *bio, struct kiocb *iocb,
			     struct iov_iter *iter, size_t done,
			     unsigned int dio_flags)
{
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
	/* Nested in the call's read section: the reader starts before it ends. */
	bio->bi_private = srcu_down_read_fast(&simple_srcu);
#endif
	bio->bi_end_io = simple_end_io;
	if (trace_iomap_dio_rw_begin_enabled() ||
	    trace_iomap_dio_rw_queued_enabled())
		simple_submit_traced(bio, iocb, iter, done, dio_flags);
	else
		submit_bio(bio);
}
EXPORT_SYMBOL_GPL(iomap_simple_dio_submit);

/**
 * iomap_simple_dio_submit_wait - submit the bio of a synchronous read and wait
 * @bio: the bio; it is the caller's again on return
 * @iocb: the read
 * @iter: its iterator, advanced by the @done bytes pinned into @bio
 * @done: bytes pinned
 * @dio_flags: the iomap_dio_rw() flags
 *
 * Traces the read (iomap_dio_rw_begin) first. Sleeps.
 *
 * Return: what submit_bio_wait() returns (the bio's status as an errno).
 */
int iomap_simple_dio_submit_wait(struct bio *bio, struct kiocb *iocb,
				 struct iov_iter *iter, size_t done,
				 unsigned int dio_flags)
{
	simple_trace_begin(iocb, iter, done, dio_flags);
	return submit_bio_wait(bio);
}
EXPORT_SYMBOL_GPL(iomap_simple_dio_submit_wait);

static void simple_work(struct work_struct *work)
{
	simple_ops->complete_work(simple_data, work);
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
	percpu_ref_put(&simple_ref);
#endif
}

/**
 * iomap_simple_dio_queue_work - run the path's ->complete_work on @sb's dio wq
 * @sb: super block whose s_dio_done_wq runs the work (it must exist)
 * @work: the work item, initialised here
 *
 * Must be called from ->end_io (inside its bio's SRCU read section) or from
 * ->complete_work (which holds a reference), for a super block whose
 * s_dio_done_wq exists (sb_init_dio_done_wq()).
 */
void iomap_simple_dio_queue_work(struct super_block *sb,
				 struct work_struct *work)
{
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
	/* Live: a bio's read section or a work's reference keeps it so. */
	percpu_ref_get(&simple_ref);
#endif
	INIT_WORK(work, simple_work);
	queue_work(sb->s_dio_done_wq, work);
}
EXPORT_SYMBOL_GPL(iomap_simple_dio_queue_work);

/**
 * iomap_simple_dio_complete - trace a served read's result and hand it over
 * @iocb: the read, its position advanced already
 * @ret: the bytes read, or a negative errno
 *
 * Emits iomap_dio_complete, then, for an asynchronous read, calls
 * ->ki_complete (which ends the request: @iocb may be gone on return). A
 * synchronous read's caller returns @ret itself.
 */
void iomap_simple_dio_complete(struct kiocb *iocb, ssize_t ret)
{
	trace_iomap_dio_complete(iocb, ret < 0 ? ret : 0, ret);
	if (!is_sync_kiocb(iocb))
		iocb->ki_complete(iocb, ret);
}
EXPORT_SYMBOL_GPL(iomap_simple_dio_complete);

/**
 * iomap_simple_dio_fail - trace and report a read that failed before submission
 * @iocb: the read, its position untouched
 * @iter: its iterator, as the read got it
 * @dio_flags: the iomap_dio_rw() flags
 * @error: the negative errno the read returns
 * @mapped: the read got as far as mapping its range
 *
 * What __iomap_dio_rw() does with the same failure: it traces every read
 * (iomap_dio_rw_begin); an error of its mapping loop (->iomap_begin, alignment,
 * pinning the buffer) ends through iomap_dio_complete(), which reports it with
 * fserror unless it is -EAGAIN or -ENOTBLK and traces iomap_dio_complete. An
 * error before that (writeback, the completion workqueue) is only returned.
 */
void iomap_simple_dio_fail(struct kiocb *iocb, struct iov_iter *iter,
			   unsigned int dio_flags, int error, bool mapped)
{
	trace_iomap_dio_rw_begin(iocb, iter, dio_flags, 0);
	if (!mapped)
		return;
	if (error != -EAGAIN && error != -ENOTBLK)
		fserror_report_io(file_inode(iocb->ki_filp),
				  iov_iter_rw(iter) == WRITE ?
				  FSERR_DIRECTIO_WRITE : FSERR_DIRECTIO_READ,
				  iocb->ki_pos, 0, error, GFP_NOFS);
	trace_iomap_dio_complete(iocb, error, error);
}
EXPORT_SYMBOL_GPL(iomap_simple_dio_fail);

/**
 * iomap_simple_dio_register - make @ops serve iomap_dio_rw() reads
 * @ops: the path; it must stay valid until iomap_simple_dio_unregister()
 * @data: passed to each of @ops' callbacks; valid as long as @ops
 *
 * Built in, a path is never unregistered, so one whose code lives in a
 * loadable module, which unloading would free under the hook, is refused.
 *
 * Return: 0, -EBUSY if a path is registered already, -ENODEV if the hook
 * could not be set up at boot, or -EINVAL for @ops without every callback or a
 * module's path when built in.
 */
int iomap_simple_dio_register(const struct iomap_simple_dio_ops *ops,
			      void *data)
{
	int ret = 0;

	/* The hook calls each of them without testing it. */
	if (!ops->read || !ops->write || !ops->end_io || !ops->complete_work)
		return -EINVAL;
	if (IS_BUILTIN(CONFIG_IOMAP_SIMPLE_DIO) &&
	    (is_module_address((unsigned long)ops) ||
	     is_module_address((unsigned long)ops->read) ||
	     is_module_address((unsigned long)ops->write) ||
	     is_module_address((unsigned long)ops->end_io) ||
	     is_module_address((unsigned long)ops->complete_work)))
		return -EINVAL;

	mutex_lock(&simple_lock);
	if (simple_hook_err) {
		ret = simple_hook_err;
	} else if (simple_ops) {
		ret = -EBUSY;
	} else {
		simple_data = data;
		/* Built in, calls test ops without a lock: data first. */
		smp_store_release(&simple_ops, ops);
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
		rcu_read_lock();
		simple_owner = __module_address((unsigned long)ops);
		rcu_read_unlock();
		reinit_completion(&simple_ref_released);
		percpu_ref_reinit(&simple_ref);
		/* Calls that see it see ops and data. */
		smp_store_release(&simple_live, true);
#endif
		simple_update_key();
	}
	mutex_unlock(&simple_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(iomap_simple_dio_register);

#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
/* Called with simple_lock held, a path registered. */
static void simple_unregister_locked(void)
{
	/*
	 * Reads that the knob sends to the path leave the hook at once; the key
	 * stays as it is for the other settings, which clearing simple_live does
	 * not change.
	 */
	if (READ_ONCE(simple_mode) == SIMPLE_PATH)
		static_branch_disable(&iomap_simple_dio_key);
	static_branch_disable(&iomap_simple_dio_write_key);
	WRITE_ONCE(simple_live, false);
	/*
	 * The first grace period ends every call that saw simple_live set;
	 * a bio such a call submitted late in it may have begun its read
	 * section after the period started, so a second one waits for
	 * those bios (calls from now on submit none).
	 */
	synchronize_srcu(&simple_srcu);
	synchronize_srcu(&simple_srcu);
	/* Work is queued from ->end_io or from work: only work is left. */
	percpu_ref_kill(&simple_ref);
	wait_for_completion(&simple_ref_released);
	simple_ops = NULL;
	simple_data = NULL;
	simple_owner = NULL;
	/*
	 * With no path, the key is what the knob alone asks: on for "0" where file
	 * systems opt in, so that they read with the generic path, not the C one.
	 */
	simple_update_key();
}

/**
 * iomap_simple_dio_unregister - stop offering reads to @ops and wait for it
 * @ops: the path passed to iomap_simple_dio_register()
 *
 * Returns once no call, bio completion or work of @ops can run any more.
 */
void iomap_simple_dio_unregister(const struct iomap_simple_dio_ops *ops)
{
	mutex_lock(&simple_lock);
	if (!WARN_ON_ONCE(simple_ops != ops))
		simple_unregister_locked();
	mutex_unlock(&simple_lock);
}
EXPORT_SYMBOL_GPL(iomap_simple_dio_unregister);
#endif

/* The knob's values by mode: what it shows first, what it accepts besides. */
static const struct {
	const char *name, *alias;
} simple_mode_names[] = {
	[SIMPLE_GENERIC] = { "0", NULL },
#ifdef IOMAP_SIMPLE_DIO_OPT_IN
	[SIMPLE_PATH] = { "rust", "1" },
	[SIMPLE_C] = { "c", NULL },
#else
	[SIMPLE_PATH] = { "1", "rust" },
#endif
};

/**
 * iomap_simple_dio_knob_show - format the simple_read knob
 * @buf: a sysfs page
 *
 * Return: the length written: the mode's name and a newline.
 */
ssize_t iomap_simple_dio_knob_show(char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  simple_mode_names[READ_ONCE(simple_mode)].name);
}

/**
 * iomap_simple_dio_knob_store - parse and apply a write to the simple_read knob
 * @buf: the text written, NUL-terminated
 * @count: its length
 *
 * Return: @count, or -EINVAL for anything but a mode's name or alias (a trailing
 * newline allowed).
 */
ssize_t iomap_simple_dio_knob_store(const char *buf, size_t count)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(simple_mode_names); i++) {
		if (sysfs_streq(buf, simple_mode_names[i].name) ||
		    (simple_mode_names[i].alias &&
		     sysfs_streq(buf, simple_mode_names[i].alias)))
			break;
	}
	if (i == ARRAY_SIZE(simple_mode_names))
		return -EINVAL;
	mutex_lock(&simple_lock);
	WRITE_ONCE(simple_mode, i);
	simple_update_key();
	mutex_unlock(&simple_lock);
	return count;
}

static ssize_t simple_read_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return iomap_simple_dio_knob_show(buf);
}

static ssize_t simple_read_store(struct kobject *kobj,
				 struct kobj_attribute *attr, const char *buf,
				 size_t count)
{
	return iomap_simple_dio_knob_store(buf, count);
}

static struct kobj_attribute simple_read_attr = __ATTR_RW(simple_read);

#ifdef IOMAP_SIMPLE_DIO_OPT_IN
static ssize_t simple_write_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(simple_write_mode) == SIMPLE_PATH ?
			  "rust" : "0");
}

/* "0" or "rust" ("1" too), a trailing newline allowed. */
static ssize_t simple_write_store(struct kobject *kobj,
				  struct kobj_attribute *attr, const char *buf,
				  size_t count)
{
	enum simple_mode mode;

	if (sysfs_streq(buf, "0"))
		mode = SIMPLE_GENERIC;
	else if (sysfs_streq(buf, "rust") || sysfs_streq(buf, "1"))
		mode = SIMPLE_PATH;
	else
		return -EINVAL;
	mutex_lock(&simple_lock);
	WRITE_ONCE(simple_write_mode, mode);
	simple_update_key();
	mutex_unlock(&simple_lock);
	return count;
}

static struct kobj_attribute simple_write_attr = __ATTR_RW(simple_write);
#endif

static struct attribute *simple_attrs[] = {
	&simple_read_attr.attr,
#ifdef IOMAP_SIMPLE_DIO_OPT_IN
	&simple_write_attr.attr,
#endif
	NULL,
};

static const struct attribute_group simple_attr_group = {
	.attrs = simple_attrs,
};

static int __init iomap_simple_dio_hook_init(void)
{
	struct kobject *iomap_kobj;
	int ret;

#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
	/* Dead until a path registers (percpu_ref_reinit()). */
	ret = percpu_ref_init(&simple_ref, simple_ref_release,
			      PERCPU_REF_INIT_DEAD, GFP_KERNEL);
	if (ret)
		return ret;
#endif
	iomap_kobj = kobject_create_and_add("iomap", kernel_kobj);
	if (!iomap_kobj) {
		ret = -ENOMEM;
		goto out_ref;
	}
	ret = sysfs_create_group(iomap_kobj, &simple_attr_group);
	if (ret)
		goto out_kobj;
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
	ret = register_module_notifier(&simple_module_nb);
	if (ret)
		goto out_files;
#endif
	mutex_lock(&simple_lock);
	simple_hook_err = 0;
	mutex_unlock(&simple_lock);
	return 0;

#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
out_files:
	sysfs_remove_group(iomap_kobj, &simple_attr_group);
#endif
out_kobj:
	kobject_put(iomap_kobj);
out_ref:
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
	percpu_ref_exit(&simple_ref);
#endif
	return ret;
}
fs_initcall(iomap_simple_dio_hook_init);

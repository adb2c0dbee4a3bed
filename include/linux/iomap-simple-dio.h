/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hook for the simple direct-I/O path (fs/iomap/iomap_simple_dio.rs).
 *
 * A path registers itself here with its operations and a data pointer that every
 * callback gets back. While it is registered and /sys/kernel/iomap/simple_read
 * selects it, reads reach it one of two ways. Where file systems opt in through
 * iomap_dio_read_simple() (IOMAP_SIMPLE_DIO_OPT_IN, defined by <linux/iomap.h>
 * before it includes this header), that function hands
 * it the reads it is offered, in place of the kernel's own simple path, and what
 * the path declines goes back to the file system as -ENOTBLK. Otherwise
 * iomap_dio_rw() hands it each read without dops or done_before (a tail call),
 * and what it does not serve it reads with iomap_simple_dio_fallback().
 *
 * Where file systems opt in, they also offer it small direct overwrites through
 * iomap_dio_write_simple() while /sys/kernel/iomap/simple_write selects it;
 * what it declines goes back to the file system as -ENOTBLK.
 *
 * When the path is a module, every call and in-flight bio is an SRCU-fast reader,
 * every queued completion work holds a reference, and the bio and work callbacks
 * run through trampolines here, so iomap_simple_dio_unregister() returns only when
 * no code of the module can run any more: the module can be unloaded under load.
 * Built in, the path never unregisters (iomap_simple_dio_unregister() does not
 * exist then) and no references are taken.
 */
#ifndef _LINUX_IOMAP_SIMPLE_DIO_H
#define _LINUX_IOMAP_SIMPLE_DIO_H

#include <linux/jump_label.h>
#include <linux/types.h>

struct bio;
struct iomap_dio_ops;
struct iomap_ops;
struct iov_iter;
struct kiocb;
struct super_block;
struct work_struct;

/**
 * struct iomap_simple_dio_ops - a simple direct-I/O read path
 * @read: serve a read, or hand it untouched to iomap_simple_dio_fallback();
 *	return what iomap_dio_rw() returns (-EIOCBQUEUED when it completes
 *	asynchronously). @data comes last, so that the hook passes the read's
 *	arguments on in the registers it got them in.
 * @write: serve a write offered by iomap_dio_write_simple(), with @ops on the
 *	hook's stack (->iomap_begin only) and the file system's @dops; return
 *	what iomap_dio_rw() returns, or -ENOTBLK, the request untouched, to
 *	leave it to iomap_dio_rw()
 * @end_io: completion of a bio submitted with iomap_simple_dio_submit()
 * @complete_work: work queued with iomap_simple_dio_queue_work()
 *
 * Each gets the @data passed to iomap_simple_dio_register().
 */
struct iomap_simple_dio_ops {
	ssize_t (*read)(struct kiocb *iocb, struct iov_iter *iter,
			const struct iomap_ops *ops, void *private,
			unsigned int dio_flags, void *data);
	ssize_t (*write)(struct kiocb *iocb, struct iov_iter *iter,
			 const struct iomap_ops *ops,
			 const struct iomap_dio_ops *dops, void *data);
	void (*end_io)(void *data, struct bio *bio);
	void (*complete_work)(void *data, struct work_struct *work);
};

/*
 * Whether file systems opt in through iomap_dio_read_simple(): a property of the
 * kernel, which <linux/iomap.h> states with IOMAP_SIMPLE_DIO_OPT_IN, as a constant
 * for C and Rust alike.
 */
#ifdef IOMAP_SIMPLE_DIO_OPT_IN
#define iomap_simple_dio_opt_in() true
#else
#define iomap_simple_dio_opt_in() false
#endif

/* Declared whatever the config: iomap_dio_rw() calls only what is built. */
int iomap_simple_dio_register(const struct iomap_simple_dio_ops *ops,
			      void *data);
/* Built in, a path cannot unregister: only a module has it. */
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
void iomap_simple_dio_unregister(const struct iomap_simple_dio_ops *ops);
#endif
void iomap_simple_dio_submit(struct bio *bio, struct kiocb *iocb,
			     struct iov_iter *iter, size_t done,
			     unsigned int dio_flags);
int iomap_simple_dio_submit_wait(struct bio *bio, struct kiocb *iocb,
				 struct iov_iter *iter, size_t done,
				 unsigned int dio_flags);
void iomap_simple_dio_queue_work(struct super_block *sb,
				 struct work_struct *work);
void iomap_simple_dio_complete(struct kiocb *iocb, ssize_t ret);
void iomap_simple_dio_fail(struct kiocb *iocb, struct iov_iter *iter,
			   unsigned int dio_flags, int error, bool mapped);
ssize_t iomap_simple_dio_offer(struct kiocb *iocb, struct iov_iter *iter,
			       const struct iomap_ops *ops, void *private,
			       unsigned int dio_flags);
#ifdef IOMAP_SIMPLE_DIO_OPT_IN
/* iomap_iter_begin_fn, which <linux/iomap.h> declares after including this. */
struct iomap;
struct inode;
ssize_t iomap_simple_dio_offer_begin(struct kiocb *iocb, struct iov_iter *iter,
				     int (*begin)(struct inode *inode, loff_t pos,
						  loff_t length, unsigned int flags,
						  struct iomap *iomap,
						  struct iomap *srcmap));
ssize_t iomap_simple_dio_offer_write(struct kiocb *iocb, struct iov_iter *iter,
				     int (*begin)(struct inode *inode, loff_t pos,
						  loff_t length, unsigned int flags,
						  struct iomap *iomap,
						  struct iomap *srcmap),
				     const struct iomap_dio_ops *dops);
#endif
void iomap_simple_dio_invalidate(struct kiocb *iocb, size_t count);
ssize_t iomap_simple_dio_fallback(struct kiocb *iocb, struct iov_iter *iter,
				  const struct iomap_ops *ops, void *private,
				  unsigned int dio_flags);

#if IS_ENABLED(CONFIG_IOMAP_SIMPLE_DIO)
DECLARE_STATIC_KEY_FALSE(iomap_simple_dio_key);
DECLARE_STATIC_KEY_FALSE(iomap_simple_dio_write_key);

/*
 * True when a simple path is registered and the knob selects it, and, where file
 * systems opt in, also when the knob selects the generic path.
 */
static inline bool iomap_simple_dio_active(void)
{
	return static_branch_unlikely(&iomap_simple_dio_key);
}

/*
 * True when a simple path is registered and /sys/kernel/iomap/simple_write
 * selects it: only where file systems opt in, which offer it their writes.
 */
static inline bool iomap_simple_dio_write_active(void)
{
	return static_branch_unlikely(&iomap_simple_dio_write_key);
}
#else
static inline bool iomap_simple_dio_active(void)
{
	return false;
}

static inline bool iomap_simple_dio_write_active(void)
{
	return false;
}
#endif

#endif /* _LINUX_IOMAP_SIMPLE_DIO_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit test of the simple direct-I/O hook: the /sys/kernel/iomap/simple_read
 * knob parser and, when the path is a module, registration: one path at a
 * time, and unregistering waits for the calls in flight.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/iomap.h>
#include <linux/iomap-simple-dio.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include "simple-dio-hook.h"

/* The knob's name for the registered path: "rust" where the kernel has a C path too. */
#ifdef IOMAP_SIMPLE_DIO_OPT_IN
#define PATH_MODE "rust"
#else
#define PATH_MODE "1"
#endif

static void simple_read_knob_test(struct kunit *test)
{
	static const char * const bad[] = {
		"2", "10", "-1", "on", "", "1x", " 1", "rust1", "Rust",
#ifndef IOMAP_SIMPLE_DIO_OPT_IN
		/* No C path to select. */
		"c",
#endif
	};
	char *page = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	char old[8];
	int i;

	KUNIT_ASSERT_NOT_NULL(test, page);
	iomap_simple_dio_knob_show(page);
	strscpy(old, page, sizeof(old));

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ_MSG(test, iomap_simple_dio_knob_store(bad[i], strlen(bad[i])),
				    -EINVAL, "input \"%s\"", bad[i]);

	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_store("0\n", 2), 2);
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_show(page), 2);
	KUNIT_EXPECT_STREQ(test, page, "0\n");
	/* "1" and "rust" both select the registered path, on every kernel. */
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_store("1", 1), 1);
	iomap_simple_dio_knob_show(page);
	KUNIT_EXPECT_STREQ(test, page, PATH_MODE "\n");
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_store("0", 1), 1);
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_store("rust\n", 5), 5);
	iomap_simple_dio_knob_show(page);
	KUNIT_EXPECT_STREQ(test, page, PATH_MODE "\n");
#ifdef IOMAP_SIMPLE_DIO_OPT_IN
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_store("c\n", 2), 2);
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_show(page), 2);
	KUNIT_EXPECT_STREQ(test, page, "c\n");
#endif

	/* A rejected write leaves the value alone. */
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_store("7", 1), -EINVAL);
	iomap_simple_dio_knob_show(page);
#ifdef IOMAP_SIMPLE_DIO_OPT_IN
	KUNIT_EXPECT_STREQ(test, page, "c\n");
#else
	KUNIT_EXPECT_STREQ(test, page, PATH_MODE "\n");
#endif

	iomap_simple_dio_knob_store(old, strlen(old));
}

#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
/*
 * Static, not per test: a thread may still be inside complete() when the test
 * that waited for it returns.
 */
static struct {
	struct completion entered, release, unregistered;
} wait_ctx;

/* A path whose read blocks until the test releases it: a call in flight. */
static ssize_t blocking_read(struct kiocb *iocb, struct iov_iter *iter,
			     const struct iomap_ops *ops, void *private,
			     unsigned int dio_flags, void *data)
{
	complete(&wait_ctx.entered);
	wait_for_completion(&wait_ctx.release);
	return 0;
}

static ssize_t unused_write(struct kiocb *iocb, struct iov_iter *iter,
			    const struct iomap_ops *ops,
			    const struct iomap_dio_ops *dops, void *data)
{
	return -ENOTBLK;
}

static void unused_end_io(void *data, struct bio *bio)
{
}

static void unused_complete_work(void *data, struct work_struct *work)
{
}

static const struct iomap_simple_dio_ops blocking_ops = {
	.read = blocking_read,
	.write = unused_write,
	.end_io = unused_end_io,
	.complete_work = unused_complete_work,
};

static int reader_fn(void *unused)
{
	/* The hook holds its SRCU read section around ->read. */
	iomap_simple_dio_offer(NULL, NULL, NULL, NULL, 0);
	return 0;
}

static int unregister_fn(void *unused)
{
	iomap_simple_dio_unregister(&blocking_ops);
	complete(&wait_ctx.unregistered);
	return 0;
}

/*
 * While registered, blocking_ops serves every iomap_dio_rw() read: the test
 * runs at boot, from KUnit, before user space can issue one.
 */
static void simple_register_test(struct kunit *test)
{
	struct task_struct *reader, *unreg;
	unsigned long timeout;
	int ret;

	init_completion(&wait_ctx.entered);
	init_completion(&wait_ctx.release);
	init_completion(&wait_ctx.unregistered);
	ret = iomap_simple_dio_register(&blocking_ops, &wait_ctx);
	if (ret == -EBUSY)
		kunit_skip(test, "a path is registered (its module is loaded)");
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_register(&blocking_ops, NULL),
			-EBUSY);

	reader = kthread_run(reader_fn, NULL, "sdio-test-read");
	if (IS_ERR(reader)) {
		iomap_simple_dio_unregister(&blocking_ops);
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(reader));
		return;
	}
	wait_for_completion(&wait_ctx.entered);

	unreg = kthread_create(unregister_fn, NULL, "sdio-test-unreg");
	if (IS_ERR(unreg)) {
		complete(&wait_ctx.release);
		iomap_simple_dio_unregister(&blocking_ops);
		KUNIT_FAIL(test, "kthread_create: %ld", PTR_ERR(unreg));
		return;
	}
	get_task_struct(unreg);
	wake_up_process(unreg);
	/*
	 * Wait until the unregistering thread sleeps (for the call's read section)
	 * or is done: if it is done while the read is still in flight, it did
	 * not wait.
	 */
	timeout = jiffies + 30 * HZ;
	while (!completion_done(&wait_ctx.unregistered) &&
	       READ_ONCE(unreg->__state) != TASK_UNINTERRUPTIBLE &&
	       time_before(jiffies, timeout))
		schedule_timeout_uninterruptible(1);
	KUNIT_EXPECT_FALSE_MSG(test, completion_done(&wait_ctx.unregistered),
			       "unregistered with a call in flight");
	put_task_struct(unreg);

	complete(&wait_ctx.release);
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&wait_ctx.unregistered,
							  60 * HZ), 0UL);

	/* Gone: the next path can register. */
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_register(&blocking_ops, NULL), 0);
	iomap_simple_dio_unregister(&blocking_ops);
}

/* A path without one of the callbacks the hook calls untested is refused. */
static const struct iomap_simple_dio_ops no_write_ops = {
	.read = blocking_read,
	.end_io = unused_end_io,
	.complete_work = unused_complete_work,
};

static void simple_register_incomplete_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_register(&no_write_ops, NULL),
			-EINVAL);
	/* Nothing was registered: a complete path still can be. */
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_register(&blocking_ops, NULL), 0);
	iomap_simple_dio_unregister(&blocking_ops);
}
#endif

static struct kunit_case simple_dio_hook_cases[] = {
	KUNIT_CASE(simple_read_knob_test),
#if IS_MODULE(CONFIG_IOMAP_SIMPLE_DIO)
	KUNIT_CASE(simple_register_test),
	KUNIT_CASE(simple_register_incomplete_test),
#endif
	{}
};

static struct kunit_suite simple_dio_hook_suite = {
	.name = "iomap_simple_dio_hook",
	.test_cases = simple_dio_hook_cases,
};

kunit_test_suite(simple_dio_hook_suite);

MODULE_DESCRIPTION("KUnit test of the simple direct-I/O hook");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit test of the simple direct-I/O hook: the /sys/kernel/iomap/simple_read
 * knob parser.
 */
#include <kunit/test.h>
#include <linux/string.h>
#include "simple-dio-hook.h"

static void simple_read_knob_test(struct kunit *test)
{
	static const char * const bad[] = { "2", "10", "-1", "on", "", "1x", " 1" };
	char *page = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	bool old;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, page);
	iomap_simple_dio_knob_show(page);
	old = page[0] == '1';

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ_MSG(test, iomap_simple_dio_knob_store(bad[i], strlen(bad[i])),
				    -EINVAL, "input \"%s\"", bad[i]);

	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_store("0\n", 2), 2);
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_show(page), 2);
	KUNIT_EXPECT_STREQ(test, page, "0\n");
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_store("1", 1), 1);
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_show(page), 2);
	KUNIT_EXPECT_STREQ(test, page, "1\n");

	/* A rejected write leaves the value alone. */
	KUNIT_EXPECT_EQ(test, iomap_simple_dio_knob_store("7", 1), -EINVAL);
	iomap_simple_dio_knob_show(page);
	KUNIT_EXPECT_STREQ(test, page, "1\n");

	iomap_simple_dio_knob_store(old ? "1" : "0", 1);
}

static struct kunit_case simple_dio_hook_cases[] = {
	KUNIT_CASE(simple_read_knob_test),
	{}
};

static struct kunit_suite simple_dio_hook_suite = {
	.name = "iomap_simple_dio_hook",
	.test_cases = simple_dio_hook_cases,
};

kunit_test_suite(simple_dio_hook_suite);

MODULE_DESCRIPTION("KUnit test of the simple direct-I/O hook");
MODULE_LICENSE("GPL");

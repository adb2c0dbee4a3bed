/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interface of the simple direct-I/O hook, for its KUnit test.
 */
#ifndef _FS_IOMAP_SIMPLE_DIO_HOOK_H
#define _FS_IOMAP_SIMPLE_DIO_HOOK_H

#include <linux/types.h>

ssize_t iomap_simple_dio_knob_show(char *buf);
ssize_t iomap_simple_dio_knob_store(const char *buf, size_t count);

#endif /* _FS_IOMAP_SIMPLE_DIO_HOOK_H */

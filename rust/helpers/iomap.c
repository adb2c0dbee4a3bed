// SPDX-License-Identifier: GPL-2.0

#include <linux/fs.h>
#include <linux/task_io_accounting_ops.h>

__rust_helper loff_t rust_helper_i_size_read(const struct inode *inode)
{
	return i_size_read(inode);
}

__rust_helper void rust_helper_inode_dio_begin(struct inode *inode)
{
	inode_dio_begin(inode);
}

__rust_helper void rust_helper_inode_dio_end(struct inode *inode)
{
	inode_dio_end(inode);
}

__rust_helper bool rust_helper_iocb_is_dsync(const struct kiocb *iocb)
{
	return iocb_is_dsync(iocb);
}

__rust_helper ssize_t rust_helper_generic_write_sync(struct kiocb *iocb,
						     ssize_t count)
{
	return generic_write_sync(iocb, count);
}

__rust_helper void rust_helper_task_io_account_write(size_t bytes)
{
	task_io_account_write(bytes);
}

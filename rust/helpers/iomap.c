// SPDX-License-Identifier: GPL-2.0

#include <linux/fs.h>

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

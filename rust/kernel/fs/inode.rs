// SPDX-License-Identifier: GPL-2.0

//! Inodes and super blocks, as seen by code that does I/O on a file.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use crate::{
    bindings,
    error::{to_result, Error, Result},
    fs::LocalFile,
    types::Opaque,
};

/// An inode (`struct inode`).
///
/// # Invariants
///
/// The wrapped `struct inode` is valid for the lifetime of any reference to `Self`.
#[repr(transparent)]
pub struct Inode(Opaque<bindings::inode>);

impl Inode {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid inode that stays valid for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::inode) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper and the caller guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the inode of `file` (`file_inode()`).
    #[inline]
    pub fn of_file(file: &LocalFile) -> &Self {
        // SAFETY: `f_inode` is set when the file is opened and never changes; the file holds
        // its inode for as long as it lives, which the reference to it is shorter than.
        unsafe { Self::from_raw((*file.as_ptr()).f_inode) }
    }

    /// Returns the raw `struct inode` pointer.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::inode {
        self.0.get()
    }

    /// Returns the file size (`i_size_read`).
    #[inline]
    pub fn size(&self) -> i64 {
        // SAFETY: The inode is valid (type invariant).
        unsafe { bindings::i_size_read(self.as_raw()) }
    }

    /// Returns the file system block size in bytes.
    #[inline]
    pub fn block_size(&self) -> u32 {
        // SAFETY: The inode is valid (type invariant).
        1u32 << unsafe { (*self.as_raw()).i_blkbits }
    }

    /// Returns whether the file's contents are encrypted (fscrypt).
    #[inline]
    pub fn is_encrypted(&self) -> bool {
        // SAFETY: The inode is valid (type invariant). `i_flags` is rewritten by
        // `inode_set_flags()` (with `cmpxchg`) and plain stores under the inode lock, which
        // this reader does not hold: a volatile load, as `IS_ENCRYPTED()` reads it unlocked.
        // `S_ENCRYPTED` is set before a file has contents and never cleared.
        let flags = unsafe { (&raw const (*self.as_raw()).i_flags).read_volatile() };
        flags & bindings::S_ENCRYPTED != 0
    }

    /// Returns the super block the inode belongs to.
    #[inline]
    pub fn super_block(&self) -> &SuperBlock {
        // SAFETY: An inode's super block outlives it.
        unsafe { SuperBlock::from_raw((*self.as_raw()).i_sb) }
    }

    /// Reports a failed direct read of `len` bytes at `pos` to fsnotify (`fserror`).
    ///
    /// It allocates with `GFP_NOFS`, so it may sleep: process context only.
    pub fn report_read_error(&self, pos: i64, len: u64, err: Error) {
        self.report_error(bindings::fserror_type_FSERR_DIRECTIO_READ, pos, len, err)
    }

    /// Reports a failed direct write of `len` bytes at `pos` to fsnotify (`fserror`).
    ///
    /// It allocates with `GFP_NOFS`, so it may sleep: process context only.
    pub fn report_write_error(&self, pos: i64, len: u64, err: Error) {
        self.report_error(bindings::fserror_type_FSERR_DIRECTIO_WRITE, pos, len, err)
    }

    #[inline(always)]
    fn report_error(&self, kind: bindings::fserror_type, pos: i64, len: u64, err: Error) {
        // SAFETY: The inode and its super block are valid; GFP_NOFS is a valid mask.
        unsafe {
            bindings::fserror_report(
                (*self.as_raw()).i_sb,
                self.as_raw(),
                kind,
                pos,
                len,
                err.to_errno(),
                bindings::GFP_NOFS,
            )
        };
    }
}

/// A mounted file system's super block (`struct super_block`).
///
/// # Invariants
///
/// The wrapped `struct super_block` is valid for the lifetime of any reference to `Self`.
#[repr(transparent)]
pub struct SuperBlock(Opaque<bindings::super_block>);

impl SuperBlock {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid super block that stays valid for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::super_block) -> &'a Self {
        // SAFETY: `Self` is a transparent wrapper and the caller guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the raw `struct super_block` pointer.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::super_block {
        self.0.get()
    }

    /// Returns whether the file system type is called `name` (`s_type->name`).
    ///
    /// Compares in place, without measuring the type's name first.
    #[inline]
    pub fn type_name_is(&self, name: &[u8]) -> bool {
        // SAFETY: The super block is valid; its file system type and that type's name (a
        // NUL-terminated string) outlive it.
        let mut p = unsafe { (*(*self.as_raw()).s_type).name }.cast::<u8>();
        for &b in name {
            // SAFETY: Every byte read so far was not NUL, so `p` is still within the string.
            let c = unsafe { *p };
            if c != b || c == 0 {
                return false;
            }
            // SAFETY: `c` is not NUL, so the string goes on past it.
            p = unsafe { p.add(1) };
        }
        // SAFETY: As above: `p` is within the string, at most on its terminating NUL.
        unsafe { *p == 0 }
    }

    /// Makes sure the direct-I/O completion workqueue (`s_dio_done_wq`) exists.
    // A test and a branch on every asynchronous direct-I/O read: always inlined, where plain
    // `#[inline]` left a call from other crates.
    #[inline(always)]
    pub fn init_dio_done_wq(&self) -> Result {
        // SAFETY: The super block is valid. `sb_init_dio_done_wq()` publishes the workqueue
        // once, with `cmpxchg()`, and it stays until the super block goes: a volatile load
        // (`READ_ONCE()`) that sees it set sees a live workqueue, one that sees NULL calls
        // `sb_init_dio_done_wq()`, which copes with a race.
        let wq = unsafe { (&raw const (*self.as_raw()).s_dio_done_wq).read_volatile() };
        if wq.is_null() {
            // SAFETY: The super block is valid.
            return to_result(unsafe { bindings::sb_init_dio_done_wq(self.as_raw()) });
        }
        Ok(())
    }
}

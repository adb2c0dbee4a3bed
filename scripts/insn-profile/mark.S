/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sdio-mark: a program that only exits. scripts/profile links it at a fixed address
 * (PROFILE_MARK in scripts/profile) and the insn-profile plugin counts instructions
 * only between two runs of the block there: the guest runs it before and after the
 * workload, so boot and setup do not blur the counts.
 */
	.globl _start
	.text
_start:
	movl	$60, %eax	/* exit(0) */
	xorl	%edi, %edi
	syscall

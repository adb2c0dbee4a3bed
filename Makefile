# SPDX-License-Identifier: GPL-2.0
# simple-dio-rs workflow. Everything big lives in $SDIO_CACHE (~/.cache/simple-dio).
#   make build     build root + overlay + kernel (incremental)
#   make run       build, boot, demo: ext4 and XFS on NVMe, O_DIRECT reads
#   make test      KUnit + guest suites; ends with "N passed, N failed"
#   make bench     fio sweep, knob 0/1 and raw device; QUICK=1 for the short one,
#                  ICOUNT=1 for the instruction-true A/B under QEMU -icount
#   make profile   exact instructions per read, per function, knob 0 vs 1 (a QEMU
#                  plugin counts them); PROFILE_* variables, see scripts/profile
#   make compare   instructions per read: on 7.3 the generic, C and Rust paths in one
#                  kernel (m and y); LINUX=7.2 against Linux 7.3 as shipped; docs/compare
#   make fstests   fstests' direct-I/O tests on ext4 and XFS at each knob setting (not part
#                  of make test; tens of minutes); FSTESTS_* variables, see scripts/fstests
#   make check     quality gates: checkpatch, rustfmt, clippy, W=1, patch series
#   make series-test  both series, git am'd onto fresh trees, every step built y/m/n, kunit.py
#   make patches   git format-patch series for a pristine tree (out/patches/$(LINUX))
#   make shell     interactive guest
#   make clean     drop the object directories (keeps build root, tree, ccache)
# Variables: LINUX=7.3|7.2 (the kernel, Debian's linux-source-$(LINUX); default 7.3),
#            SIMPLE_DIO=y|m|n (default m: one build covers load, unload, KUnit), DEBUG=1 (KASAN/lockdep/kmemleak build),
#            FULL=1 (longer test variant), CASES="fs/90-* 90-*" (make test runs only
#            the guest cases matching a pattern), CHECK=0 (make test without the quality
#            gates), INLINE_HELPERS=1 (CONFIG_RUST_INLINE_HELPERS build),
#            TOOLCHAIN=pinned|newest (trixie's Rust, which the gates judge with, or
#            trixie-backports' current one in a build root of its own: make check
#            TOOLCHAIN=newest reports its warnings), SDIO_CACHE=DIR, SDIO_JOBS=N.

SIMPLE_DIO ?= m
LINUX ?= 7.3
TOOLCHAIN ?= pinned
export SDIO_TOOLCHAIN := $(TOOLCHAIN)
export SDIO_SIMPLE_DIO := $(SIMPLE_DIO)
export SDIO_LINUX := $(LINUX)
export SDIO_VARIANT := $(if $(filter 1,$(DEBUG)),debug,$(if $(filter 1,$(INLINE_HELPERS)),inline,default))
export SDIO_FULL := $(FULL)
export SDIO_CASES := $(CASES)
export SDIO_CHECK := $(if $(filter 0,$(CHECK)),0,1)

.PHONY: all build run test bench profile compare fstests check patches series-test shell clean

all: build

build:
	scripts/build
	scripts/tools

run: build
	scripts/vm run tests/guest/demo.sh

test: build
	scripts/test

bench: build
	BENCH_QUICK=$(if $(filter 1,$(QUICK)),1,0) BENCH_ICOUNT=$(if $(filter 1,$(ICOUNT)),1,0) scripts/bench

profile: build
	scripts/profile

compare:
	scripts/compare

fstests: build
	scripts/fstests

check:
	scripts/check

patches:
	scripts/patches

series-test:
	scripts/series-test

shell: build
	scripts/vm shell

clean:
	rm -rf "$${SDIO_CACHE:-$$HOME/.cache/simple-dio}"/root/sdio/obj-*

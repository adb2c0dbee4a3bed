# SPDX-License-Identifier: GPL-2.0
# Common settings for the simple-dio-rs workflow scripts; sourced, not run.
#
# Everything big lives in $SDIO_CACHE (default ~/.cache/simple-dio):
#   root/            Debian trixie(+backports) build root: toolchain, QEMU, guest
#   root/sdio/pristine, pristine-7.3  the untouched linux-source-7.2 and 7.3 trees
#   root/sdio/tree, tree-sdio-7.3     pristine + this repo's files + the kernel's
#                       series (the build source)
#   root/sdio/obj-<v>, obj-7.3-<v>    object directories of build variant <v> (make O=)
#   root/sdio/ccache    compiler cache shared by all variants
#   root/sdio/guest     guest root file system (exported to the guest over 9p)
#   root/sdio/runs      per-run directories of the VM runner
# Commands run inside the root through in_root, in a private mount namespace, so
# nothing stays mounted on the host after a command ends.

set -euo pipefail

SDIO_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SDIO_CACHE=${SDIO_CACHE:-${HOME:-/root}/.cache/simple-dio}
# The Rust toolchain (rustc, rust-src, clippy, rustfmt; bindgen is trixie's in both):
#   pinned  trixie's own, the kernel's minimum, which moves only with Debian's point
#           releases: what make test, make check and CI build and judge with, so the
#           gates give the same verdict on any day (the default);
#   newest  trixie-backports' current one, which moves every few weeks: make check
#           TOOLCHAIN=newest reports what its new lints say, in a build root of its
#           own, and never decides make test.
SDIO_TOOLCHAIN=${SDIO_TOOLCHAIN:-pinned}
case $SDIO_TOOLCHAIN in
pinned) SDIO_ROOT=$SDIO_CACHE/root SDIO_RUST_SUITE=trixie ;;
newest) SDIO_ROOT=$SDIO_CACHE/root-newest SDIO_RUST_SUITE=trixie-backports ;;
*) printf 'error: TOOLCHAIN must be pinned or newest\n' >&2; exit 1 ;;
esac
# What the pinned toolchain is: upstream versions (Debian's revision may change with a
# point release, which brings fixes, not new lints). sdio_toolchain_guard checks them.
SDIO_PINNED="rustc 1.85 rust-src 1.85 libstd-rust-dev 1.85 rust-clippy 1.85 rustfmt 1.85 bindgen 0.71"
# The Debian mirror: the host's own apt configuration decides (one-line
# sources.list and deb822 .sources files alike), so a company mirror, proxy or
# local cache is used as it is; SDIO_MIRROR overrides. The repository names none.
# apt_uris [security]: the URIs of the host's enabled "deb" entries whose suites are
# the distribution's own (or, with "security", its security suites), first first.
apt_uris() {
	local want=${1:-main} f
	local d=${SDIO_APT_DIR:-/etc/apt}
	# Debian's own suites only: not a third-party repository's "nodistro" or "stable-foo".
	local debian_suite='(^| )(buster|bullseye|bookworm|trixie|forky|duke|sid|oldstable|stable|testing|unstable)(-updates|-security|-backports)?( |$)'
	for f in "$d/sources.list" "$d"/sources.list.d/*.list \
		"$d"/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		case $f in
		*.sources)
			# deb822: blank-line separated stanzas of "Key: value".
			awk -v want="$want" -v deb="$debian_suite" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "" &&
				    suites ~ deb) {
					sec = (suites ~ /-security/)
					if ((want == "security") == sec) { n = split(uris, u, " "); for (i = 1; i <= n; i++) print u[i] }
				}
				types = ""; uris = ""; suites = ""; enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{ k = tolower($1); sub(/:$/, "", k); $1 = ""; sub(/^ +/, "")
			  if (k == "types") types = $0; else if (k == "uris") uris = $0
			  else if (k == "suites") suites = $0; else if (k == "enabled") enabled = tolower($0) }
			END { flush() }' "$f" ;;
		*)
			# One-line style: deb [options] URI suite component...
			awk -v want="$want" -v deb="$debian_suite" '
			$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
			  if ($(i + 1) !~ deb) next
			  sec = ($(i + 1) ~ /-security/)
			  if ((want == "security") == sec) print $i }' "$f" ;;
		esac
	done | grep -E '^(https?|file)://' || true
}
SDIO_MIRROR=${SDIO_MIRROR:-$(apt_uris | grep -m1 -v -- '-security' || true)}
SDIO_MIRROR_SECURITY=${SDIO_MIRROR_SECURITY:-$(apt_uris security | head -n1)}
# The build root's sources: trixie, its updates and backports from the mirror, and
# security updates where the host has a security mirror.
sdio_sources() {
	[ -n "$SDIO_MIRROR" ] || die "no Debian mirror in the host's apt configuration; set SDIO_MIRROR"
	printf 'deb %s trixie main\ndeb %s trixie-updates main\ndeb %s trixie-backports main\n' \
		"$SDIO_MIRROR" "$SDIO_MIRROR" "$SDIO_MIRROR"
	[ -z "$SDIO_MIRROR_SECURITY" ] || printf 'deb %s trixie-security main\n' "$SDIO_MIRROR_SECURITY"
}
SDIO_JOBS=${SDIO_JOBS:-$(nproc)}
# Build variant: "default" or "debug" (KASAN, lockdep, kmemleak...).
SDIO_VARIANT=${SDIO_VARIANT:-default}
# How the feature is built: y, m or n.
SDIO_SIMPLE_DIO=${SDIO_SIMPLE_DIO:-m}

# Which kernel: Debian's linux-source-$SDIO_LINUX, 7.3 (the default) or 7.2. Each has
# its own series (patches/$SDIO_LINUX), pristine tree, build tree and object directories.
SDIO_LINUX=${SDIO_LINUX:-7.3}
SDIO_KERNELS="7.2 7.3"

# Paths as seen inside the build root.
R_SDIO=/sdio
# sdio_kernel_paths V: set R_PRISTINE, R_TREE, R_OBJ and SDIO_SERIES for kernel V.
sdio_kernel_paths() {
	case $1 in
	7.2) R_PRISTINE=$R_SDIO/pristine R_TREE=$R_SDIO/tree R_OBJ=$R_SDIO/obj ;;
	7.3) R_PRISTINE=$R_SDIO/pristine-7.3 R_TREE=$R_SDIO/tree-sdio-7.3 R_OBJ=$R_SDIO/obj-7.3 ;;
	*) die "LINUX must be one of: $SDIO_KERNELS" ;;
	esac
	R_OBJ=${SDIO_OBJ:-$R_OBJ-$SDIO_VARIANT-$SDIO_SIMPLE_DIO}
	SDIO_SERIES=patches/$1
}
R_GUEST=$R_SDIO/guest
# The repository's top-level directories that mirror kernel paths: scripts/overlay lays
# them over the pristine tree, scripts/patches checks each file is in one patch.
SDIO_KERNEL_DIRS="fs rust include block lib Documentation"
# sdio_merge_config LLVM OBJ CONFIG FRAGMENT...: in a kernel tree (inside the build root),
# an allnoconfig with the fragments merged by the kernel's own merge_config.sh, written to
# CONFIG (an absolute path: OBJ/.config, or a scratch file to compare with it). Fails, with
# merge_config.sh's words, if a requested value did not make it (missing dependencies).
sdio_merge_config() {
	local llvm=$1 obj=$2 config=$3 out
	shift 3
	out=$(KCONFIG_CONFIG=$config LLVM=$llvm ./scripts/kconfig/merge_config.sh -n -O "$obj" "$@" 2>&1) ||
		{ echo "$out"; return 1; }
	if echo "$out" | grep -A3 'Value requested for'; then
		echo "config: the fragments are not satisfied (see above)"
		return 1
	fi
}

# The instruction-count plugin and sdio-mark, the program at a fixed address (SDIO_MARK,
# where no other program has code) whose runs bracket a measured workload.
SDIO_MARK=0x5d1000000
sdio_build_plugin() {
	log "building the instruction-count plugin and sdio-mark"
	in_root "cc -shared -fPIC -O2 -Wall -Werror -o $R_SDIO/insn-profile.so \
		/repo/scripts/insn-profile/insn-profile.c
		mkdir -p $R_SDIO/tools
		cc -static -nostdlib -no-pie -Wl,--section-start=.text=$SDIO_MARK -Wl,--build-id=none \
			-o $R_SDIO/tools/sdio-mark /repo/scripts/insn-profile/mark.S"
}

# sdio_kernel_files: the project's files under those paths, one a line: what the overlay
# copies, the series adds and the gates check (everything there is the project's own).
sdio_kernel_files() {
	(cd "$SDIO_REPO" && for d in $SDIO_KERNEL_DIRS; do [ -d "$d" ] && find "$d" -type f; done | sort)
}
# The guest root's packages (scripts/guest); make fstests' root adds its own.
GUEST_PACKAGES="fio e2fsprogs xfsprogs util-linux mount dmsetup kmod busybox procps
	coreutils findutils grep sed gawk erofs-utils exfatprogs cryptsetup-bin mdadm"
R_RUNS=$R_SDIO/runs

# Memory-backed null_blk for the instruction measures (bench ICOUNT=1, profile,
# compare): one submission and one poll queue, deep enough for QD 256. Callers add
# the completion mode (irqmode=...) and, if they need more, nr_devices.
SDIO_NULLB="null_blk.gb=1 null_blk.memory_backed=1 null_blk.queue_mode=2 null_blk.poll_queues=1 null_blk.submit_queues=1 null_blk.hw_queue_depth=1024"

# sdio_toolchain_guard: fail, with one clear message, when the build root's Rust toolchain
# (its versions.txt) is not the pinned one the gates expect; newest is not guarded.
sdio_toolchain_guard() {
	[ "$SDIO_TOOLCHAIN" = pinned ] || return 0
	local vers=$SDIO_ROOT/sdio/versions.txt pkg want have bad=""
	[ -f "$vers" ] || die "no $vers: run scripts/buildroot"
	set -- $SDIO_PINNED
	while [ $# -ge 2 ]; do
		pkg=$1 want=$2
		shift 2
		have=$(awk -v p="$pkg" '$1 == p { v = $2; sub(/^[0-9]+:/, "", v); print v }' "$vers")
		case $have in "$want" | "$want".* | "$want"+*) ;; *) bad="$bad $pkg ${have:-none} (want $want.x);" ;; esac
	done
	[ -z "$bad" ] && return 0
	die "the build root's Rust toolchain is not the pinned one the gates judge with:$bad
  scripts/buildroot installs the pinned one into an old cache; if it still differs, Debian
  changed trixie's own rustc: update SDIO_PINNED in scripts/lib.sh (and fix what the new
  version warns about) in a commit of its own"
}

log() { printf '\033[1m==> [%s] %s\033[0m\n' "$(date +%T)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
sdio_kernel_paths "$SDIO_LINUX"

# The libclang bindgen loads (at run time): that of Debian's default clang, 19.
# Without it, bindgen takes the newest libclang installed, and INLINE_HELPERS=1
# installs libclang 21 and clang-22's (scripts/build), which would then change the
# bindings of every build.
SDIO_LIBCLANG_PATH=${SDIO_LIBCLANG_PATH:-/usr/lib/llvm-19/lib}

# Run "$@" (a bash command string) inside the build root, with /proc, /sys, /dev
# and the repository (at /repo) mounted in a private mount namespace.
in_root() {
	[ -x "$SDIO_ROOT/usr/bin/env" ] || die "no build root at $SDIO_ROOT (run scripts/buildroot)"
	mkdir -p "$SDIO_ROOT/repo" "$SDIO_ROOT$R_SDIO"
	SDIO_CMD="$*" unshare -m --propagation private bash -euc '
		r=$SDIO_ROOT
		# The root a mount point of its own, as / is on a real system: mmdebstrap
		# (the guest root) remounts / and otherwise prints a spurious mount error.
		mount --bind "$r" "$r"
		mount -t proc proc "$r/proc"
		mount --rbind /sys "$r/sys"
		mount --rbind /dev "$r/dev"
		mount --bind "$SDIO_REPO" "$r/repo"
		mount -t tmpfs tmpfs "$r/tmp"
		cp -L /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
		# The host may trust a TLS proxy (crate downloads): lend it its CA bundle.
		if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
			mkdir -p "$r/etc/ssl/host"
			cp -L /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/host/ca.crt"
		fi
		exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
			PATH=/usr/lib/ccache:/usr/sbin:/usr/bin:/sbin:/bin \
			CCACHE_DIR=/sdio/ccache CCACHE_BASEDIR=/sdio \
			SDIO_JOBS="$SDIO_JOBS" SDIO_LINUX="$SDIO_LINUX" CI="${CI:-}" CARGO_HOME=/sdio/cargo \
			CARGO_HTTP_CAINFO=/etc/ssl/host/ca.crt \
			LIBCLANG_PATH="$SDIO_LIBCLANG_PATH" \
			bash -euo pipefail -c "$SDIO_CMD"
	'
}
export SDIO_ROOT SDIO_REPO SDIO_JOBS SDIO_LIBCLANG_PATH SDIO_LINUX SDIO_TOOLCHAIN

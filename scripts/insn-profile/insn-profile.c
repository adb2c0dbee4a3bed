// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin that counts, exactly, the guest instructions executed at each
 * translation block address, for scripts/profile (make bench PROFILE=1).
 *
 * With mark=ADDR, counting starts and stops each time the block at guest address
 * ADDR runs (sdio-mark, a program linked there, run before and after the workload);
 * without it the whole run is counted. At exit it writes one line per translated
 * block to the file named by out=:
 * "<start address, hex> <instructions executed>". With windows=1 (make compare) each
 * counting window (mark ... mark) is written when it closes, after a line
 * "# window N", and the counts start again from zero: one boot measures many
 * workloads. scripts/profile_report.py folds
 * them into functions with the guest's /proc/kallsyms. Unlike a sampling profiler
 * the counts are exact (no skid to interrupt-enable points, no aliasing of a fixed
 * sampling period with a deterministic workload), so two runs that differ only in
 * one knob give the per-function instruction difference directly.
 *
 * Debian's QEMU packages do not ship qemu-plugin.h; the few entry points used here
 * are declared below, as in plugin API version 7 (the minimum QEMU 11 accepts). The
 * exit callback ignores its arguments, whose list changed across API versions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
/* API 7 passes the block first and the registration's userdata last. */
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(struct qemu_plugin_tb *tb,
					      void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					   void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(void *userdata);
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb,
					   void *userdata);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
					  qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags,
					  void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);

__attribute__((visibility("default"))) int qemu_plugin_version = 7;

/* One translation of a block; a block translated again gets a new record. */
struct block {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t execs;
	struct block *next;
};

static struct block *blocks;
static char *out_path;
static uint64_t mark;
static int counting = 1;
static int windows;
static unsigned int window_nr;
static FILE *window_out;

static void write_blocks(FILE *f)
{
	struct block *b;

	for (b = blocks; b; b = b->next)
		if (b->execs)
			fprintf(f, "%" PRIx64 " %" PRIu64 "\n", b->vaddr,
				b->insns * b->execs);
}

static void block_exec(unsigned int vcpu_index, void *userdata)
{
	/* One vCPU (-icount runs them in turn anyway): no atomics needed. */
	if (counting)
		((struct block *)userdata)->execs++;
}

static void mark_exec(unsigned int vcpu_index, void *userdata)
{
	struct block *b;

	counting = !counting;
	if (!windows || counting)
		return;
	/* A window closed: write it and start the next from zero. */
	fprintf(window_out, "# window %u\n", window_nr++);
	write_blocks(window_out);
	fflush(window_out);
	for (b = blocks; b; b = b->next)
		b->execs = 0;
}

static void block_trans(struct qemu_plugin_tb *tb, void *userdata)
{
	struct block *b = calloc(1, sizeof(*b));

	if (!b)
		abort();
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	if (mark && b->vaddr == mark)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, mark_exec,
						     QEMU_PLUGIN_CB_NO_REGS, NULL);
	b->insns = qemu_plugin_tb_n_insns(tb);
	/* Translation is serialised by QEMU, so the list needs no lock. */
	b->next = blocks;
	blocks = b;
	qemu_plugin_register_vcpu_tb_exec_cb(tb, block_exec,
					     QEMU_PLUGIN_CB_NO_REGS, b);
}

static void write_counts(void *userdata)
{
	FILE *f;

	if (windows) {
		fclose(window_out);
		return;
	}
	f = fopen(out_path, "w");
	if (!f) {
		perror(out_path);
		return;
	}
	write_blocks(f);
	fclose(f);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			out_path = strdup(argv[i] + 4);
		else if (!strncmp(argv[i], "mark=", 5))
			mark = strtoull(argv[i] + 5, NULL, 0);
		else if (!strcmp(argv[i], "windows=1"))
			windows = 1;
	if (!out_path) {
		fprintf(stderr, "insn-profile: out=FILE is required\n");
		return -1;
	}
	counting = !mark;
	if (windows) {
		if (!mark) {
			fprintf(stderr, "insn-profile: windows=1 needs mark=ADDR\n");
			return -1;
		}
		window_out = fopen(out_path, "w");
		if (!window_out) {
			perror(out_path);
			return -1;
		}
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, block_trans, NULL);
	qemu_plugin_register_atexit_cb(id, write_counts, NULL);
	return 0;
}

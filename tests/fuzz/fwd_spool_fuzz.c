/* fwd_spool_fuzz.c - libFuzzer target for vigil-forward's disk spool
 * (plugins/fluentbit/spool.c, disk.c): the batch files a previous run left in
 * --spool-dir, read back at start. A crash, a full disk or another user with write access
 * to the directory can leave any bytes there.
 *
 * The input is cut before every "VFWD" (the file magic) into pieces; piece i is written
 * as the spool file of sequence i + 1. Then the spool is opened as at start (scan, reload
 * within the disk cap), every batch is taken into memory, sent and acked, as a connection
 * would, and the spool is closed with persisting on.
 *
 * Properties besides memory safety: a batch that comes back holds exactly the bytes its
 * file held after the header (the header's length, checked against the file size); every
 * acked batch leaves the queue; the queue ends empty.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

#define MAX_FILES 64
#define HDR_LEN 40		/* disk.c's struct disk_hdr: magic, version, nevents, len, chunk */

static char dir[64];

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fwd_spool_fuzz: property violated: %s\n", what);
		abort();
	}
}

/* Empty the spool directory (the lock file and whatever the last input left). */
static void clear(void)
{
	char path[128];
	struct dirent *de;
	DIR *d = opendir(dir);

	check(d != NULL, "cannot open the spool directory");
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
			unlink(path);
	closedir(d);
}

static void cleanup(void)
{
	clear();
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(dir, sizeof(dir), "/tmp/vigil-fwd-spool-fuzz.XXXXXX");
	check(mkdtemp(dir) != NULL, "mkdtemp");
	atexit(cleanup);
	return 0;
}

struct piece {
	const uint8_t *p;
	size_t n;
};

static size_t cut(const uint8_t *data, size_t size, struct piece *out)
{
	size_t n = 0, start = 0, i;

	for (i = 1; i + 4 <= size && n < MAX_FILES - 1; i++)
		if (!memcmp(data + i, "VFWD", 4)) {
			out[n++] = (struct piece){data + start, i - start};
			start = i;
		}
	if (start < size || !n)
		out[n++] = (struct piece){data + start, size - start};
	return n;
}

static void write_file(uint64_t seq, const struct piece *pc)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%020llu.vfw", dir, (unsigned long long)seq);
	f = fopen(path, "wb");
	check(f != NULL, "cannot write a spool file");
	check(fwrite(pc->p, 1, pc->n, f) == pc->n, "short write");
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piece pieces[MAX_FILES];
	struct spool_opts opts = {.mem_limit = 4096, .disk_limit = 16384, .dir = dir};
	struct fwd_stats st = {0};
	struct fwd_spool *sp;
	struct frame *f;
	size_t n = cut(data, size, pieces), i, guard;
	char chunk[FWD_CHUNK_LEN];
	int settled;

	clear();
	for (i = 0; i < n; i++)
		write_file(i + 1, &pieces[i]);
	sp = spool_open(&opts, &st);
	check(sp != NULL, "spool_open failed");
	for (guard = 0; guard < 2 * MAX_FILES && (f = spool_next_queued(sp)); guard++) {
		check(f->seq >= 1 && f->seq <= n, "a batch of no file");
		i = f->seq - 1;
		check(pieces[i].n == HDR_LEN + (size_t)f->len && !memcmp(f->data, pieces[i].p + HDR_LEN, f->len),
		      "a batch's bytes differ from its file's");
		ack_sent(sp, f, guard);
		memcpy(chunk, f->chunk, FWD_CHUNK_LEN);
		settled = ack_settle(sp, chunk, FWD_CHUNK_LEN);
		check(settled > 0, "an ack for a batch in flight did not settle it");
	}
	check(spool_empty(sp), "batches left after every one was acked");
	check(st.queued_batches == 0 && st.inflight == 0 && st.mem_bytes == 0 && st.disk_bytes == 0,
	      "gauges not back to zero");
	spool_close(sp, true);
	return 0;
}

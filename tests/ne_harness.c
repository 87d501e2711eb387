/*
 * ne_harness.c: the Negentropy cross-implementation test harness for our C
 * implementation (proto/negentropy.h). It speaks the line protocol of the
 * reference test suite (hoytech/negentropy test/fuzz.pl) on stdin/stdout:
 *   in:  item,TS,IDHEX | seal | initiate | msg,HEX
 *   out: msg,HEX | have,IDHEX | need,IDHEX | done
 * The environment variable FRAMESIZELIMIT sets the frame size limit.
 * Any error: one line on stderr and exit status 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "proto/negentropy.h"

static void die(const char *what, const char *detail) __attribute__((noreturn));
static void die(const char *what, const char *detail)
{
	fprintf(stderr, "ne_harness: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void put_hex(const char *prefix, const uint8_t *p, size_t n)
{
	size_t hl = n * 2 + 1;
	char *h = malloc(hl);
	if (!h)
		die("out of memory", NULL);
	sodium_bin2hex(h, hl, p, n);
	printf("%s%s\n", prefix, h);
	free(h);
}

/* Decodes hex (exactly, no separators) into a new buffer. */
static uint8_t *from_hex(const char *hex, size_t *n)
{
	size_t hl = strlen(hex);
	if (hl % 2)
		die("odd-length hex", hex);
	uint8_t *b = malloc(hl / 2 + 1);
	const char *endp;
	if (!b)
		die("out of memory", NULL);
	if (sodium_hex2bin(b, hl / 2 + 1, hex, hl, NULL, n, &endp) != 0 || *endp != '\0')
		die("bad hex", hex);
	return b;
}

int main(void)
{
	uint64_t limit = 0;
	const char *fsl = getenv("FRAMESIZELIMIT");
	if (fsl && *fsl) {
		char *e;
		errno = 0;
		unsigned long long v = strtoull(fsl, &e, 10);
		if (errno || *e)
			die("bad FRAMESIZELIMIT", fsl);
		limit = v;
	}

	hx_ne_vec *vec = NULL;
	hx_ne *ne = NULL;
	hx_ne_storage st;
	if (hx_ne_vec_new(&vec))
		die("out of memory", NULL);

	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;

		if (!strncmp(line, "item,", 5)) {
			char *ts = line + 5, *comma = strchr(ts, ','), *e;
			if (!comma || strchr(comma + 1, ','))
				die("wrong num of fields", line);
			*comma = '\0';
			errno = 0;
			unsigned long long t = strtoull(ts, &e, 10);
			if (errno || *e || e == ts)
				die("bad timestamp", ts);
			size_t idn;
			uint8_t *id = from_hex(comma + 1, &idn);
			if (idn != HX_NE_ID_LEN)
				die("bad id size", comma + 1);
			if ((rc = hx_ne_vec_add(vec, t, id)))
				die("add", hx_strerror(rc));
			free(id);
		} else if (!strcmp(line, "seal")) {
			if ((rc = hx_ne_vec_seal(vec)))
				die("seal", hx_strerror(rc));
			st = hx_ne_vec_storage(vec);
			if ((rc = hx_ne_new(&ne, &st, limit)))
				die("new", hx_strerror(rc));
		} else if (!strcmp(line, "initiate")) {
			uint8_t *m;
			size_t ml;
			if (!ne)
				die("not sealed", NULL);
			if ((rc = hx_ne_initiate(ne, &m, &ml)))
				die("initiate", hx_strerror(rc));
			if (limit && ml > limit)
				die("initiate frameSizeLimit exceeded", NULL);
			put_hex("msg,", m, ml);
			free(m);
		} else if (!strncmp(line, "msg", 3) && (line[3] == ',' || !line[3])) {
			size_t ql = 0;
			uint8_t *q = from_hex(line[3] ? line + 4 : "", &ql);
			uint8_t *m;
			size_t ml;
			hx_ne_ids have = { 0 }, need = { 0 };
			if (!ne)
				die("not sealed", NULL);
			if ((rc = hx_ne_reconcile(ne, q, ql, &m, &ml, &have, &need)))
				die("reconcile", hx_strerror(rc));
			free(q);
			for (size_t i = 0; i < have.n; i++)
				put_hex("have,", have.ids[i], HX_NE_ID_LEN);
			for (size_t i = 0; i < need.n; i++)
				put_hex("need,", need.ids[i], HX_NE_ID_LEN);
			hx_ne_ids_clear(&have);
			hx_ne_ids_clear(&need);
			if (!m) {
				printf("done\n");
			} else {
				if (limit && ml > limit)
					die("frameSizeLimit exceeded", NULL);
				put_hex("msg,", m, ml);
				free(m);
			}
		} else {
			die("unknown cmd", line);
		}
		fflush(stdout);
	}
	free(line);
	hx_ne_free(&ne);
	hx_ne_vec_free(&vec);
	return 0;
}

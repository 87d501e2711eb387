/*
 * storesize.c (bench_storesize): where a store's bytes go, table by table:
 * the bytes of its keys and values, what LMDB adds per node (an 8-byte
 * node header and a 2-byte slot; values over a page's node limit go to
 * overflow pages of their own), and how full its leaf pages are.
 *
 *   bench_storesize STORE_DIR [ENTRIES]
 *
 * STORE_DIR is a store directory (HOME/store, or the one bench_publish
 * keeps with HX_BENCH_KEEP=1); ENTRIES (default: the rows of "bytime",
 * one per entry) is what "B/entry" divides by. Read-only; a running node may keep
 * writing meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <lmdb.h>

/* LMDB 0.9's leaf node: 8 bytes of header, then key and value, padded to
 * an even size, plus its 2-byte slot in the page; a node over the page's
 * limit keeps its value on overflow pages (a page number in the node). */
#define NODE_HDR 8
#define SLOT 2
#define PAGE_HDR 16

struct tab {
	size_t rows, keys, keybytes, valbytes, nodebytes, big;
};

static size_t node_max(size_t psize)
{
	return (((psize - PAGE_HDR) / 2) & ~(size_t)1) - SLOT;
}

static size_t node_size(size_t k, size_t v, size_t psize, size_t *big)
{
	size_t n = NODE_HDR + k + v;
	if (n > node_max(psize)) {
		++*big;
		n = NODE_HDR + k + sizeof(size_t); /* the value's first page number */
	}
	return ((n + 1) & ~(size_t)1) + SLOT;
}

/* Walks one table; for MDB_DUPSORT tables a key with several values holds
 * them in a sub-page (16-byte header, values packed when MDB_DUPFIXED). */
static int walk(MDB_txn *txn, MDB_dbi dbi, size_t psize, struct tab *t)
{
	MDB_cursor *c;
	MDB_val k, v;
	unsigned flags;
	int rc;
	memset(t, 0, sizeof *t);
	if ((rc = mdb_dbi_flags(txn, dbi, &flags)) || (rc = mdb_cursor_open(txn, dbi, &c)))
		return rc;
	int dup = (flags & MDB_DUPSORT) != 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, dup ? MDB_NEXT_NODUP : MDB_NEXT)) {
		size_t n = 1;
		t->keys++;
		t->keybytes += k.mv_size;
		if (dup && mdb_cursor_count(c, &n) == 0 && n > 1) {
			size_t vb = 0;
			MDB_val k2, v2;
			for (int r = mdb_cursor_get(c, &k2, &v2, MDB_FIRST_DUP); r == 0;
			     r = mdb_cursor_get(c, &k2, &v2, MDB_NEXT_DUP))
				vb += v2.mv_size + ((flags & MDB_DUPFIXED) ? 0 : NODE_HDR + SLOT);
			t->valbytes += vb;
			t->nodebytes += node_size(k.mv_size, PAGE_HDR + vb, psize, &t->big);
		} else {
			t->valbytes += v.mv_size;
			t->nodebytes += node_size(k.mv_size, v.mv_size, psize, &t->big);
		}
		t->rows += n;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi main_dbi;
	MDB_cursor *c;
	MDB_val k, v;
	MDB_envinfo info;
	MDB_stat ms;
	struct stat sb;
	char path[4200];
	int rc;

	if (argc < 2 || argc > 3 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs("usage: bench_storesize STORE_DIR [ENTRIES]\n", argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	snprintf(path, sizeof path, "%s/data.mdb", argv[1]);
	if (stat(path, &sb)) {
		fprintf(stderr, "bench_storesize: %s: no store there\n", argv[1]);
		return 1;
	}
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 64)) ||
	    (rc = mdb_env_set_mapsize(env, (size_t)sb.st_size * 2 + ((size_t)1 << 30))) ||
	    (rc = mdb_env_open(env, argv[1], MDB_RDONLY | MDB_NOTLS, 0600)) ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) || (rc = mdb_env_info(env, &info)) ||
	    (rc = mdb_stat(txn, main_dbi, &ms)) || (rc = mdb_cursor_open(txn, main_dbi, &c))) {
		fprintf(stderr, "bench_storesize: %s: %s\n", argv[1], mdb_strerror(rc));
		return 1;
	}
	size_t psize = ms.ms_psize;
	struct {
		char name[64];
		struct tab t;
		MDB_stat st;
	} tabs[64];
	size_t nt = 0, entries = argc > 2 ? strtoull(argv[2], NULL, 10) : 0, biggest = 1;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && nt < 64;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		MDB_dbi dbi;
		snprintf(tabs[nt].name, sizeof tabs[nt].name, "%.*s", (int)k.mv_size,
		         (char *)k.mv_data);
		if (mdb_dbi_open(txn, tabs[nt].name, 0, &dbi) || mdb_stat(txn, dbi, &tabs[nt].st) ||
		    walk(txn, dbi, psize, &tabs[nt].t))
			continue;
		if (!strcmp(tabs[nt].name, "bytime"))
			biggest = tabs[nt].t.rows;
		nt++;
	}
	mdb_cursor_close(c);
	if (!entries)
		entries = biggest ? biggest : 1; /* "bytime"'s rows */
	double used = (double)(info.me_last_pgno + 1) * (double)psize, tables = 0;
	printf("store %s: data.mdb %.1f MB, %zu-byte pages; per entry over %zu entries\n", argv[1],
	       sb.st_size / 1e6, psize, entries);
	printf("%-10s %8s %8s %6s %6s %7s %7s %7s %6s %5s %8s\n", "table", "keys", "rows", "key B",
	       "val B", "node B", "leaf pg", "ovf pg", "fill", "big", "B/entry");
	for (size_t i = 0; i < nt; i++) {
		const struct tab *t = &tabs[i].t;
		const MDB_stat *st = &tabs[i].st;
		double pages =
		        (double)(st->ms_branch_pages + st->ms_leaf_pages + st->ms_overflow_pages);
		tables += pages * (double)psize;
		double fill = st->ms_leaf_pages
		                      ? (double)t->nodebytes / ((double)st->ms_leaf_pages * psize)
		                      : 0;
		printf("%-10s %8zu %8zu %6.1f %6.1f %7.1f %7zu %7zu %5.0f%% %5zu %8.1f\n",
		       tabs[i].name, t->keys, t->rows, t->keys ? (double)t->keybytes / t->keys : 0,
		       t->rows ? (double)t->valbytes / t->rows : 0,
		       t->rows ? (double)t->nodebytes / t->rows : 0, st->ms_leaf_pages,
		       st->ms_overflow_pages, fill * 100, t->big, pages * (double)psize / entries);
	}
	printf("%-10s %75.1f\n", "free", (used - tables) / entries);
	printf("%-10s %75.1f\n", "file", (double)sb.st_size / entries);
	printf("key B, val B: average bytes of a key and of a value (DUPSORT: of one value);\n"
	       "node B: LMDB's leaf bytes per row (header, key, value, slot); fill: node bytes\n"
	       "over leaf pages; big: values on overflow pages; B/entry: all the table's pages.\n");
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
}

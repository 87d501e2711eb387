/*
 * store.h: the LMDB store of a hansa node: entries, documents (current
 * version per author and path), history, the local change sequence, members,
 * and the search index and reconciliation tree, all in one environment and
 * kept in step by writing them in the entry's own write transaction.
 * Layouts of every table: store/store.c and docs/FORMAT.md.
 */
#ifndef HX_STORE_H
#define HX_STORE_H

#include "proto/entry.h"

typedef struct hx_store hx_store;

/* 2: the blobs table (store/blob.c); 3: the "purged" table (store/purge.c);
 * 4: the "ftext" table (store/ftext.c); 5: entry values compressed with a
 * dictionary of the store (zentry.c).
 * Opening a store of an older schema first copies its data file to
 * data.mdb.schema<N>.bak (compacted), then upgrades it in place step by step
 * (store.c, upgrade_step). */
#define HX_STORE_SCHEMA 6

enum hx_store_flags {
	HX_STORE_RDONLY = 1 << 0,
	HX_STORE_CREATE = 1 << 1, /* create the directory and tables if missing */
};

/* Opens (or with HX_STORE_CREATE creates) the store in directory dir.
 * HX_EVERSION when another schema version wrote it; HX_ECORRUPT when the
 * file is not an LMDB environment of ours. *out is NULL on error. */
int hx_store_open(hx_store **out, const char *dir, unsigned flags) HX_WUR;
/* Closes and sets *s to NULL. NULL-safe. */
void hx_store_close(hx_store **s);

/* ---- writing ---------------------------------------------------------- */

enum hx_put_flags {
	/* Refuse (HX_EPERM) entries whose author is not in the members table. */
	HX_PUT_MEMBERS_ONLY = 1 << 0,
	/* Do not wake the node serving this store (the node's own writes). */
	HX_PUT_NO_WAKE = 1 << 1,
};

/* One entry to store: its signed canonical bytes and the decoded form
 * (the caller decoded, and verified when it came from outside). */
typedef struct hx_put {
	const uint8_t *raw;
	size_t rawlen;
	const hx_entry *entry;
	int result;      /* out: HX_OK (stored), HX_EEXIST (already had it) or error */
	uint64_t seq;    /* out: change sequence number when stored */
	const char *why; /* out: a static one-line reason for some refusals, or NULL */
} hx_put;

/*
 * Stores n entries in one write transaction: entry, time order, history,
 * current version, search index and reconciliation tree. Entries refused
 * one by one (HX_EPERM not a member, HX_ERECORD a system record that
 * breaks its rules (proto/roster.h), ...) get their own result and do not
 * stop the batch. Returns HX_OK when the transaction committed (then every
 * put[i].result says what happened to it), else an error and nothing was
 * written. *added (may be NULL) counts the new entries. After a commit
 * that stored anything it wakes the node serving the store (hx_store_wake)
 * unless flags has HX_PUT_NO_WAKE.
 */
int hx_store_put_batch(hx_store *s, hx_put *put, size_t n, unsigned flags, size_t *added) HX_WUR;

/* Bulk loads (hansa import, a bundle): entries per write transaction are
 * sized for throughput. Each commit copies every page it touched, and a
 * batch of new documents touches the last posting block of most terms, so
 * small batches rewrite most of the index again and again; a transaction
 * of HX_BULK_BYTES of entries (or HX_BULK_ENTRIES) writes each of those
 * pages once per many thousand entries. */
#define HX_BULK_BYTES ((size_t)16 << 20)
#define HX_BULK_ENTRIES 30000

/* A writer thread for bulk loads (writer.c): hx_store_put_batch of one
 * batch runs on it while the caller builds the next one. */
typedef struct hx_writer hx_writer;
/* Starts the thread (flags as for hx_store_put_batch). HX_ENOMEM only;
 * without a thread, hx_writer_submit writes the batch at once. */
int hx_writer_start(hx_writer **out, hx_store *s, unsigned flags) HX_WUR;
/* Hands put[0..n) over and returns at once. One batch at a time: the
 * caller calls hx_writer_wait before the next submit, and keeps put and
 * everything it points to unchanged until then. */
void hx_writer_submit(hx_writer *w, hx_put *put, size_t n);
/* Waits for the batch handed over (HX_OK when there was none) and returns
 * what hx_store_put_batch returned for it; *added (may be NULL) its count. */
int hx_writer_wait(hx_writer *w, size_t *added) HX_WUR;
/* Waits for a batch in flight, stops the thread, frees; NULL-safe. */
void hx_writer_stop(hx_writer **w);
/* For a caller with a poll loop: a descriptor that turns readable when a
 * batch handed over is done (-1 without a thread: submit writes at once),
 * and whether one is still in flight (1), which also clears the
 * descriptor; when 0, hx_writer_wait returns at once. */
int hx_writer_fd(const hx_writer *w);
int hx_writer_busy(hx_writer *w);

/* The path of the wake-up socket of the node serving this store (a UNIX
 * datagram socket, node.sock in the store's directory), or NULL when that
 * path is too long for a socket address. Borrowed from s. */
const char *hx_store_wake_path(const hx_store *s);
/* Tells the node serving this store, if one runs, that entries were
 * written: one datagram to its wake-up socket, the byte HX_WAKE_ENTRIES.
 * Best effort; never blocks. */
void hx_store_wake(hx_store *s);
/* The same for a change of the members or peers (HX_WAKE_CONFIG):
 * hx_store_member_put/_del and the peer list (node/state.c) call it. */
void hx_store_wake_config(hx_store *s);
#define HX_WAKE_ENTRIES "e"
#define HX_WAKE_CONFIG "m"

/* Timestamp for a new local version of (author, path):
 * max(now, timestamp of its newest version + 1). */
int hx_store_next_timestamp(hx_store *s, const uint8_t author[HX_KEY_LEN], const char *path,
                            uint64_t now, uint64_t *ts) HX_WUR;

/* ---- reading ---------------------------------------------------------- */

/* The entry with this id: decoded into *e (caller clears) and, if raw is
 * not NULL, its signed bytes in *raw (caller frees). HX_ENOTFOUND. */
int hx_store_get(hx_store *s, const uint8_t id[HX_ID_LEN], hx_entry *e, uint8_t **raw,
                 size_t *rawlen) HX_WUR;

/* The current version of (author, path). HX_ENOTFOUND when there is none
 * or when the current version is a tombstone (then *deleted is set to 1 if
 * deleted is not NULL). */
int hx_store_current(hx_store *s, const uint8_t author[HX_KEY_LEN], const char *path, hx_entry *e,
                     int *deleted) HX_WUR;

/* Authors that have a live (not deleted) document at path: up to max keys
 * into authors, the total count in *count. */
int hx_store_path_authors(hx_store *s, const char *path, uint8_t (*authors)[HX_KEY_LEN], size_t max,
                          size_t *count) HX_WUR;

/* Callback for iterations: return 0 to go on, non-zero to stop (that value
 * is then returned by the iterator). e is valid only during the call. */
typedef int (*hx_entry_cb)(void *arg, const hx_entry *e, const uint8_t *raw, size_t rawlen);

/* Current, live documents in path order (a path of several authors in the
 * order the store first met them); author may be NULL for all authors. */
int hx_store_list(hx_store *s, const uint8_t *author, hx_entry_cb cb, void *arg) HX_WUR;

/* Every version of (author, path), oldest first, tombstones included. */
int hx_store_history(hx_store *s, const uint8_t author[HX_KEY_LEN], const char *path,
                     hx_entry_cb cb, void *arg) HX_WUR;

/* Every entry in (timestamp, id) order, starting at timestamp from. */
int hx_store_scan(hx_store *s, uint64_t from, hx_entry_cb cb, void *arg) HX_WUR;

/* (timestamp, id) items in order without decoding entries. */
typedef int (*hx_item_cb)(void *arg, uint64_t ts, const uint8_t id[HX_ID_LEN]);
int hx_store_items(hx_store *s, hx_item_cb cb, void *arg) HX_WUR;

/* Entries stored locally after change sequence number after, in arrival
 * order; *last is set to the greatest sequence number seen. */
typedef int (*hx_change_cb)(void *arg, uint64_t seq, const uint8_t id[HX_ID_LEN]);
int hx_store_changes(hx_store *s, uint64_t after, hx_change_cb cb, void *arg,
                     uint64_t *last) HX_WUR;

/* hx_store_changes for a reader that wants the entries that attach files
 * (the node's blob scan), in one read transaction: skip(arg, seq) (NULL:
 * none skipped) is asked first, and a row it takes (1) is not read; else
 * cb gets e decoded (borrowed for the call) when the stored bytes may
 * carry attachments, NULL when they cannot (format 1: a field map of ten
 * pairs, which the decoder accepts only with keys 0 to 9), for a purged
 * version, or bytes that do not decode. Only entries that may attach files
 * are decoded. */
typedef int (*hx_seq_skip)(void *arg, uint64_t seq);
typedef int (*hx_attach_cb)(void *arg, uint64_t seq, const hx_entry *e);
int hx_store_changes_attached(hx_store *s, uint64_t after, hx_seq_skip skip, hx_attach_cb cb,
                              void *arg, uint64_t *last) HX_WUR;

/* Which of n ids are stored: found[i] = 1 or 0, in one read transaction,
 * without reading the entries (the verify pool's "already stored?"). On
 * an error every found[i] not yet set is 0. */
int hx_store_has_many(hx_store *s, const uint8_t *const ids[], size_t n, uint8_t *found) HX_WUR;

typedef struct hx_store_stats {
	uint64_t entries;   /* all versions, tombstones included */
	uint64_t documents; /* live current documents */
	uint64_t last_seq;
	uint64_t map_used; /* bytes in use in the LMDB map */
} hx_store_stats;
int hx_store_stats_get(hx_store *s, hx_store_stats *st) HX_WUR;

/* ---- purged versions (docs/FORMAT.md §1.8.4) -------------------------- */
/* What a store keeps of a purged version. */
typedef struct hx_purged {
	uint64_t timestamp;
	uint8_t author[HX_KEY_LEN];
	uint8_t purge[HX_ID_LEN]; /* the purge record's id */
	char path[HX_PATH_MAX + 1];
} hx_purged;
/* HX_OK with the stub when id was purged, else HX_ENOTFOUND. hx_store_get
 * says HX_ENOTFOUND for a purged version. */
int hx_store_purged(hx_store *s, const uint8_t id[HX_ID_LEN], hx_purged *out) HX_WUR;
/* Writes zeros over the free pages of the data file, so that the bytes of
 * purged versions are gone from it. hx_store_put_batch calls it after a
 * commit that purged; best effort while other processes hold old
 * snapshots. */
int hx_store_scrub(hx_store *s) HX_WUR;

/* ---- members ---------------------------------------------------------- */
/* A member record is opaque bytes to the store (its format belongs to the
 * member module); the key is the member's identity key. */
int hx_store_member_put(hx_store *s, const uint8_t key[HX_KEY_LEN], const uint8_t *rec,
                        size_t len) HX_WUR;
int hx_store_member_get(hx_store *s, const uint8_t key[HX_KEY_LEN], uint8_t **rec,
                        size_t *len) HX_WUR; /* caller frees */
int hx_store_member_del(hx_store *s, const uint8_t key[HX_KEY_LEN]) HX_WUR;
typedef int (*hx_member_cb)(void *arg, const uint8_t key[HX_KEY_LEN], const uint8_t *rec,
                            size_t len);
int hx_store_member_list(hx_store *s, hx_member_cb cb, void *arg) HX_WUR;

/* ---- small named values (peers, counters, settings) ------------------- */
/* A key-value table for other modules, keys prefixed by the module name
 * ("peer/", "stat/", ...). */
int hx_store_kv_put(hx_store *s, const char *key, const void *val, size_t len) HX_WUR;
int hx_store_kv_get(hx_store *s, const char *key, void **val, size_t *len) HX_WUR;
int hx_store_kv_del(hx_store *s, const char *key) HX_WUR;
typedef int (*hx_kv_cb)(void *arg, const char *key, const void *val, size_t len);
int hx_store_kv_list(hx_store *s, const char *prefix, hx_kv_cb cb, void *arg) HX_WUR;

/* ---- checking --------------------------------------------------------- */

/* Re-verifies every entry and checks every table and the search index
 * against the entries. Each problem is passed to report (one line of text,
 * no newline); *problems counts them. Returns HX_OK when the check ran. */
typedef void (*hx_report_cb)(void *arg, const char *problem);
int hx_store_fsck(hx_store *s, hx_report_cb report, void *arg, uint64_t *problems) HX_WUR;

/* Reads every key and value of every table in one read transaction, so a
 * damaged page shows as HX_ECORRUPT or as a crash: LMDB 0.9 has no page
 * checksums and may fault on one, so callers that must survive a damaged
 * file run this in a child process. *records counts what was read. */
int hx_store_walk(hx_store *s, uint64_t *records) HX_WUR;

/* Writes a compacted, consistent copy of the store into directory dir
 * (created if missing; must not hold a data.mdb) while other processes
 * keep reading and writing it: the copy is the store as of its start.
 * HX_EFULL when the disk is full. */
int hx_store_copy(hx_store *s, const char *dir) HX_WUR;

/* The size of the data file, and how much of it is free pages (LMDB's
 * free list and pages past the last in use) that a compacted copy
 * (hx_store_copy, `hansa compact`) would leave out. */
int hx_store_space(hx_store *s, uint64_t *file_bytes, uint64_t *free_bytes) HX_WUR;

/* Drops and rebuilds the search index from the current documents. */
int hx_store_reindex(hx_store *s, uint64_t *documents) HX_WUR;

/* 1 when hx_store_open found the search index missing or written by
 * another index schema (an older hansa) and rebuilt it, in the open's own
 * write transaction; *documents and *seconds then say how many it indexed
 * and how long it took. 0 when it did not (a read-only open never does:
 * its searches fail until `hansa reindex` or a writable open). */
int hx_store_reindexed(const hx_store *s, uint64_t *documents, double *seconds);

/* Microseconds since the epoch (wall clock). */
uint64_t hx_now_us(void);

#endif

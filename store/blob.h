/*
 * blob.h: the blob store of a hansa node: attached files kept as
 * content-addressed files in blobs/ next to data.mdb, whose state (size,
 * chunk hash list, which chunks a partial blob has) lives in the store's
 * LMDB table "blobs". A blob counts as whole only after every chunk was
 * verified, written, synced and renamed into place (docs/FORMAT.md §3).
 * Layout of the table and the folder: store/blob.c.
 */
#ifndef HX_BLOB_H
#define HX_BLOB_H

#include "store/store.h"

/* Default limits (options: hx_blob_set_limits). Anything over a limit is
 * refused with HX_ELIMIT, counted (hx_blob_stats.refused), never stored. */
#define HX_BLOB_FILE_MAX ((uint64_t)512 << 20) /* largest file */
#define HX_BLOB_SPACE_MAX ((uint64_t)64 << 30) /* all blobs, whole and partial */
/* gc leaves blobs younger than this alone, so that a blob added for an
 * entry that is being published (or received) is not taken first. */
#define HX_BLOB_GC_GRACE_US ((uint64_t)600 * 1000000)

enum hx_blob_state {
	HX_BLOB_NONE = 0,    /* not here */
	HX_BLOB_PARTIAL = 1, /* receiving: hash list known, some chunks present */
	HX_BLOB_WHOLE = 2,   /* every chunk verified and in place */
};

/* Sets the limits for this handle (0 keeps the current one). */
void hx_blob_set_limits(hx_store *s, uint64_t file_max, uint64_t space_max);

/* The state of blob hash: *state is an hx_blob_state (HX_BLOB_NONE when
 * absent, and then HX_OK is returned); size and have (chunks present) may
 * be NULL. */
int hx_blob_state(hx_store *s, const uint8_t hash[HX_ID_LEN], int *state, uint64_t *size,
                  uint32_t *have) HX_WUR;

/* The chunk hash list of a whole or partial blob: *n hashes of HX_ID_LEN
 * bytes in *hashes (caller frees). HX_ENOTFOUND when absent. */
int hx_blob_hashes(hx_store *s, const uint8_t hash[HX_ID_LEN], uint64_t *size, uint8_t **hashes,
                   uint32_t *n) HX_WUR;

/* Reads chunk i (of a whole blob, or a present chunk of a partial one) into
 * buf (HX_CHUNK_SIZE bytes); *len is its length. The bytes are checked
 * against the chunk's hash before they are returned: HX_ECORRUPT when the
 * file on disk was damaged. HX_ENOTFOUND when the blob or chunk is absent. */
int hx_blob_read_chunk(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i, uint8_t *buf,
                       size_t *len) HX_WUR;
/* The same without hashing the bytes, for a caller that checked this chunk
 * of this blob before (a serving node checks each chunk once per run). A
 * short file is still HX_ECORRUPT. */
int hx_blob_read_chunk_checked_before(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i,
                                      uint8_t *buf, size_t *len) HX_WUR;
/* The same for serving chunk i to a peer: the bytes are hashed unless the
 * blob is whole and marked checked (hashed when it was added, or made of
 * chunks each checked on arrival, or scrubbed since) and its file's stat
 * (size, inode, mtime, ctime) is still the one recorded then; *hashed says
 * whether they were. The receiver checks every chunk anyway, and the scrub
 * (hx_blob_scrub) catches damage that leaves the stat alone. */
int hx_blob_read_chunk_serve(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i, uint8_t *buf,
                             size_t *len, int *hashed) HX_WUR;

/* ---- receiving (blob replication) -------------------------------------- */

/* Begins (or resumes) receiving blob hash of size bytes whose chunk hashes
 * are hashes (hx_blob_chunks(size) of them). HX_EFORGED when the list does
 * not hash to hash; HX_ELIMIT (counted) when size or the space is over a
 * limit; HX_EEXIST when the blob is already whole; HX_OK when a partial
 * blob is ready (a second call on a partial blob keeps its chunks). */
int hx_blob_begin(hx_store *s, const uint8_t hash[HX_ID_LEN], uint64_t size,
                  const uint8_t *hashes) HX_WUR;

/* Writes chunk i of a partial blob. The data must be the chunk's full
 * length and hash to its entry in the hash list: HX_EFORGED (nothing
 * written) when it does not, HX_EINVAL for a wrong index or length,
 * HX_ENOTFOUND when no receive was begun, HX_EEXIST when the chunk (or the
 * whole blob) is already here. The chunk is on disk (synced) and present
 * when HX_OK returns: a batch of one (below). */
int hx_blob_write_chunk(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i, const uint8_t *data,
                        size_t len) HX_WUR;

/* Receiving in batches: one sync and one LMDB commit for many chunks.
 * hx_blob_batch_write checks chunk i as hx_blob_write_chunk does and writes
 * it at its offset, but the chunk is not present yet: it counts (for
 * hx_blob_missing, hx_blob_finish, hx_blob_read_chunk) only once
 * hx_blob_batch_commit synced every file written to and then marked all
 * the batch's chunks present in one LMDB commit. A crash, a failed commit
 * or hx_blob_batch_free without a commit leaves them absent: the blob stays
 * partial without them and they are fetched again. A batch is used with
 * one store handle. */
typedef struct hx_blob_batch hx_blob_batch;
int hx_blob_batch_new(hx_blob_batch **b) HX_WUR;
/* As hx_blob_write_chunk, and HX_EEXIST also for a chunk already in b. */
int hx_blob_batch_write(hx_store *s, hx_blob_batch *b, const uint8_t hash[HX_ID_LEN], uint32_t i,
                        const uint8_t *data, size_t len) HX_WUR;
/* Chunks written to b and not yet committed. */
size_t hx_blob_batch_pending(const hx_blob_batch *b);
/* Syncs and marks b's chunks present; b is empty afterwards, also on error
 * (then none of them is present). Chunks of a blob that was dropped or
 * became whole meanwhile are left out. */
int hx_blob_batch_commit(hx_store *s, hx_blob_batch *b) HX_WUR;
/* Frees b; chunks not committed stay absent. NULL is fine. */
void hx_blob_batch_free(hx_blob_batch *b);

/* Up to max indexes of chunks a partial blob still lacks, in order, into
 * idx; *count is the total missing. A whole blob has none; HX_ENOTFOUND
 * when absent. */
int hx_blob_missing(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t *idx, size_t max,
                    size_t *count) HX_WUR;

/* Makes a partial blob whose chunks are all present whole (rename into
 * place, state whole). HX_OK (also when it was already whole), HX_EBUSY
 * when chunks are still missing, HX_ENOTFOUND when absent. */
int hx_blob_finish(hx_store *s, const uint8_t hash[HX_ID_LEN]) HX_WUR;

/* ---- local use --------------------------------------------------------- */

/* Adds the file at path (or the open descriptor fd, read to its end) as a
 * whole blob, hashing while copying: *hash and *size (may be NULL) say
 * what it became. HX_ELIMIT (counted) when it is over a limit, HX_EIO when
 * it cannot be read. Adding a blob that is already whole is HX_OK. */
int hx_blob_add_file(hx_store *s, const char *path, uint8_t hash[HX_ID_LEN], uint64_t *size) HX_WUR;
int hx_blob_add_fd(hx_store *s, int fd, uint8_t hash[HX_ID_LEN], uint64_t *size) HX_WUR;
/* The same for bytes in memory. */
int hx_blob_add_mem(hx_store *s, const void *data, size_t len, uint8_t hash[HX_ID_LEN]) HX_WUR;

/* Opens a whole blob for reading: *fd (caller closes) and *size.
 * HX_ENOTFOUND when it is not whole here. */
int hx_blob_open(hx_store *s, const uint8_t hash[HX_ID_LEN], int *fd, uint64_t *size) HX_WUR;

/* Copies a whole blob to the file out (created or truncated, written via a
 * temporary file and renamed), checking every chunk on the way:
 * HX_ECORRUPT when the blob on disk does not match its hash. */
int hx_blob_copy_out(hx_store *s, const uint8_t hash[HX_ID_LEN], const char *out) HX_WUR;

/* Writes a whole blob to fd, checking every chunk first: HX_ECORRUPT
 * (some bytes may already be written) when it does not match its hash. */
int hx_blob_write_fd(hx_store *s, const uint8_t hash[HX_ID_LEN], int fd) HX_WUR;

/* Removes a blob (whole or partial). HX_ENOTFOUND when absent. */
int hx_blob_drop(hx_store *s, const uint8_t hash[HX_ID_LEN]) HX_WUR;

/* Every blob in hash order; return non-zero from cb to stop. */
typedef int (*hx_blob_cb)(void *arg, const uint8_t hash[HX_ID_LEN], int state, uint64_t size);
int hx_blob_list(hx_store *s, hx_blob_cb cb, void *arg) HX_WUR;

typedef struct hx_blob_stats {
	uint64_t whole, partial; /* blobs */
	uint64_t bytes;          /* space taken: sizes of whole and partial blobs */
	uint64_t refused;        /* blobs refused for a limit, ever */
	uint64_t bad_chunks;     /* chunks refused for a wrong hash, ever */
} hx_blob_stats;
int hx_blob_stats_get(hx_store *s, hx_blob_stats *st) HX_WUR;

/* Re-hashes every whole blob and checks every partial one's present chunks
 * and the table against the folder. Problems go to report; *problems
 * counts them. */
int hx_blob_fsck(hx_store *s, hx_report_cb report, void *arg, uint64_t *problems) HX_WUR;

/* ---- scrub ------------------------------------------------------------- */

/* The whole blob checked longest ago: its hash and *at, when it was
 * checked (0: never, or its file's stat changed since). HX_ENOTFOUND when
 * there is no whole blob. */
int hx_blob_scrub_next(hx_store *s, uint8_t hash[HX_ID_LEN], uint64_t *at) HX_WUR;

/* Called after each chunk the scrub read (len bytes); non-zero stops it. */
typedef int (*hx_blob_pace_fn)(void *arg, size_t len);

/* Re-hashes every chunk of whole blob hash (pace may be NULL). All match:
 * its checked mark is renewed and *bad is 0. Some do not (*bad of them):
 * the blob becomes partial without them, so it is no longer served whole
 * and they are fetched again from peers; its mark and text go. HX_EBUSY
 * when stopped or when the file changed meanwhile (nothing changed, try
 * again later), HX_ENOTFOUND when the blob is not whole here. */
int hx_blob_scrub(hx_store *s, const uint8_t hash[HX_ID_LEN], hx_blob_pace_fn pace, void *arg,
                  uint32_t *bad) HX_WUR;

/* One attachment of a current version: the blob, the version's id and the
 * file's name. */
typedef struct hx_blob_ref {
	uint8_t hash[HX_ID_LEN];
	uint8_t id[HX_ID_LEN];
	char name[256];
} hx_blob_ref;

/* Every attachment of every current, live version, sorted by hash (a blob
 * attached twice has two rows): *refs (caller frees) and *n. */
int hx_blob_refs(hx_store *s, hx_blob_ref **refs, size_t *n) HX_WUR;
/* The first row of refs[n] (sorted) for hash, or NULL. */
const hx_blob_ref *hx_blob_ref_find(const hx_blob_ref *refs, size_t n,
                                    const uint8_t hash[HX_ID_LEN]);

/* Removes blobs that no current version references (older than
 * HX_BLOB_GC_GRACE_US unless grace_us says otherwise; pass 0 for none) and
 * stray files in the folder. *removed and *bytes (may be NULL) say what
 * went. */
int hx_blob_gc(hx_store *s, uint64_t grace_us, uint64_t *removed, uint64_t *bytes) HX_WUR;

#endif

/*
 * blobio.h: the blob store operations the node's blob replication needs
 * (node/blobsync.c, blobserve.c, `hansa fetch`, bench_blobsync), in one
 * place. A stand-in (node/blobio.c, files in HOME/store/blobs/) until the
 * blob store of branch `blob` (store/blob.[ch]) is merged; then these
 * become calls into it. Hashes are blob hashes (FORMAT.md §1.7); bitmaps
 * have bit i (byte i / 8, bit i % 8) set for chunk i held.
 */
#ifndef HX_NODE_BLOBIO_H
#define HX_NODE_BLOBIO_H

#include "store/store.h"

/* HX_OK when the blob is held whole, else HX_ENOTFOUND. */
int hx_bio_has(hx_store *s, const uint8_t hash[HX_ID_LEN]) HX_WUR;
/* A blob being received: its chunk hash list in *hashes (caller frees);
 * HX_ENOTFOUND when none is. */
int hx_bio_partial(hx_store *s, const uint8_t hash[HX_ID_LEN], uint8_t **hashes) HX_WUR;
/* Starts (or continues) receiving a blob whose hash list was checked. */
int hx_bio_recv_begin(hx_store *s, const uint8_t hash[HX_ID_LEN], uint64_t size,
                      const uint8_t *hashes) HX_WUR;
/* The chunks of a blob being received that are kept (caller frees). */
int hx_bio_held(hx_store *s, const uint8_t hash[HX_ID_LEN], uint8_t **bitmap) HX_WUR;
/* Keeps chunk i (checked by the caller against its hash). */
int hx_bio_recv_chunk(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i, const uint8_t *d,
                      size_t len) HX_WUR;
/* Every chunk is kept: the blob becomes whole (checked as a whole). */
int hx_bio_recv_finish(hx_store *s, const uint8_t hash[HX_ID_LEN]) HX_WUR;
/* Size and hash list of a blob held whole or in part; held (may be NULL)
 * gets the bitmap, NULL when whole. Caller frees. HX_ENOTFOUND. */
int hx_bio_list(hx_store *s, const uint8_t hash[HX_ID_LEN], uint64_t *size, uint8_t **hashes,
                uint8_t **held) HX_WUR;
/* Reads chunk i of a blob held (whole or that chunk) into buf
 * (HX_CHUNK_SIZE bytes of room); HX_ENOTFOUND. */
int hx_bio_read_chunk(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i, uint8_t *buf,
                      size_t *len) HX_WUR;
/* Bytes all blobs take, whole and partial. */
int hx_bio_space_used(hx_store *s, uint64_t *used) HX_WUR;
/* Adds a local file as a blob (hash and size out). */
int hx_bio_put_file(hx_store *s, const char *file, uint8_t hash[HX_ID_LEN], uint64_t *size) HX_WUR;

#endif

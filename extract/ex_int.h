/*
 * ex_int.h: what the parts of the extractor's child process share: the
 * sink that sanitises text, counts it against the limits and writes it to
 * the parent as frames (extract/worker.c), and the format readers
 * (ex_pdf.c, ex_office.c). Not for use outside extract/.
 */
#ifndef HX_EX_INT_H
#define HX_EX_INT_H

#include <stddef.h>
#include <stdint.h>
#include "extract/extract.h"

/* Frame types on the pipe (extract/worker.c has the byte table). */
#define EX_FRAME_TEXT 'T'
#define EX_FRAME_FAIL 'F'
#define EX_FRAME_DONE 'K'
#define EX_FRAME_HEAD 9                /* type, page (u32 BE), length (u32 BE) */
#define EX_FRAME_MAX ((size_t)1 << 16) /* text bytes in one frame, at most */
#define EX_MAX_PAGE 1000000u           /* pages or slides, at most */

#if defined(__SANITIZE_ADDRESS__)
#define EX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EX_ASAN 1
#endif
#endif

struct ex_sink {
	int fd;                   /* the pipe to the parent */
	size_t limit, total;      /* text bytes: limit, emitted so far */
	size_t inflate, inflated; /* zip members: limit, inflated so far */
	uint32_t page;            /* the page the buffered text belongs to */
	char buf[EX_FRAME_MAX + 8];
	size_t len;    /* bytes in buf */
	char why[192]; /* the first failure's reason */
};

/* Appends text of page (>= the current page) to the sink: invalid UTF-8
 * becomes U+FFFD (latin1: each byte is a Latin-1 character instead),
 * control characters but tab and newline become spaces, NUL is dropped.
 * Returns 0, or -1 with s->why set (over the text limit, pipe closed). */
int ex_emit(struct ex_sink *s, uint32_t page, const char *text, size_t len, int latin1);

/* Writes the buffered text as a frame; 0 or -1 with s->why set. */
int ex_flush(struct ex_sink *s);

/* Writes one frame (type, page, n bytes of payload); 0 or -1. */
int ex_put_frame(int fd, int type, uint32_t page, const void *p, size_t n);

/* write(2) until all of it is written; 0 or -1. */
int ex_write_all(int fd, const void *p, size_t n);

/* Sets s->why (printf format) unless a reason is set already; returns -1. */
int ex_fail(struct ex_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes n bytes as "4 MiB", "2.0 GiB", "300 KiB", "17 bytes". */
void ex_human(char *out, size_t outlen, uint64_t n);

/* The readers: the file is fd (a regular file, readable from offset 0).
 * Each returns 0 or -1 with s->why set. ex_office also says which format
 * the archive held (*fmt), and refuses an archive that is none of them. */
int ex_pdf(struct ex_sink *s, int fd);
int ex_office(struct ex_sink *s, int fd, enum hx_extract_format *fmt);

#endif

/*
 * ex_sink.c: the extractor child's output: text made clean UTF-8, counted
 * against the text limit and written to the parent as frames (the byte
 * table is in extract/worker.c). Called by the format readers and the
 * worker; calls nothing of theirs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>
#include "extract/ex_int.h"

int ex_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int ex_put_frame(int fd, int type, uint32_t page, const void *p, size_t n)
{
	uint8_t h[EX_FRAME_HEAD];
	h[0] = (uint8_t)type;
	hx_be32_put(h + 1, page);
	hx_be32_put(h + 5, (uint32_t)n);
	return ex_write_all(fd, h, sizeof h) || (n && ex_write_all(fd, p, n)) ? -1 : 0;
}

int ex_fail(struct ex_sink *s, const char *fmt, ...)
{
	va_list ap;
	if (s->why[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof s->why, fmt, ap);
	va_end(ap);
	return -1;
}

int ex_flush(struct ex_sink *s)
{
	if (!s->len)
		return 0;
	if (ex_put_frame(s->fd, EX_FRAME_TEXT, s->page, s->buf, s->len))
		return ex_fail(s, "cannot write to the parent");
	s->len = 0;
	return 0;
}

int ex_emit(struct ex_sink *s, uint32_t page, const char *text, size_t len, int latin1)
{
	const uint8_t *p = (const uint8_t *)text, *end = p + len;

	if (page < s->page || page > EX_MAX_PAGE)
		return ex_fail(s, "page %u out of order", (unsigned)page);
	if (page != s->page && ex_flush(s))
		return -1;
	s->page = page;
	while (p < end) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k;
		if (latin1) {
			c = *p;
			k = 1;
		} else if ((k = utf8proc_iterate(p, end - p, &c)) < 0) {
			c = 0xFFFD;
			k = 1;
		}
		p += k;
		if (c == 0)
			continue;
		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f || (c >= 0x80 && c < 0xa0))
			c = ' ';
		if (s->len + 4 > EX_FRAME_MAX && ex_flush(s))
			return -1;
		utf8proc_ssize_t n = utf8proc_encode_char(c, (uint8_t *)s->buf + s->len);
		s->len += (size_t)n;
		s->total += (size_t)n;
		if (s->total > s->limit) {
			char h[32];
			ex_human(h, sizeof h, s->limit);
			return ex_fail(s, "over the %s text limit", h);
		}
	}
	return 0;
}

/*
 * file.c: folders, durable renames and the whole-file reader (see file.h).
 * The lowest file of cli/: identity.c, util.c and the commands use it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli/file.h"

int hx_mkdirs(const char *dir, mode_t mode)
{
	char p[4096];
	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, mode) && errno != EEXIST ? -1 : 0;
}

int hx_fsync_parent(const char *path)
{
	char dir[4200];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Reads f to its end in growing chunks: a stream has no size to trust, and
 * a regular file may change size while it is read. */
static int read_all(FILE *f, size_t max, char **buf, size_t *len, const char **why)
{
	size_t cap = 0, n = 0;
	char *b = NULL;

	for (;;) {
		/* room for a chunk, one byte past max (to see excess) and the NUL */
		size_t want = n + 65536 < max + 2 ? n + 65536 : max + 2;
		char *nb = hx_grow(b, &cap, want, 1);
		if (!nb) {
			free(b);
			*why = "out of memory";
			return HX_ENOMEM;
		}
		b = nb;
		size_t got = fread(b + n, 1, cap - 1 - n, f);
		n += got;
		if (n > max) {
			free(b);
			*why = "larger than the limit";
			return HX_ELIMIT;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(b);
		*why = "read error";
		return HX_EIO;
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	return HX_OK;
}

int hx_file_read(const char *name, size_t max, char **buf, size_t *len, const char **why)
{
	int is_stdin = !strcmp(name, "-");
	FILE *f = is_stdin ? stdin : fopen(name, "rb");
	struct stat st;
	int rc;

	*buf = NULL;
	*len = 0;
	*why = NULL;
	if (!f) {
		*why = strerror(errno);
		return errno == ENOENT ? HX_ENOTFOUND : HX_EIO;
	}
	if (fstat(fileno(f), &st)) {
		*why = strerror(errno);
		rc = HX_EIO;
	} else if (S_ISDIR(st.st_mode)) {
		*why = "is a folder";
		rc = HX_EINVAL;
	} else if (!is_stdin && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		*why = "larger than the limit"; /* said before reading any of it */
		rc = HX_ELIMIT;
	} else {
		rc = read_all(f, max, buf, len, why);
	}
	if (!is_stdin)
		fclose(f);
	return rc;
}

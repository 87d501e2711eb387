/*
 * extract.h: text from an attachment (PDF, OpenDocument, Office Open XML,
 * plain text, Markdown) for the search index, taken out in a sandboxed child
 * process, because a file from another partner is hostile input. The caller
 * gets a list of parts {page, UTF-8 text} or an error with a one-line
 * reason to log (then it indexes the file by name only). docs/SEARCH.md
 * "Text inside attachments" describes formats, limits and the sandbox.
 */
#ifndef HX_EXTRACT_H
#define HX_EXTRACT_H

#include <stddef.h>
#include <stdint.h>
#include "proto/hx.h"

/* Default limits (each a field of struct hx_extract_limits). */
#define HX_EXTRACT_WALL_MS 20000               /* wall time, then SIGKILL */
#define HX_EXTRACT_CPU_S 20                    /* RLIMIT_CPU of the child */
#define HX_EXTRACT_MEMORY ((size_t)512 << 20)  /* RLIMIT_AS of the child */
#define HX_EXTRACT_TEXT ((size_t)4 << 20)      /* text returned, in bytes */
#define HX_EXTRACT_INFLATE ((size_t)256 << 20) /* zip members inflated, in all */
#define HX_EXTRACT_FILE ((uint64_t)512 << 20)  /* the input file */
#define HX_EXTRACT_WORKER_ARG "extract-worker" /* argv[1] of the child */
/* The pid of the process that started a worker: the worker dies with it */
#define HX_EXTRACT_PARENT_ENV "HANSA_EXTRACT_PARENT"
#define HX_EXTRACT_HOOK_ENV "HANSA_EXTRACT_TEST_HOOK" /* tests only: see worker.c */

struct hx_extract_limits {
	unsigned wall_ms;   /* HX_EXTRACT_WALL_MS */
	unsigned cpu_s;     /* HX_EXTRACT_CPU_S */
	size_t memory;      /* HX_EXTRACT_MEMORY */
	size_t text;        /* HX_EXTRACT_TEXT: more is an error, not a cut */
	size_t inflate;     /* HX_EXTRACT_INFLATE */
	uint64_t file;      /* HX_EXTRACT_FILE */
	const char *worker; /* the program run as `WORKER extract-worker ...`;
	                     * NULL: /proc/self/exe, when this program hosts the
	                     * worker (hx_extract_dispatch), else an error */
};

/* What was found in the file, from its bytes (never from the declared
 * media type alone). */
enum hx_extract_format {
	HX_EXTRACT_UNKNOWN = 0,
	HX_EXTRACT_PDF,
	HX_EXTRACT_ODT,
	HX_EXTRACT_ODS,
	HX_EXTRACT_ODP,
	HX_EXTRACT_DOCX,
	HX_EXTRACT_XLSX,
	HX_EXTRACT_PPTX,
	HX_EXTRACT_TEXT_PLAIN,
	HX_EXTRACT_MARKDOWN,
	HX_EXTRACT_NFORMATS
};

struct hx_extract_part {
	uint32_t page; /* 1-based (PDF page, presentation slide); 0: the format has none */
	size_t len;    /* bytes of text, without the NUL */
	char *text;    /* NUL-terminated, valid UTF-8 (hx_utf8_valid), owned by the result */
};

typedef struct hx_extract_result {
	enum hx_extract_format format;
	size_t nparts;                 /* parts in file order; pages ascending */
	struct hx_extract_part *parts; /* owned; hx_extract_result_free */
	size_t total;                  /* text bytes in all parts */
	char why[192];                 /* on failure: one line, no newline ("timed out
	                                * after 20 s", "killed by signal 11 (SIGSEGV)",
	                                * "over the 4 MiB text limit", "zip entry
	                                * word/document.xml would inflate to 2.0 GiB") */
} hx_extract_result;

/* Fills lim with the defaults above. */
void hx_extract_limits_default(struct hx_extract_limits *lim);

/* Extracts the text of the file at path (name: the attachment's file name,
 * whose extension is a hint; NULL: the path's last component; media_type:
 * the declared type, a hint only, may be NULL; lim NULL: the defaults).
 * Runs `lim->worker extract-worker` in a child process with the limits and
 * reads its output over a pipe, checking all of it. Returns HX_OK with out
 * filled (the caller frees it with hx_extract_result_free), or an error with
 * out->why set and no parts: HX_ETIMEOUT (wall time), HX_ELIMIT (a limit:
 * text, memory, CPU, inflation, file size), HX_EPROTO (a damaged or
 * unsupported file, a crashed child, malformed output), HX_EIO (the file
 * cannot be read or the child cannot start), HX_ENOMEM. Blocks for at most
 * about lim->wall_ms. Thread-safe; the caller's SIGCHLD disposition must not
 * be SIG_IGN (the exit status is needed). */
int hx_extract_path(const char *path, const char *name, const char *media_type,
                    const struct hx_extract_limits *lim, hx_extract_result *out) HX_WUR;

/* As hx_extract_path, from an open file descriptor of a regular file (read
 * from offset 0 by the child, which moves the shared file offset; the
 * caller keeps the descriptor and closes it). */
int hx_extract_fd(int fd, const char *name, const char *media_type,
                  const struct hx_extract_limits *lim, hx_extract_result *out) HX_WUR;

/* Frees the parts and zeroes r; NULL-safe. */
void hx_extract_result_free(hx_extract_result *r);

/* "pdf", "odt", ..., "text", "markdown", "unknown"; static storage. */
const char *hx_extract_format_name(enum hx_extract_format f);

/* The child's side. A program that hosts the worker calls this first thing
 * in main when argv[1] is HX_EXTRACT_WORKER_ARG, and returns its result:
 * it reads the file on fd 0, writes frames on fd 1 (extract/worker.c
 * describes them), after setting its limits and sandbox. */
int hx_extract_worker_main(int argc, char **argv);

/* What a program that hosts the worker calls first thing in main: when
 * argv[1] is HX_EXTRACT_WORKER_ARG it runs the worker, puts its exit code
 * in *rc and returns 1 (main returns *rc); otherwise it records that
 * /proc/self/exe can be the worker and returns 0. A program that never
 * calls it (a test or benchmark running a node in-process) does not run
 * itself as a worker: it would start its own main again, and again. */
int hx_extract_dispatch(int argc, char **argv, int *rc);

#endif

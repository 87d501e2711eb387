/*
 * log.c: log lines for the journal or a terminal (see log.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "cli/log.h"

int hx_log_to_journal(void)
{
	static int known, journal;
	const char *js;
	unsigned long long dev, ino;
	struct stat st;

	if (known)
		return journal;
	known = 1;
	/* systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of the stream;
	 * it counts only while stderr is still that stream. */
	js = getenv("JOURNAL_STREAM");
	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
		journal = 1;
	return journal;
}

void hx_log(enum hx_log_level level, const char *line)
{
	char clean[1024], when[40];
	size_t i = 0;

	for (; line[i] && i < sizeof clean - 1; i++)
		clean[i] = (unsigned char)line[i] < 0x20 || line[i] == 0x7f ? ' ' : line[i];
	clean[i] = 0;
	if (hx_log_to_journal())
		fprintf(stderr, "<%d>%s\n", (int)level, clean);
	else
		fprintf(stderr, "%s %s\n", hx_time_text(when, sizeof when, hx_now_us()), clean);
	fflush(stderr);
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

enum hx_log_level hx_log_level_of(const char *line)
{
	static const char *const warn[] = {
		"refused",   "bad message",         "malformed", "cannot",     "send to",
		"sync with", "reconciliation with", "clock of",  "hello from", NULL
	};
	if (starts(line, "cannot store"))
		return HX_LOG_ERR;
	for (int i = 0; warn[i]; i++)
		if (starts(line, warn[i]))
			return HX_LOG_WARNING;
	if (strstr(line, " did not ") || strstr(line, " abandoned ") ||
	    strstr(line, "before hello"))
		return HX_LOG_WARNING;
	if (starts(line, "listening") || starts(line, "peer ") || starts(line, "stopped") ||
	    starts(line, "connecting to") || starts(line, "no longer"))
		return HX_LOG_NOTICE;
	return HX_LOG_INFO;
}

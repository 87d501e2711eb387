/*
 * log.h: log lines of the long-running commands (serve, backup --every) on
 * stderr. On a terminal or in a file each line starts with an ISO 8601 UTC
 * time; when stderr is the systemd journal (JOURNAL_STREAM names it) the
 * line starts instead with the journal's "<N>" syslog level prefix and has
 * no time of its own (the journal adds one).
 */
#ifndef HX_CLI_LOG_H
#define HX_CLI_LOG_H

/* syslog(3) levels, as the journal reads them in a "<N>" prefix. */
enum hx_log_level { HX_LOG_ERR = 3, HX_LOG_WARNING = 4, HX_LOG_NOTICE = 5, HX_LOG_INFO = 6 };

/* Writes one line (a newline or control character inside becomes a space). */
void hx_log(enum hx_log_level level, const char *line);

/* The level of one of the node's log lines (node/ logs text only): refusals
 * and failures are warnings, peers coming and going notices, the rest info. */
enum hx_log_level hx_log_level_of(const char *line);

/* 1 when stderr is the journal stream systemd set up for this service. */
int hx_log_to_journal(void);

#endif

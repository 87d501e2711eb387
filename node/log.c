/*
 * log.c: the node's log lines (through cfg.log, which the caller provides;
 * also called from the node's threads) and the short hex of keys and hashes
 * they use.
 */
#include <stdarg.h>
#include <stdio.h>
#include "node/node_int.h"

void hx_nd_log(hx_node *n, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if (!n->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	n->cfg.log(n->cfg.log_arg, line);
}

const char *hx_nd_short_hex(char out[17], const uint8_t *b)
{
	hx_hex(out, b, 8);
	return out;
}

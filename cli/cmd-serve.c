/*
 * cmd-serve.c: `hansa serve`: runs this node in the foreground: listens for
 * members, connects to the peers, reconciles, pushes and relays entries,
 * and logs one line per event on stderr until SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include "cli/log.h"
#include "cli/ops.h"
#include "cli/net.h"
#include "proto/negentropy.h"
#include "node/node.h"
#include "node/state.h"
#include "web/web.h" /* web app: --http */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ops: a level per line for the journal (cli/log.c); readiness for
 * systemd (Type=notify) once the node listens: node/ says so only in its
 * log, and sd_notify does nothing without NOTIFY_SOCKET. */
static void log_line(void *arg, const char *line)
{
	(void)arg;
	hx_log(hx_log_level_of(line), line);
	if (!strncmp(line, "listening on ", 13))
		sd_notifyf(0, "READY=1\nSTATUS=%s", line);
}

/* Parses a positive number (seconds may have decimals); 0 on error. */
static double number(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	return *s && !*end && v > 0 && v < 1e9 ? v : 0;
}

/* --blob-auto, --blob-max, --blob-space, --blob-transfers, --blob-rate,
 * --scrub-rate, --scrub-every. */
static int blob_opts(const struct hx_args *a, hx_node_config *cfg)
{
	const char *names[] = { "blob-auto", "blob-max", "blob-space", "blob-rate", "scrub-rate" };
	uint64_t *dst[] = { &cfg->blob_auto, &cfg->blob_max, &cfg->blob_space, &cfg->blob_rate,
		            &cfg->scrub_rate };
	const char *arg;
	for (int i = 0; i < 5; i++)
		if ((arg = hx_arg_value(a, names[i])) && !(*dst[i] = hx_size_arg(arg)))
			return hx_fail("--%s: '%s' is not a size (bytes, or with K, M or G)",
			               names[i], arg);
	if ((arg = hx_arg_value(a, "blob-transfers"))) {
		double v = number(arg);
		if (!v || v > 64 || v != (int)v)
			return hx_fail("--blob-transfers: a number from 1 to 64");
		cfg->blob_transfers = (unsigned)v;
	}
	if ((arg = hx_arg_value(a, "scrub-every"))) {
		double v = number(arg);
		if (!v || v != (uint64_t)v)
			return hx_fail("--scrub-every: '%s' is not a whole number of seconds", arg);
		cfg->scrub_every_s = (uint64_t)v;
	}
	return HX_EXIT_OK;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	hx_node_config cfg = { .log = log_line, .verbose = hx_arg_count(a, "verbose") > 0 };
	char bind[HX_ENDPOINT_MAX + 1] = "";
	const char *bindarg = hx_arg_value(a, "bind"), *arg, *http = hx_arg_value(a, "http");
	double v;

	if ((arg = hx_arg_value(a, "interval"))) {
		if (!(v = number(arg)))
			return hx_fail("--interval: '%s' is not a number of seconds", arg);
		cfg.recon_interval_ms = (unsigned)(v * 1000) ? (unsigned)(v * 1000) : 1;
	}
	if ((arg = hx_arg_value(a, "frame-limit"))) {
		if (!(v = number(arg)) || v < HX_NE_FRAME_MIN || v > HX_WIRE_FRAME_MAX - 64)
			return hx_fail("--frame-limit: a number of bytes from 4096 to %u",
			               HX_WIRE_FRAME_MAX - 64);
		cfg.ne_frame_limit = (uint32_t)v;
	}
	if ((arg = hx_arg_value(a, "threads"))) {
		if (!(v = number(arg)) || v > 64 || v != (int)v)
			return hx_fail("--threads: a number from 1 to 64");
		cfg.threads = (unsigned)v;
	}
	if (blob_opts(a, &cfg))
		return HX_EXIT_FAIL;
	if (http && hx_web_addr_check(http) < 0)
		return hx_fail("--http: '%s' is not HOST:PORT (an IP address or localhost) or off",
		               http);
	char dir[4200]; /* a damaged store file gives one line, not a crash */
	if (hx_home_path(ctx, "store", dir, sizeof dir) || hx_cli_store_check(dir))
		return HX_EXIT_FAIL;
	if (hx_cli_ensure_self(ctx))
		return HX_EXIT_FAIL;
	hx_store *s = ctx->store;
	if (bindarg) {
		if (hx_endpoint_check(bindarg) || strncmp(bindarg, "tcp://", 6))
			return hx_fail("--bind: '%s' is not tcp://ADDRESS:PORT", bindarg);
		snprintf(bind, sizeof bind, "%s", bindarg);
	} else if (hx_setting_get(s, "bind", bind, sizeof bind)) {
		snprintf(bind, sizeof bind, "%s", HX_DEFAULT_BIND);
	}
	hx_daemon_info d;
	if (hx_daemon_get(s, &d) == HX_OK && d.pid != (uint64_t)getpid() && hx_cli_pid_alive(d.pid))
		return hx_fail("a node (pid %llu) already serves %s on %s",
		               (unsigned long long)d.pid, ctx->home, d.bind);
	if (bindarg && hx_setting_put(s, "bind", bind))
		return hx_fail("cannot save the bind address");

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	cfg.pk = hx_ctx_node_key(ctx);
	cfg.sk = ctx->sk;
	cfg.curve_pk = ctx->curve_pk;
	cfg.curve_sk = ctx->curve_sk;
	cfg.bind = bind;
	hx_node *n;
	int rc = hx_node_new(&n, s, &cfg);
	if (rc)
		return hx_fail("cannot start the node: %s", hx_strerror(rc));
	/* ---- web app (web/): --http ADDR, default HX_WEB_DEFAULT; a busy
	 * default port only costs the app, an explicit address must work */
	hx_web *web = NULL;
	if (!http || strcmp(http, "off")) {
		char err[512], line[600];
		if (hx_web_start(&web, ctx, http ? http : HX_WEB_DEFAULT, log_line, err,
		                 sizeof err)) {
			if (http) {
				hx_node_destroy(&n);
				return hx_fail("%s", err);
			}
			snprintf(line, sizeof line, "no web app: %s", err);
		} else {
			snprintf(line, sizeof line, "web app on %s", hx_web_url(web));
		}
		log_line(NULL, line);
	}
	rc = hx_node_run(n, &stop);
	hx_web_stop(&web);
	if (rc) {
		const char *why = hx_node_error(n);
		if (why)
			hx_fail("%s", why);
		else
			hx_fail("the node failed: %s", hx_strerror(rc));
		hx_node_destroy(&n);
		return HX_EXIT_FAIL;
	}
	sd_notify(0, "STOPPING=1"); /* ops */
	hx_node_destroy(&n);
	log_line(NULL, "stopped");
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "bind", 0, "tcp://ADDRESS:PORT",
	  "where to listen (default: the last --bind, else " HX_DEFAULT_BIND
	  "); remembered for 'hansa invite'",
	  0 },
	{ "interval", 0, "SECONDS", "seconds between anti-entropy reconciliations (default 30)",
	  0 },
	{ "frame-limit", 0, "BYTES", "Negentropy frame size limit in bytes (default 262144)", 0 },
	{ "threads", 0, "N", "threads verifying signatures (default: all cores)", 0 },
	{ "verbose", 'v', NULL, "log every transfer", 0 },
	{ "blob-auto", 0, "SIZE",
	  "attached files up to this size are fetched without being asked (default 25M; "
	  "larger ones with 'hansa fetch')",
	  0 },
	{ "blob-max", 0, "SIZE", "the largest attached file fetched at all (default 512M)", 0 },
	{ "blob-space", 0, "SIZE", "the space all attached files may take (default 64G)", 0 },
	{ "blob-transfers", 0, "N", "attached files fetched at once (default 4)", 0 },
	{ "blob-rate", 0, "SIZE",
	  "bytes per second of file chunks served to peers (default: no limit)", 0 },
	{ "scrub-rate", 0, "SIZE",
	  "bytes per second the background scrub re-hashes attached files (default 16M)", 0 },
	{ "scrub-every", 0, "SECONDS",
	  "each attached file is re-hashed by the scrub again after this (default 604800: "
	  "a week)",
	  0 },
	{ "http", 0, "HOST:PORT|off",
	  "where the web app listens (default " HX_WEB_DEFAULT
	  ", see 'hansa web --help'); off: none",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_serve = {
	.name = "serve",
	.summary = "run this node: replicate with the peers until stopped",
	.opts = opts,
	.text = "Runs in the foreground until SIGINT or SIGTERM. Listens for members (CURVE;\n"
	        "only members' transport keys get in), connects to every peer, reconciles\n"
	        "with each on connect and every --interval, pushes each new entry (also\n"
	        "those 'hansa publish' writes meanwhile) to the connected members, and\n"
	        "relays entries from one member to the others. Entries are verified before\n"
	        "they are stored or relayed; refusals are counted in 'hansa status'.\n"
	        "Logs one line per event on stderr, starting with the time; under systemd\n"
	        "(stderr is the journal) with a <N> syslog level instead, and READY=1 is\n"
	        "sent to NOTIFY_SOCKET once the node listens (Type=notify).\n",
	.exec = exec,
};

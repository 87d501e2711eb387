/*
 * cmd-sync.c: `hansa sync [PEER]`: reconciles once with one or every peer
 * without a running daemon (the peers' daemons answer), fetches what this
 * node lacks, sends what they lack, and prints what moved.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/net.h"
#include "proto/negentropy.h"
#include "node/node.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static struct hx_progress bar;

static void log_line(void *arg, const char *line)
{
	(void)arg;
	if (bar.active && bar.last_draw_us)
		fputc('\n', stderr);
	fprintf(stderr, "hansa: %s\n", line);
}

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	bar.total = total;
	hx_progress_update(&bar, done);
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	hx_node_config cfg = { .once = 1 };
	int json = hx_arg_count(a, "json");
	const char *arg, *peer = a->argc ? a->argv[0] : NULL;
	char *end;

	if ((arg = hx_arg_value(a, "timeout"))) {
		double v = strtod(arg, &end);
		if (!*arg || *end || v <= 0 || v > 86400)
			return hx_fail("--timeout: '%s' is not a number of seconds", arg);
		cfg.timeout_ms = (unsigned)(v * 1000) ? (unsigned)(v * 1000) : 1;
	}
	if ((arg = hx_arg_value(a, "frame-limit"))) {
		double v = strtod(arg, &end);
		if (!*arg || *end || v < HX_NE_FRAME_MIN || v > HX_WIRE_FRAME_MAX - 64)
			return hx_fail("--frame-limit: a number of bytes from %d to %u",
			               HX_NE_FRAME_MIN, HX_WIRE_FRAME_MAX - 64);
		cfg.ne_frame_limit = (uint32_t)v;
	}
	if (hx_arg_count(a, "verbose")) {
		cfg.verbose = 1;
		cfg.log = log_line;
	}
	if (hx_cli_ensure_self(ctx))
		return HX_EXIT_FAIL;
	uint8_t key[HX_KEY_LEN];
	char hex[2 * HX_KEY_LEN + 1];
	if (peer) {
		if (hx_endpoint_check(peer)) {
			if (hx_cli_find_member(ctx, peer, key))
				return HX_EXIT_FAIL;
			cfg.only_peer = hx_hex(hex, key, HX_KEY_LEN);
		} else {
			cfg.only_peer = peer;
		}
	}
	cfg.progress = on_progress;
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	cfg.pk = hx_ctx_node_key(ctx);
	cfg.sk = ctx->sk;
	cfg.curve_pk = ctx->curve_pk;
	cfg.curve_sk = ctx->curve_sk;
	hx_node *n;
	int rc = hx_node_new(&n, ctx->store, &cfg);
	if (rc)
		return hx_fail("cannot start: %s", hx_strerror(rc));
	hx_progress_start(&bar, "fetching", 0);
	rc = hx_node_run(n, &stop);
	hx_progress_end(&bar);
	if (rc == HX_EINVAL) {
		hx_node_destroy(&n);
		return peer ? hx_fail("no peer %s (see 'hansa peer list')", peer)
		            : hx_fail("no peers to sync with (add one with 'hansa peer add' or "
		                      "'hansa join')");
	}
	if (rc) {
		hx_node_destroy(&n);
		return hx_fail("sync failed: %s", hx_strerror(rc));
	}
	const hx_sync_result *r;
	size_t k = hx_node_results(n, &r), failed = 0;
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	for (size_t i = 0; i < k; i++) {
		char label[128];
		hx_cli_member_label(ctx, r[i].key, label, sizeof label);
		int ok = r[i].ok && !stop;
		if (!ok)
			failed++;
		const char *err =
		        r[i].error[0] ? r[i].error : (stop ? "interrupted" : "unknown error");
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "endpoint", r[i].endpoint);
			cJSON_AddStringToObject(o, "key", hx_hex(hex, r[i].key, HX_KEY_LEN));
			cJSON_AddBoolToObject(o, "ok", ok);
			if (!ok)
				cJSON_AddStringToObject(o, "error", err);
			cJSON_AddNumberToObject(o, "received", (double)r[i].received);
			cJSON_AddNumberToObject(o, "sent", (double)r[i].sent);
			cJSON_AddNumberToObject(o, "refused", (double)r[i].refused);
			cJSON_AddNumberToObject(o, "we_lacked", (double)r[i].we_lacked);
			cJSON_AddNumberToObject(o, "they_lacked", (double)r[i].they_lacked);
			cJSON_AddNumberToObject(o, "round_trips", r[i].rounds);
			cJSON_AddNumberToObject(o, "reconciliation_bytes",
			                        (double)r[i].recon_bytes);
			cJSON_AddItemToArray(arr, o);
		} else if (ok) {
			printf("%s %s: received %llu, sent %llu, refused %llu (%u round trip%s, "
			       "%llu bytes)\n",
			       r[i].endpoint, label, (unsigned long long)r[i].received,
			       (unsigned long long)r[i].sent, (unsigned long long)r[i].refused,
			       r[i].rounds, r[i].rounds == 1 ? "" : "s",
			       (unsigned long long)r[i].recon_bytes);
		} else {
			fprintf(stderr,
			        "hansa: sync with %s %s failed: %s (received %llu, sent %llu)\n",
			        r[i].endpoint, label, err, (unsigned long long)r[i].received,
			        (unsigned long long)r[i].sent);
		}
	}
	hx_node_destroy(&n);
	if (json)
		hx_json_print(arr);
	return failed ? HX_EXIT_FAIL : HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "timeout", 0, "SECONDS", "give up on a peer silent this long (default 20 seconds)", 0 },
	{ "frame-limit", 0, "BYTES",
	  "Negentropy frame size limit in bytes (default 262144; smaller "
	  "frames, more round trips)",
	  0 },
	{ "json", 0, NULL,
	  "an array of {endpoint, key, ok, error, received, sent, refused, "
	  "we_lacked, they_lacked, round_trips, reconciliation_bytes}",
	  0 },
	{ "verbose", 'v', NULL, "log every step on stderr", 0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_sync = {
	.name = "sync",
	.summary = "reconcile once with the peers, without a daemon",
	.args = "[PEER]",
	.args_max = 1,
	.args_error = "give at most one PEER",
	.opts = opts,
	.text = "Connects to every peer (or only PEER: an endpoint, a key, a key prefix or a\n"
	        "name), reconciles with Negentropy, fetches the entries this node lacks and\n"
	        "sends those the peer lacks, then exits. The peers must be running 'hansa\n"
	        "serve'. Prints one line per peer: entries received, sent and refused, and\n"
	        "the reconciliation's round trips and bytes. Exit status 1 when a peer\n"
	        "could not be synced.\n",
	.exec = exec,
};

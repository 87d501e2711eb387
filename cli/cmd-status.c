/*
 * cmd-status.c: `hansa status`: whether the node runs, and for every peer:
 * connected or not, last seen, last reconciliation, entries sent, received
 * and refused by reason, and how many entries each side still lacks. Reads
 * what `hansa serve` and `hansa sync` keep in the store.
 */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/net.h"
#include "node/state.h"

struct row {
	uint8_t key[HX_KEY_LEN];
	char endpoints[512];
	hx_peer_stats st;
	int have_stats;
};

struct rows {
	struct row *a;
	size_t n, cap;
};

static struct row *row_get(struct rows *r, const uint8_t key[HX_KEY_LEN])
{
	for (size_t i = 0; i < r->n; i++)
		if (!memcmp(r->a[i].key, key, HX_KEY_LEN))
			return &r->a[i];
	struct row *a = hx_grow(r->a, &r->cap, r->n + 1, sizeof *a);
	if (!a)
		return NULL;
	r->a = a;
	struct row *x = &r->a[r->n++];
	memset(x, 0, sizeof *x);
	memcpy(x->key, key, HX_KEY_LEN);
	return x;
}

static int stats_cb(void *arg, const uint8_t key[HX_KEY_LEN], const hx_peer_stats *st)
{
	struct row *x = row_get(arg, key);
	if (!x)
		return HX_ENOMEM;
	x->st = *st;
	x->have_stats = 1;
	return 0;
}

static const char *when(char *out, size_t n, uint64_t us)
{
	if (!us)
		return "never";
	return hx_time_text(out, n, us);
}

static cJSON *json_time(uint64_t us)
{
	char t[40];
	return us ? cJSON_CreateString(hx_time_text(t, sizeof t, us)) : cJSON_CreateNull();
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	int json = hx_arg_count(a, "json");
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s)
		return HX_EXIT_FAIL;
	int have_id = !hx_ctx_identity(ctx);
	hx_daemon_info d;
	int running = hx_daemon_get(s, &d) == HX_OK && hx_cli_pid_alive(d.pid);
	hx_store_stats ss;
	int rc = hx_store_stats_get(s, &ss);
	if (rc)
		return hx_fail("cannot read the store: %s", hx_strerror(rc));
	uint64_t zap = 0;
	(void)!hx_counter_get(s, "zap-refused", &zap);

	struct rows rows = { 0 };
	hx_peer_conf *pc;
	size_t npc;
	if ((rc = hx_peer_list(s, &pc, &npc)))
		return hx_fail("cannot read the peers: %s", hx_strerror(rc));
	for (size_t i = 0; i < npc; i++) {
		struct row *x = row_get(&rows, pc[i].key);
		if (!x)
			break;
		size_t l = strlen(x->endpoints);
		snprintf(x->endpoints + l, sizeof x->endpoints - l, "%s%s", l ? " " : "", pc[i].endpoint);
	}
	free(pc);
	if ((rc = hx_stats_list(s, stats_cb, &rows))) {
		free(rows.a);
		return hx_fail("cannot read the statistics: %s", hx_strerror(rc));
	}

	cJSON *root = NULL, *peers = NULL;
	char t[40], label[128], hex[2 * HX_KEY_LEN + 1];
	if (json) {
		root = cJSON_CreateObject();
		cJSON *dj = cJSON_AddObjectToObject(root, "node");
		cJSON_AddBoolToObject(dj, "running", running);
		if (running) {
			cJSON_AddNumberToObject(dj, "pid", (double)d.pid);
			cJSON_AddStringToObject(dj, "listening", d.bind);
			cJSON_AddItemToObject(dj, "since", json_time(d.started));
		}
		if (have_id)
			cJSON_AddStringToObject(dj, "key", hx_hex(hex, ctx->pk, HX_KEY_LEN));
		cJSON_AddNumberToObject(root, "entries", (double)ss.entries);
		cJSON_AddNumberToObject(root, "documents", (double)ss.documents);
		cJSON_AddNumberToObject(root, "connections_refused", (double)zap);
		peers = cJSON_AddArrayToObject(root, "peers");
	} else {
		if (running)
			printf("node: serving on %s (pid %llu, since %s)\n", d.bind,
			       (unsigned long long)d.pid, when(t, sizeof t, d.started));
		else
			printf("node: not running (start it with 'hansa serve')\n");
		printf("store: %llu entries, %llu documents\n", (unsigned long long)ss.entries,
		       (unsigned long long)ss.documents);
		printf("connections refused (not members): %llu\n", (unsigned long long)zap);
		if (!rows.n)
			printf("no peers (add one with 'hansa join CODE' or 'hansa peer add')\n");
	}
	for (size_t i = 0; i < rows.n; i++) {
		struct row *x = &rows.a[i];
		hx_peer_stats *st = &x->st;
		if (have_id && !memcmp(x->key, ctx->pk, HX_KEY_LEN))
			continue;
		int connected = st->connected && hx_cli_pid_alive(st->pid);
		uint64_t refused = 0;
		for (int r = 0; r < HX_REFUSE_N; r++)
			refused += st->refused[r];
		hx_cli_member_label(ctx, x->key, label, sizeof label);
		if (json) {
			cJSON *o = cJSON_CreateObject(), *rf;
			cJSON_AddStringToObject(o, "key", hx_hex(hex, x->key, HX_KEY_LEN));
			cJSON_AddStringToObject(o, "name", label);
			cJSON *eps = cJSON_AddArrayToObject(o, "endpoints");
			char buf[512];
			snprintf(buf, sizeof buf, "%s", x->endpoints);
			for (char *sv, *tok = strtok_r(buf, " ", &sv); tok; tok = strtok_r(NULL, " ", &sv))
				cJSON_AddItemToArray(eps, cJSON_CreateString(tok));
			cJSON_AddBoolToObject(o, "connected", connected);
			cJSON_AddItemToObject(o, "last_seen", json_time(st->last_seen));
			cJSON_AddItemToObject(o, "last_sync", json_time(st->last_recon));
			cJSON_AddNumberToObject(o, "syncs", (double)st->recon_ok);
			cJSON_AddNumberToObject(o, "sent", (double)st->sent);
			cJSON_AddNumberToObject(o, "received", (double)st->received);
			cJSON_AddNumberToObject(o, "refused_total", (double)refused);
			rf = cJSON_AddObjectToObject(o, "refused");
			for (int r = 0; r < HX_REFUSE_N; r++)
				cJSON_AddNumberToObject(rf, hx_refuse_name(r), (double)st->refused[r]);
			cJSON_AddNumberToObject(o, "bad_messages", (double)st->bad_messages);
			if (st->lack_known) {
				cJSON_AddNumberToObject(o, "we_lack", (double)st->we_lack);
				cJSON_AddNumberToObject(o, "they_lack", (double)st->they_lack);
			} else {
				cJSON_AddNullToObject(o, "we_lack");
				cJSON_AddNullToObject(o, "they_lack");
			}
			if (st->last_error[0]) {
				cJSON_AddStringToObject(o, "last_error", st->last_error);
				cJSON_AddItemToObject(o, "last_error_at", json_time(st->last_error_at));
			}
			cJSON_AddItemToArray(peers, o);
			continue;
		}
		printf("\npeer %s  %s\n", label, connected ? "connected" : "not connected");
		printf("  endpoint:   %s\n", x->endpoints[0] ? x->endpoints : "(connects to us)");
		printf("  last seen:  %s\n", when(t, sizeof t, st->last_seen));
		printf("  last sync:  %s (%llu so far)\n", when(t, sizeof t, st->last_recon),
		       (unsigned long long)st->recon_ok);
		printf("  entries:    sent %llu, received %llu, refused %llu",
		       (unsigned long long)st->sent, (unsigned long long)st->received,
		       (unsigned long long)refused);
		if (refused) {
			const char *sep = " (";
			for (int r = 0; r < HX_REFUSE_N; r++) {
				if (!st->refused[r])
					continue;
				printf("%s%s %llu", sep, hx_refuse_name(r), (unsigned long long)st->refused[r]);
				sep = ", ";
			}
			printf(")");
		}
		printf("\n");
		if (st->bad_messages)
			printf("  malformed messages: %llu\n", (unsigned long long)st->bad_messages);
		if (st->lack_known)
			printf("  behind:     we lack %llu, they lack %llu (as of the last sync)\n",
			       (unsigned long long)st->we_lack, (unsigned long long)st->they_lack);
		else
			printf("  behind:     unknown (not synced yet)\n");
		if (st->last_error[0])
			printf("  last error: %s (%s)\n", st->last_error, when(t, sizeof t, st->last_error_at));
	}
	free(rows.a);
	if (json)
		hx_json_print(root);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "json", 0, NULL, "one object: node, entries, documents, connections_refused, peers", 0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_status = {
	.name = "status",
	.summary = "show the node and every peer: connected, synced, behind",
	.opts = opts,
	.text =
	"Says whether 'hansa serve' runs for this home, how many entries the store\n"
	"holds and how many connections were refused as non-members; then for\n"
	"every peer: connected or not, when it was last seen and last synced,\n"
	"entries sent, received and refused (by reason: malformed, over-limit,\n"
	"bad-signature, not-member, future), and how many entries each side still\n"
	"lacked at the last reconciliation, less what moved since.\n",
	.exec = exec,
};

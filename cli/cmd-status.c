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
#include "cli/probe.h"
#include "node/blobsync.h"

static struct hx_status_row *row_get(struct hx_status *r, const uint8_t key[HX_KEY_LEN])
{
	for (size_t i = 0; i < r->n; i++)
		if (!memcmp(r->peers[i].key, key, HX_KEY_LEN))
			return &r->peers[i];
	struct hx_status_row *a = hx_grow(r->peers, &r->cap, r->n + 1, sizeof *a);
	if (!a)
		return NULL;
	r->peers = a;
	struct hx_status_row *x = &r->peers[r->n++];
	memset(x, 0, sizeof *x);
	memcpy(x->key, key, HX_KEY_LEN);
	return x;
}

static int stats_cb(void *arg, const uint8_t key[HX_KEY_LEN], const hx_peer_stats *st)
{
	struct hx_status_row *x = row_get(arg, key);
	if (!x)
		return HX_ENOMEM;
	x->st = *st;
	return 0;
}

int hx_cli_status_load(struct hx_ctx *ctx, struct hx_status *r)
{
	hx_store *s = ctx->store;
	hx_peer_conf *pc;
	size_t npc;
	uint8_t own[HX_KEY_LEN];
	int rc, have_own = !hx_ctx_pubkey(ctx, own);
	memset(r, 0, sizeof *r);
	r->running = hx_daemon_get(s, &r->d) == HX_OK && hx_cli_pid_alive(r->d.pid);
	if ((rc = hx_store_stats_get(s, &r->ss)))
		return rc;
	(void)!hx_counter_get(s, "zap-refused", &r->zap);
	(void)!hx_counter_get(s, "junk", &r->junk);
	if ((rc = hx_peer_list(s, &pc, &npc)))
		return rc;
	for (size_t i = 0; i < npc; i++) {
		struct hx_status_row *x = row_get(r, pc[i].key);
		if (!x)
			break;
		size_t l = strlen(x->endpoints);
		snprintf(x->endpoints + l, sizeof x->endpoints - l, "%s%s", l ? " " : "",
		         pc[i].endpoint);
	}
	free(pc);
	if ((rc = hx_stats_list(s, stats_cb, r)))
		return rc;
	for (size_t i = 0; i < r->n;) {
		struct hx_status_row *x = &r->peers[i];
		if (have_own && !memcmp(x->key, own, HX_KEY_LEN)) {
			r->peers[i] = r->peers[--r->n];
			continue;
		}
		x->connected = x->st.connected && hx_cli_pid_alive(x->st.pid);
		for (int k = 0; k < HX_REFUSE_N; k++)
			x->refused += x->st.refused[k];
		i++;
	}
	return HX_OK;
}

void hx_cli_status_free(struct hx_status *r)
{
	free(r->peers);
	memset(r, 0, sizeof *r);
}

/* "61 minutes" or "75 seconds" of a skew in seconds. */
static void span_text(char *out, size_t n, double s)
{
	if (s < 0)
		s = -s;
	if (s < 120)
		snprintf(out, n, "%.0f seconds", s);
	else
		snprintf(out, n, "%.0f minutes", s / 60);
}

size_t hx_cli_peer_warnings(const char *label, const hx_peer_stats *st, struct hx_peer_warning *w,
                            size_t max)
{
	size_t k = 0;
	int skew_known = st->skew_at != 0;
	double ahead = -(double)st->skew_us / 1e6;
	int off = skew_known && (ahead > 60 || ahead < -60);
	int clock_said = 0;
	char span[40];
	span_text(span, sizeof span, ahead);
	for (int r = 0; r < HX_REFUSE_N && k < max; r++) {
		uint64_t c = st->they_refused[r], o = st->they_refused_ours[r];
		if (!c)
			continue;
		struct hx_peer_warning *x = &w[k++];
		memset(x, 0, sizeof *x);
		x->reason = r;
		x->count = c;
		x->ours = o;
		x->skew_known = skew_known;
		x->ahead_s = ahead;
		size_t l;
		if (o == c)
			l = (size_t)snprintf(x->text, sizeof x->text,
			                     "%s refuses %llu of your entries: %s", label,
			                     (unsigned long long)c, hx_refuse_words(r));
		else
			l = (size_t)snprintf(
			        x->text, sizeof x->text,
			        "%s refuses %llu entr%s this node sent (%llu of them yours): %s",
			        label, (unsigned long long)c, c == 1 ? "y" : "ies",
			        (unsigned long long)o, hx_refuse_words(r));
		if (r == HX_REFUSE_FUTURE && off && ahead > 0 && l < sizeof x->text) {
			snprintf(x->text + l, sizeof x->text - l, " — your clock is %s ahead",
			         span);
			clock_said = 1;
		}
	}
	if (off && !clock_said && k < max) {
		struct hx_peer_warning *x = &w[k++];
		memset(x, 0, sizeof *x);
		x->reason = -1;
		x->skew_known = 1;
		x->ahead_s = ahead;
		if (ahead > 0)
			snprintf(x->text, sizeof x->text, "your clock is %s ahead of %s's", span,
			         label);
		else
			snprintf(x->text, sizeof x->text, "%s's clock is %s ahead of yours", label,
			         span);
	}
	return k;
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

/* The endpoints of the peers that are not connected, probed at once
 * (cli/probe.c): why each cannot be reached. owner[k] is the peer row of
 * probe k. Nothing when probing is off. */
struct probes {
	struct hx_probe *p;
	size_t *owner, n, capp, capo;
};

static void probe_peers(const struct hx_status *r, struct probes *pr)
{
	memset(pr, 0, sizeof *pr);
	for (size_t i = 0; i < r->n; i++) {
		if (r->peers[i].connected)
			continue;
		char buf[512];
		snprintf(buf, sizeof buf, "%s", r->peers[i].endpoints);
		for (char *sv, *tok = strtok_r(buf, " ", &sv); tok;
		     tok = strtok_r(NULL, " ", &sv)) {
			struct hx_probe *np = hx_grow(pr->p, &pr->capp, pr->n + 1, sizeof *np);
			if (!np)
				return;
			pr->p = np;
			size_t *no = hx_grow(pr->owner, &pr->capo, pr->n + 1, sizeof *no);
			if (!no)
				return;
			pr->owner = no;
			memset(&pr->p[pr->n], 0, sizeof *pr->p);
			snprintf(pr->p[pr->n].endpoint, sizeof pr->p[pr->n].endpoint, "%s", tok);
			pr->owner[pr->n++] = i;
		}
	}
	hx_probe_endpoints(pr->p, pr->n, HX_PROBE_TIMEOUT_MS);
}

static void probes_free(struct probes *pr)
{
	free(pr->p);
	free(pr->owner);
	memset(pr, 0, sizeof *pr);
}

cJSON *hx_cli_status_json(struct hx_ctx *ctx, const struct hx_status *r)
{
	char label[128], hex[2 * HX_KEY_LEN + 1];
	uint8_t own[HX_KEY_LEN];
	cJSON *root = cJSON_CreateObject();
	cJSON *dj = cJSON_AddObjectToObject(root, "node");
	cJSON_AddBoolToObject(dj, "running", r->running);
	if (r->running) {
		cJSON_AddNumberToObject(dj, "pid", (double)r->d.pid);
		cJSON_AddStringToObject(dj, "listening", r->d.bind);
		cJSON_AddItemToObject(dj, "since", json_time(r->d.started));
	}
	if (!hx_ctx_pubkey(ctx, own))
		cJSON_AddStringToObject(dj, "key", hx_hex(hex, own, HX_KEY_LEN));
	cJSON_AddNumberToObject(root, "entries", (double)r->ss.entries);
	cJSON_AddNumberToObject(root, "documents", (double)r->ss.documents);
	cJSON_AddNumberToObject(root, "connections_refused", (double)r->zap);
	cJSON_AddNumberToObject(root, "connections_junk", (double)r->junk);
	hx_push_hist ph;
	if (hx_push_hist_get(ctx->store, &ph) == HX_OK) {
		cJSON *pl = cJSON_AddObjectToObject(root, "push_latency");
		cJSON_AddNumberToObject(pl, "count", (double)ph.count);
		cJSON_AddNumberToObject(pl, "sum_seconds", (double)ph.sum_us / 1e6);
		cJSON *bk = cJSON_AddArrayToObject(pl, "buckets"); /* cumulative */
		uint64_t cum = 0;
		for (size_t i = 0; i < HX_PUSH_HIST_N; i++) {
			cJSON *bo = cJSON_CreateObject();
			cum += ph.bucket[i];
			if (i < HX_PUSH_HIST_N - 1)
				cJSON_AddNumberToObject(bo, "le", (double)hx_push_hist_le[i] / 1e6);
			else
				cJSON_AddStringToObject(bo, "le", "+Inf");
			cJSON_AddNumberToObject(bo, "count", (double)cum);
			cJSON_AddItemToArray(bk, bo);
		}
	}
	hx_blob_status bs;
	if (hx_blob_status_get(ctx->store, &bs) == HX_OK) {
		cJSON *bo = cJSON_AddObjectToObject(root, "blobs");
		cJSON_AddNumberToObject(bo, "wanted", (double)bs.wanted);
		cJSON_AddNumberToObject(bo, "in_flight", (double)bs.active);
		cJSON_AddNumberToObject(bo, "bytes_wanted", (double)bs.bytes_wanted);
		cJSON_AddNumberToObject(bo, "bytes_held", (double)bs.bytes_held);
		cJSON_AddNumberToObject(bo, "done", (double)bs.done);
		cJSON_AddNumberToObject(bo, "refused", (double)bs.refused);
		cJSON_AddNumberToObject(bo, "bytes_in", (double)bs.bytes_in);
		cJSON_AddNumberToObject(bo, "chunks_in", (double)bs.chunks_in);
		cJSON_AddNumberToObject(bo, "bytes_out", (double)bs.bytes_out);
		cJSON_AddNumberToObject(bo, "chunks_out", (double)bs.chunks_out);
		cJSON_AddNumberToObject(bo, "bad_chunks", (double)bs.bad_chunks);
		cJSON_AddNumberToObject(bo, "chunks_hashed_out", (double)bs.hashed_out);
		cJSON_AddNumberToObject(bo, "scrubbed", (double)bs.scrubbed);
		cJSON_AddNumberToObject(bo, "scrub_damaged", (double)bs.scrub_bad);
	}
	cJSON *warns = cJSON_AddArrayToObject(root, "warnings");
	cJSON *peers = cJSON_AddArrayToObject(root, "peers");
	for (size_t i = 0; i < r->n; i++) {
		const struct hx_status_row *x = &r->peers[i];
		const hx_peer_stats *st = &x->st;
		cJSON *o = cJSON_CreateObject(), *rf;
		hx_cli_member_label(ctx, x->key, label, sizeof label);
		cJSON_AddStringToObject(o, "key", hx_hex(hex, x->key, HX_KEY_LEN));
		cJSON_AddStringToObject(o, "name", label);
		cJSON *eps = cJSON_AddArrayToObject(o, "endpoints");
		char buf[512];
		snprintf(buf, sizeof buf, "%s", x->endpoints);
		for (char *sv, *tok = strtok_r(buf, " ", &sv); tok; tok = strtok_r(NULL, " ", &sv))
			cJSON_AddItemToArray(eps, cJSON_CreateString(tok));
		cJSON_AddBoolToObject(o, "connected", x->connected);
		cJSON_AddItemToObject(o, "last_seen", json_time(st->last_seen));
		cJSON_AddItemToObject(o, "last_sync", json_time(st->last_recon));
		cJSON_AddNumberToObject(o, "syncs", (double)st->recon_ok);
		cJSON_AddNumberToObject(o, "sent", (double)st->sent);
		cJSON_AddNumberToObject(o, "received", (double)st->received);
		cJSON_AddNumberToObject(o, "refused_total", (double)x->refused);
		rf = cJSON_AddObjectToObject(o, "refused");
		for (int k = 0; k < HX_REFUSE_N; k++)
			cJSON_AddNumberToObject(rf, hx_refuse_name(k), (double)st->refused[k]);
		cJSON_AddNumberToObject(o, "bad_messages", (double)st->bad_messages);
		uint64_t bad = 0;
		(void)!hx_blob_bad_get(ctx->store, x->key, &bad);
		cJSON_AddNumberToObject(o, "bad_chunks", (double)bad);
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
		if (st->skew_at)
			cJSON_AddNumberToObject(o, "our_clock_ahead_s", -(double)st->skew_us / 1e6);
		else
			cJSON_AddNullToObject(o, "our_clock_ahead_s");
		rf = cJSON_AddObjectToObject(o, "refused_by_them");
		cJSON *ro = cJSON_AddObjectToObject(o, "refused_by_them_ours");
		for (int k = 0; k < HX_REFUSE_N; k++) {
			cJSON_AddNumberToObject(rf, hx_refuse_name(k), (double)st->they_refused[k]);
			cJSON_AddNumberToObject(ro, hx_refuse_name(k),
			                        (double)st->they_refused_ours[k]);
		}
		struct hx_peer_warning w[HX_WARN_MAX];
		size_t nw = hx_cli_peer_warnings(label, st, w, HX_WARN_MAX);
		for (size_t j = 0; j < nw; j++) {
			cJSON *wo = cJSON_CreateObject();
			cJSON_AddStringToObject(wo, "key", hex);
			cJSON_AddStringToObject(wo, "name", label);
			if (w[j].reason >= 0) {
				cJSON_AddStringToObject(wo, "reason", hx_refuse_name(w[j].reason));
				cJSON_AddNumberToObject(wo, "count", (double)w[j].count);
				cJSON_AddNumberToObject(wo, "yours", (double)w[j].ours);
			} else {
				cJSON_AddStringToObject(wo, "reason", "clock");
			}
			if (w[j].skew_known)
				cJSON_AddNumberToObject(wo, "our_clock_ahead_s", w[j].ahead_s);
			else
				cJSON_AddNullToObject(wo, "our_clock_ahead_s");
			cJSON_AddStringToObject(wo, "text", w[j].text);
			cJSON_AddItemToArray(warns, wo);
		}
		cJSON_AddItemToArray(peers, o);
	}
	return root;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	int json = hx_arg_count(a, "json");
	if (!hx_ctx_store(ctx, 0))
		return HX_EXIT_FAIL;
	struct hx_status r;
	int rc = hx_cli_status_load(ctx, &r);
	if (rc) {
		hx_cli_status_free(&r);
		return hx_fail("cannot read the store: %s", hx_strerror(rc));
	}
	struct probes pr = { 0 };
	if (!hx_arg_count(a, "no-probe"))
		probe_peers(&r, &pr);
	if (json) {
		cJSON *root = hx_cli_status_json(ctx, &r);
		cJSON *peers = cJSON_GetObjectItem(root, "peers");
		for (size_t k = 0; k < pr.n; k++) {
			cJSON *o = cJSON_GetArrayItem(peers, (int)pr.owner[k]), *arr;
			if (!o)
				continue;
			if (!(arr = cJSON_GetObjectItem(o, "probe")))
				arr = cJSON_AddArrayToObject(o, "probe");
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "endpoint", pr.p[k].endpoint);
			cJSON_AddStringToObject(x, "result", hx_probe_name(pr.p[k].result));
			cJSON_AddStringToObject(x, "text", pr.p[k].text);
			cJSON_AddItemToArray(arr, x);
		}
		hx_json_print(root);
		probes_free(&pr);
		hx_cli_status_free(&r);
		return HX_EXIT_OK;
	}
	char t[40], label[128];
	if (r.running)
		printf("node: serving on %s (pid %llu, since %s)\n", r.d.bind,
		       (unsigned long long)r.d.pid, when(t, sizeof t, r.d.started));
	else
		printf("node: not running (start it with 'hansa serve')\n");
	printf("store: %llu entries, %llu documents\n", (unsigned long long)r.ss.entries,
	       (unsigned long long)r.ss.documents);
	printf("connections refused (not members): %llu\n", (unsigned long long)r.zap);
	hx_blob_status bs;
	if (hx_blob_status_get(ctx->store, &bs) == HX_OK)
		printf("files: wanted %llu (%llu in flight, %llu of %llu bytes here), done %llu, "
		       "refused %llu; received %llu bytes, sent %llu bytes (%llu chunks hashed "
		       "when sent), bad chunks %llu; scrubbed %llu, found damaged %llu\n",
		       (unsigned long long)bs.wanted, (unsigned long long)bs.active,
		       (unsigned long long)bs.bytes_held, (unsigned long long)bs.bytes_wanted,
		       (unsigned long long)bs.done, (unsigned long long)bs.refused,
		       (unsigned long long)bs.bytes_in, (unsigned long long)bs.bytes_out,
		       (unsigned long long)bs.hashed_out, (unsigned long long)bs.bad_chunks,
		       (unsigned long long)bs.scrubbed, (unsigned long long)bs.scrub_bad);
	printf("junk connections (failed before authentication): %llu\n",
	       (unsigned long long)r.junk);
	if (!r.n)
		printf("no peers (add one with 'hansa join CODE' or 'hansa peer add')\n");
	for (size_t i = 0; i < r.n; i++) {
		const struct hx_status_row *x = &r.peers[i];
		const hx_peer_stats *st = &x->st;
		hx_cli_member_label(ctx, x->key, label, sizeof label);
		printf("\npeer %s  %s\n", label, x->connected ? "connected" : "not connected");
		printf("  endpoint:   %s\n", x->endpoints[0] ? x->endpoints : "(connects to us)");
		printf("  last seen:  %s\n", when(t, sizeof t, st->last_seen));
		printf("  last sync:  %s (%llu so far)\n", when(t, sizeof t, st->last_recon),
		       (unsigned long long)st->recon_ok);
		printf("  entries:    sent %llu, received %llu, refused %llu",
		       (unsigned long long)st->sent, (unsigned long long)st->received,
		       (unsigned long long)x->refused);
		if (x->refused) {
			const char *sep = " (";
			for (int k = 0; k < HX_REFUSE_N; k++) {
				if (!st->refused[k])
					continue;
				printf("%s%s %llu", sep, hx_refuse_name(k),
				       (unsigned long long)st->refused[k]);
				sep = ", ";
			}
			printf(")");
		}
		printf("\n");
		if (st->bad_messages)
			printf("  malformed messages: %llu\n",
			       (unsigned long long)st->bad_messages);
		uint64_t bad = 0;
		if (hx_blob_bad_get(ctx->store, x->key, &bad) == HX_OK && bad)
			printf("  bad chunks: %llu (file chunks that did not match their hash)\n",
			       (unsigned long long)bad);
		if (st->lack_known)
			printf("  behind:     we lack %llu, they lack %llu (as of the last sync)\n",
			       (unsigned long long)st->we_lack, (unsigned long long)st->they_lack);
		else
			printf("  behind:     unknown (not synced yet)\n");
		if (st->last_error[0])
			printf("  last error: %s (%s)\n", st->last_error,
			       when(t, sizeof t, st->last_error_at));
		for (size_t k = 0; k < pr.n; k++)
			if (pr.owner[k] == i)
				printf("  reachable:  %s: %s\n", pr.p[k].endpoint, pr.p[k].text);
		struct hx_peer_warning w[HX_WARN_MAX];
		size_t nw = hx_cli_peer_warnings(label, st, w, HX_WARN_MAX);
		for (size_t j = 0; j < nw; j++)
			printf("  warning:    %s\n", w[j].text);
	}
	probes_free(&pr);
	hx_cli_status_free(&r);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "json", 0, NULL, "one object: node, entries, documents, connections_refused, peers", 0 },
	{ "no-probe", 0, NULL,
	  "do not probe the endpoints of peers that are not connected (by default each is "
	  "resolved and tried for up to 2 s, to tell a name that does not resolve from a "
	  "refused connection and from a timeout)",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_status = {
	.name = "status",
	.summary = "show the node and every peer: connected, synced, behind",
	.opts = opts,
	.text = "Says whether 'hansa serve' runs for this home, how many entries the store\n"
	        "holds and how many connections were refused as non-members; then for\n"
	        "every peer: connected or not, when it was last seen (to the minute while\n"
	        "it is connected) and last synced,\n"
	        "entries sent, received and refused (by reason: malformed, over-limit,\n"
	        "bad-signature, not-member, future, unknown-device, revoked-device,\n"
	        "bad-record), and how many entries each side still\n"
	        "lacked at the last reconciliation, less what moved since.\n"
	        "For a peer that is not connected it says why each endpoint cannot be\n"
	        "reached: the name does not resolve (DNS), the connection is refused\n"
	        "(nothing listens there), or nothing answers within 2 s (timeout).\n",
	.exec = exec,
};

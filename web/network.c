/*
 * network.c: what the web app says about the network: the Network page
 * (every peer, connected or not, last seen and synced, how far behind each
 * side is, refusals by reason, and why a sync is stuck, in plain words;
 * its table refreshes itself every few seconds), the Partners directory,
 * /metrics in the Prometheus text format, and the status object of the
 * API. All of it reads what the node keeps in the store (node/state.h),
 * as `hansa status` does.
 */
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include <cjson/cJSON.h>
#include "web/web_int.h"
#include "cli/net.h"
#include "node/state.h"
#include "node/blobsync.h"
#include "proto/member.h"

cJSON *wb_status_json(hx_web *w)
{
	struct hx_status r;
	cJSON *o = hx_cli_status_load(w->ctx, &r) ? NULL : hx_cli_status_json(w->ctx, &r);
	hx_cli_status_free(&r);
	return o;
}

/* ---- the Network page -------------------------------------------------------- */

/* Why a peer is not in step, in plain words. */
static void peer_reason(wb_buf *b, const struct hx_status_row *x, int running)
{
	const char *e = x->st.last_error;
	if (!running) {
		wb_puts(b, "Your node is not running, so nothing is exchanged. Start it with "
		           "<code>hansa serve</code>.");
		return;
	}
	if (x->connected) {
		if (!x->st.lack_known)
			wb_puts(b, "Connected; comparing the two libraries.");
		else if (!x->st.we_lack && !x->st.they_lack)
			wb_puts(b, "Up to date: both libraries hold the same documents.");
		else
			wb_puts(b, "Connected and catching up.");
		return;
	}
	if (!strncmp(e, "cannot reach", 12)) {
		wb_puts(b, "Their computer cannot be reached");
		const char *at = strchr(e, ' ') ? strstr(e, "reach ") : NULL;
		if (at && x->endpoints[0]) {
			wb_puts(b, " at <code>");
			wb_esc(b, x->endpoints);
			wb_puts(b, "</code>");
		}
		wb_puts(b, ": it may be switched off or offline, or a firewall is in the way. "
		           "hansa keeps trying on its own.");
	} else if (strstr(e, "refused by the peer")) {
		wb_puts(b,
		        "Their node does not let us in: they have not accepted our invite code yet "
		        "(<code>hansa member add</code> on their side).");
	} else if (strstr(e, "handshake")) {
		wb_puts(b,
		        "The connection failed because the keys do not match: the partner may have "
		        "reinstalled. Exchange invite codes again.");
	} else if (*e) {
		wb_puts(b, "The last attempt failed: ");
		wb_esc(b, e);
		wb_puts(b, ".");
	} else if (!x->endpoints[0]) {
		wb_puts(b,
		        "This partner connects to us when its node runs; it is not connected now.");
	} else if (!x->st.last_seen) {
		wb_puts(b, "Not connected yet.");
	} else {
		wb_puts(b, "Not connected now; hansa reconnects on its own.");
	}
}

static void rows_html(struct wb_req *r, const struct hx_status *pr)
{
	wb_buf *b = &r->out;
	char name[160], hex[2 * HX_KEY_LEN + 1], when[40];
	wb_puts(b, "<div id=\"peers\">\n");
	if (pr->running)
		wb_printf(
		        b,
		        "<p class=\"node up\" id=\"node-state\">Your node is running (since %s).</p>\n",
		        wb_when(when, sizeof when, pr->d.started));
	else
		wb_puts(b, "<p class=\"node down\" id=\"node-state\">Your node is not running: "
		           "this computer "
		           "is not exchanging documents with the partners now.</p>\n");
	wb_printf(b, "<p>This library holds %llu documents (%llu versions in all).",
	          (unsigned long long)pr->ss.documents, (unsigned long long)pr->ss.entries);
	if (pr->zap)
		wb_printf(b,
		          " %llu connection%s from computers that are not partners were refused.",
		          (unsigned long long)pr->zap, pr->zap == 1 ? " was" : "s");
	wb_puts(b, "</p>\n");
	if (!pr->n)
		wb_puts(b, "<p>No partners to exchange with yet. Exchange invite codes with "
		           "<code>hansa invite</code> and <code>hansa join</code>.</p>\n");
	for (size_t i = 0; i < pr->n; i++) {
		const struct hx_status_row *x = &pr->peers[i];
		const char *state = x->connected ? "connected" : x->st.last_seen ? "down" : "never";
		wb_partner_name(r->w, x->key, name, sizeof name);
		wb_printf(b, "<section class=\"peer %s\" data-key=\"%s\"><h2>", state,
		          hx_hex(hex, x->key, HX_KEY_LEN));
		wb_esc(b, name);
		wb_printf(b, " <span class=\"badge %s\">%s</span></h2>\n<p class=\"reason\">",
		          state,
		          x->connected      ? "Connected"
		          : x->st.last_seen ? "Down"
		                            : "Not connected yet");
		peer_reason(b, x, pr->running);
		wb_puts(b, "</p>\n");
		struct hx_peer_warning warn[HX_WARN_MAX];
		size_t nw = hx_cli_peer_warnings(name, &x->st, warn, HX_WARN_MAX);
		for (size_t j = 0; j < nw; j++) {
			wb_puts(b, "<p class=\"reason warning\">");
			wb_esc(b, warn[j].text);
			wb_puts(b, "</p>\n");
		}
		wb_puts(b, "<dl>");
		wb_puts(b, "<dt>Last heard from</dt><dd>");
		wb_ago(b, x->st.last_seen);
		wb_puts(b, "</dd><dt>Last compared</dt><dd>");
		wb_ago(b, x->st.last_recon);
		wb_printf(b, " (%llu time%s)</dd>", (unsigned long long)x->st.recon_ok,
		          x->st.recon_ok == 1 ? "" : "s");
		wb_puts(b, "<dt>Behind</dt><dd>");
		if (x->st.lack_known)
			wb_printf(b, "we miss %llu of theirs; they miss %llu of ours",
			          (unsigned long long)x->st.we_lack,
			          (unsigned long long)x->st.they_lack);
		else
			wb_puts(b, "not known until the first comparison");
		wb_printf(b, "</dd><dt>Exchanged</dt><dd>%llu sent, %llu received</dd>",
		          (unsigned long long)x->st.sent, (unsigned long long)x->st.received);
		wb_printf(b, "<dt>Refused</dt><dd>%llu", (unsigned long long)x->refused);
		if (x->refused) {
			const char *sep = " (";
			for (int k = 0; k < HX_REFUSE_N; k++) {
				if (!x->st.refused[k])
					continue;
				wb_printf(b, "%s%llu %s", sep, (unsigned long long)x->st.refused[k],
				          hx_refuse_words(k));
				sep = "; ";
			}
			wb_puts(b, ")");
		}
		wb_puts(b, "</dd>");
		if (x->endpoints[0]) {
			wb_puts(b, "<dt>Address</dt><dd><code>");
			wb_esc(b, x->endpoints);
			wb_puts(b, "</code></dd>");
		}
		if (x->st.last_error[0]) {
			wb_puts(b, "<dt>Last problem</dt><dd>");
			wb_esc(b, x->st.last_error);
			wb_puts(b, ", ");
			wb_ago(b, x->st.last_error_at);
			wb_puts(b, "</dd>");
		}
		wb_puts(b, "</dl></section>\n");
	}
	wb_puts(b, "</div>\n");
}

void wb_page_network(struct wb_req *r, int rows_only)
{
	struct hx_status pr;
	if (hx_cli_status_load(r->w->ctx, &pr)) {
		hx_cli_status_free(&pr);
		wb_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Network",
		           "The node's records cannot be read.");
		return;
	}
	if (rows_only) {
		r->ctype = "text/html; charset=utf-8";
		rows_html(r, &pr);
	} else {
		wb_head(r, "Network", WB_NAV_NETWORK);
		wb_puts(&r->out,
		        "<h1>Network</h1>\n<p class=\"intro\">Every partner this computer exchanges "
		        "documents with. This page updates itself every few seconds.</p>\n");
		rows_html(r, &pr);
		wb_foot(r);
	}
	hx_cli_status_free(&pr);
}

/* ---- the Partners page ------------------------------------------------------- */

static int member_cmp(const void *a, const void *b)
{
	const char *x = hx_member_field(a, "name"), *y = hx_member_field(b, "name");
	return strcasecmp(x ? x : "", y ? y : "");
}

/* The distinct values of a profile field, for a filter's choices. */
static void choices(wb_buf *b, const hx_member *m, size_t n, const char *field, const char *label,
                    const char *cur)
{
	wb_printf(b, "<label>%s <select name=\"%s\"><option value=\"\">all</option>", label, field);
	for (size_t i = 0; i < n; i++) {
		const char *v = hx_member_field(&m[i], field);
		size_t j;
		if (!v || !*v)
			continue;
		for (j = 0; j < i; j++) {
			const char *u = hx_member_field(&m[j], field);
			if (u && !strcmp(u, v))
				break;
		}
		if (j < i)
			continue;
		wb_puts(b, "<option value=\"");
		wb_esc(b, v);
		wb_printf(b, "\"%s>", cur && !strcmp(cur, v) ? " selected" : "");
		wb_esc(b, v);
		wb_puts(b, "</option>");
	}
	wb_puts(b, "</select></label> ");
}

void wb_page_partners(struct wb_req *r)
{
	wb_buf *b = &r->out;
	hx_member *m;
	size_t n, bad = 0;
	const char *country = wb_arg(r, "country"), *region = wb_arg(r, "region");
	char hex[2 * HX_KEY_LEN + 1];
	if (hx_members_load(r->w->ctx->store, &m, &n, &bad)) {
		wb_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Partners",
		           "The partner list cannot be read.");
		return;
	}
	qsort(m, n, sizeof *m, member_cmp);
	wb_head(r, "Partners", WB_NAV_PARTNERS);
	wb_puts(b,
	        "<h1>Partners</h1>\n<form method=\"get\" action=\"/partners\" class=\"filters\">");
	choices(b, m, n, "country", "Country", country);
	choices(b, m, n, "region", "Region", region);
	wb_puts(b, "<button type=\"submit\">Show</button></form>\n<ul class=\"partners\">\n");
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		const char *c = hx_member_field(&m[i], "country"),
		           *rg = hx_member_field(&m[i], "region");
		if (country && *country && (!c || strcmp(c, country)))
			continue;
		if (region && *region && (!rg || strcmp(rg, region)))
			continue;
		const char *name = hx_member_field(&m[i], "name");
		hx_hex(hex, m[i].key, HX_KEY_LEN);
		wb_printf(b, "<li class=\"partner\" id=\"p%.16s\"><h2>", hex);
		wb_esc(b, name && *name ? name : "(no name)");
		if (!memcmp(m[i].key, r->w->ctx->pk, HX_KEY_LEN))
			wb_puts(b, " <span class=\"badge\">you</span>");
		wb_puts(b, "</h2>");
		wb_profile_dl(b, &m[i]);
		wb_printf(b, "<p><a href=\"/?q=author:%s\">Their documents</a></p></li>\n", hex);
		shown++;
	}
	wb_puts(b, "</ul>\n");
	if (!shown)
		wb_puts(b, "<p>No partner matches.</p>\n");
	hx_members_free(m, n);
	wb_foot(r);
}

/* ---- /metrics ------------------------------------------------------------------ */

static void metric(wb_buf *b, const char *name, const char *type, const char *help)
{
	wb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void wb_metrics(struct wb_req *r)
{
	wb_buf *b = &r->out;
	struct hx_status pr;
	char hex[2 * HX_KEY_LEN + 1];
	if (hx_cli_status_load(r->w->ctx, &pr)) {
		hx_cli_status_free(&pr);
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		r->ctype = "text/plain; charset=utf-8";
		wb_puts(b, "cannot read the store\n");
		return;
	}
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	uint64_t connected = 0, rounds = 0;
	for (size_t i = 0; i < pr.n; i++) {
		connected += (uint64_t)pr.peers[i].connected;
		rounds += pr.peers[i].st.recon_ok;
	}
	metric(b, "hansa_entries", "gauge", "Entries stored: every version, deletions included.");
	wb_printf(b, "hansa_entries %llu\n", (unsigned long long)pr.ss.entries);
	metric(b, "hansa_documents", "gauge", "Live documents (current versions).");
	wb_printf(b, "hansa_documents %llu\n", (unsigned long long)pr.ss.documents);
	metric(b, "hansa_node_running", "gauge", "1 when a node serves this home.");
	wb_printf(b, "hansa_node_running %d\n", pr.running);
	metric(b, "hansa_peers", "gauge", "Peers configured or heard from.");
	wb_printf(b, "hansa_peers %zu\n", pr.n);
	metric(b, "hansa_peers_connected", "gauge", "Peers connected now.");
	wb_printf(b, "hansa_peers_connected %llu\n", (unsigned long long)connected);
	metric(b, "hansa_reconciliations_total", "counter",
	       "Completed reconciliations with every peer.");
	wb_printf(b, "hansa_reconciliations_total %llu\n", (unsigned long long)rounds);
	metric(b, "hansa_connections_refused_total", "counter",
	       "Connections refused as not members.");
	wb_printf(b, "hansa_connections_refused_total %llu\n", (unsigned long long)pr.zap);
	metric(b, "hansa_connections_junk_total", "counter",
	       "Connections that failed before authentication (junk, scans).");
	wb_printf(b, "hansa_connections_junk_total %llu\n", (unsigned long long)pr.junk);
	static const char *const per[][2] = {
		{ "hansa_entries_received_total", "Entries received from a peer and stored." },
		{ "hansa_entries_sent_total", "Entries sent to a peer." },
		{ "hansa_peer_connected", "1 while the peer is connected." },
		{ "hansa_peer_we_lack",
		  "Entries the peer has that we lack, as of the last reconciliation." },
		{ "hansa_peer_they_lack", "Entries we have that the peer lacks, likewise." },
	};
	for (size_t k = 0; k < sizeof per / sizeof per[0]; k++) {
		metric(b, per[k][0], k < 2 ? "counter" : "gauge", per[k][1]);
		for (size_t i = 0; i < pr.n; i++) {
			const struct hx_status_row *x = &pr.peers[i];
			uint64_t v = k == 0   ? x->st.received
			             : k == 1 ? x->st.sent
			             : k == 2 ? (uint64_t)x->connected
			             : k == 3 ? x->st.we_lack
			                      : x->st.they_lack;
			if (k >= 3 && !x->st.lack_known)
				continue;
			wb_printf(b, "%s{peer=\"%s\"} %llu\n", per[k][0],
			          hx_hex(hex, x->key, HX_KEY_LEN), (unsigned long long)v);
		}
	}
	metric(b, "hansa_entries_refused_total", "counter", "Entries refused, by reason.");
	for (int k = 0; k < HX_REFUSE_N; k++) {
		uint64_t v = 0;
		for (size_t i = 0; i < pr.n; i++)
			v += pr.peers[i].st.refused[k];
		wb_printf(b, "hansa_entries_refused_total{reason=\"%s\"} %llu\n", hx_refuse_name(k),
		          (unsigned long long)v);
	}
	hx_push_hist ph;
	if (hx_push_hist_get(r->w->ctx->store, &ph) != HX_OK)
		memset(&ph, 0, sizeof ph);
	metric(b, "hansa_push_latency_seconds", "histogram",
	       "Time from an entry's signature (author's clock) to its arrival here by live push.");
	uint64_t cum = 0;
	for (size_t i = 0; i < HX_PUSH_HIST_N; i++) {
		cum += ph.bucket[i];
		if (i < HX_PUSH_HIST_N - 1)
			wb_printf(b, "hansa_push_latency_seconds_bucket{le=\"%g\"} %llu\n",
			          (double)hx_push_hist_le[i] / 1e6, (unsigned long long)cum);
		else
			wb_printf(b, "hansa_push_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
			          (unsigned long long)cum);
	}
	wb_printf(b, "hansa_push_latency_seconds_sum %.6f\n", (double)ph.sum_us / 1e6);
	wb_printf(b, "hansa_push_latency_seconds_count %llu\n", (unsigned long long)ph.count);
	hx_blob_status bs;
	if (hx_blob_status_get(r->w->ctx->store, &bs) != HX_OK)
		memset(&bs, 0, sizeof bs);
	static const char *const bm[][3] = {
		{ "hansa_blobs_wanted", "gauge",
		  "Attached files to fetch (queued and in flight)." },
		{ "hansa_blobs_in_flight", "gauge", "Attached files being fetched now." },
		{ "hansa_blobs_fetched_total", "counter", "Attached files fetched whole." },
		{ "hansa_blobs_refused_total", "counter",
		  "Attached files refused (over a limit)." },
		{ "hansa_blob_bytes_received_total", "counter",
		  "Verified file chunk bytes received." },
		{ "hansa_blob_bytes_sent_total", "counter", "File chunk bytes served to peers." },
		{ "hansa_blob_bad_chunks_total", "counter",
		  "File chunks that did not match their hash." },
		{ "hansa_blob_chunks_hashed_sent_total", "counter",
		  "File chunks hashed when served (not marked checked in the store)." },
		{ "hansa_blobs_scrubbed_total", "counter",
		  "Attached files re-hashed by the scrub." },
		{ "hansa_blobs_scrub_damaged_total", "counter",
		  "Attached files the scrub found damaged on disk." },
	};
	uint64_t bv[] = { bs.wanted,    bs.active,     bs.done,       bs.refused,  bs.bytes_in,
		          bs.bytes_out, bs.bad_chunks, bs.hashed_out, bs.scrubbed, bs.scrub_bad };
	for (size_t k = 0; k < sizeof bm / sizeof bm[0]; k++) {
		metric(b, bm[k][0], bm[k][1], bm[k][2]);
		wb_printf(b, "%s %llu\n", bm[k][0], (unsigned long long)bv[k]);
	}
	pthread_mutex_lock(&r->w->mu);
	uint64_t reqs = r->w->requests;
	pthread_mutex_unlock(&r->w->mu);
	metric(b, "hansa_web_requests_total", "counter", "Requests answered by the web app.");
	wb_printf(b, "hansa_web_requests_total %llu\n", (unsigned long long)reqs);
	hx_cli_status_free(&pr);
}

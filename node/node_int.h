/*
 * node_int.h: the node's private structures and the functions its files
 * share (not part of the node's interface, which is node.h). The files, from
 * the bottom up: idq.c (a queue of ids), conn.c (members, peers,
 * connections, sending, ZAP), session.c (Negentropy reconciliation),
 * transfer.c (want/entries/push/ack, relaying), receive.c (storing
 * verified batches) and pipe.c (the pipeline of received entries and its
 * writer thread); node.c (setup, dispatch, local changes, timers and the
 * loop) calls them
 * all. A file calls only into files below it.
 */
#ifndef HX_NODE_INT_H
#define HX_NODE_INT_H

#include <zmq.h>
#include "proto/negentropy.h"
#include "store/recon.h"
#include "store/store.h"
#include "node/node.h"
#include "node/state.h"
#include "node/verify.h"

#define DEFAULT_INTERVAL_MS 30000
#define DEFAULT_NE_LIMIT (256u * 1024)
#define DEFAULT_TIMEOUT_MS 20000
#define WINDOW 4 /* live PUSHes in flight per connection (transfers: PUSHES_MAX) */
/* A bulk commit (ENTRIES, on the writer thread) stores up to this many
 * entries or bytes in one transaction, as `hansa import` does (store.h:
 * each commit rewrites the index pages it touches, so fewer, larger
 * ones write far less), when the backlog has them, */
#define COMMIT_ENTRIES HX_BULK_ENTRIES
#define COMMIT_BYTES HX_BULK_BYTES
#define COMMIT_MIN 4096      /* ... at least this many (see COMMIT_SLOW_MS), */
#define COMMIT_WAIT_MS 500   /* ... and waits for more at most this long */
#define COMMIT_SLOW_MS 1500  /* a commit slower than this makes the next ones smaller, */
#define LIVE_RECENT_MS 60000 /* ... when a live write came in this long */
/* The WANT window holds two bulk commits: the one being committed and
 * the one being received and verified meanwhile, so that the sender
 * never waits for the commit. It is also the memory bound of a transfer:
 * what was asked for and not yet committed (PROTOCOL.md §6.6). */
#define WANTS_MAX 256                                  /* WANTs in flight per connection, */
#define WANT_WINDOW_IDS (2 * COMMIT_ENTRIES)           /* ... asking for at most this many */
#define WANT_WINDOW_BYTES ((uint64_t)2 * COMMIT_BYTES) /* ... of about this many bytes */
/* A reconciliation's PUSHes (flag LIVE clear) fill the same window: up to
 * PUSHES_MAX in flight, WANT_WINDOW_IDS entries, WANT_WINDOW_BYTES. */
#define PUSHES_MAX WANTS_MAX
#define PIPE_MAX_ENTRIES (2 * WANT_WINDOW_IDS) /* received, not committed: at most */
#define PIPE_MAX_BYTES (2 * WANT_WINDOW_BYTES)
#define PUSH_BACKLOG_MAX 8192 /* larger relay backlogs go to reconciliation */
#define PING_MS 10000
#define IN_IDLE_MS 35000 /* a silent incoming connection is gone */
#define ACK_TIMEOUT_MS 15000
#define WANT_TIMEOUT_MS 30000
#define SESSION_TIMEOUT_MS 60000
#define FUTURE_US (10ull * 60 * 1000000)
#define STATS_FLUSH_MS 1000
#define SEEN_FLUSH_MS 60000     /* last_seen alone is written this often while connected */
#define SLACK_MS 5000           /* periodic work (pings, re-reads) due this soon runs now */
#define MEMBERS_RELOAD_MS 10000 /* members and peers re-read without a wake-up */
#define MEMBERS_POLL_MS 2000    /* ... when the wake-up socket is missing */
#define CHANGES_SAFETY_MS 10000 /* change log re-read without a wake-up */
#define CHANGES_POLL_MS 20      /* ... when the wake-up socket is missing */
#define BUSY_MS 2000            /* no reconciliation until a member's transfers rest this long */
#define REFUSED_LOG_PER_BATCH 5
#define REFUSED_IDS_MAX 65536          /* distinct refused ids remembered per member */
#define SKEW_WARN_US (60ull * 1000000) /* a clock this far off is warned about */
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MAXF (HX_WIRE_FRAMES_MAX + 1) /* + the ROUTER's routing id */
#define RECONNECT_IVL_MS 250          /* libzmq's reconnect interval, doubling to */
#define RECONNECT_IVL_MAX_MS 500
#define CONNECT_TIMEOUT_MS 1000 /* a TCP connect that hangs longer is retried */
#define RETRY_MIN_MS 1000       /* after a refused handshake: retry in 1 s, */
#define RETRY_MAX_MS 30000      /* doubling up to 30 s */
#define WANTED_SLOTS 1024       /* announced ids recently asked for (a cache) */
#define WANTED_MS 1000          /* ... not asked for again from another peer this long */
#define ANNOUNCED_MAX 4096      /* ids announced to a member that are remembered */
#define GRAFT_MS 15             /* an announced entry is asked for when no push brought it */

/* A FIFO of ids, each with a "live" flag. */
struct idq {
	uint8_t (*id)[HX_ID_LEN];
	uint8_t *live;
	uint64_t *at; /* when each came (µs): queues filled by hx_nd_idq_push_at */
	size_t head, n, cap;
};

/* A set of ids. */
struct idset {
	uint8_t (*id)[HX_ID_LEN];
	uint8_t *used;
	size_t n, cap;
};

/* A member this node talks to (statistics are per member). */
struct peer {
	uint8_t key[HX_KEY_LEN];
	char name[80];
	hx_peer_stats st;
	int dirty;
	uint64_t seen_saved;           /* st.last_seen as last written */
	int routine;                   /* a routine reconciliation's time and count are unwritten */
	uint64_t last_recon_any;       /* µs of the last reconciliation, either role */
	uint64_t not_member_logged;    /* µs: such refusals are logged once a minute */
	uint64_t last_have, last_need; /* of the last reconciliation, to log changes */
	uint64_t busy_until; /* µs: entries moved with this member until shortly before */
	int lazy;          /* relays reach it by ANNOUNCE alone: a relayed PUSH found it had them */
	int pushed;        /* transfer.c's forward(): pushed to just now */
	struct idset sent; /* ids sent to it since its transfers last rested: not sent again */
	struct idset announced;   /* ids announced to it lately (up to ANNOUNCED_MAX): a
	                           * WANT of one of them grafts (transfer.c) */
	struct idset refused_ids; /* ids it said it refused (REFUSED), counted once each */
	uint64_t refused_logged;  /* µs: its REFUSED messages are logged once a minute */
};

struct inflight {
	uint64_t id;       /* WANT request or PUSH seq */
	uint64_t deadline; /* µs */
	uint32_t count;
	uint64_t bytes; /* PUSH: of its entries */
	int transfer;   /* PUSH of reconciliation results (not live) */
	int got_last;   /* WANT: its last ENTRIES came (and waits in the pipeline) */
};

struct conn {
	int out;          /* our DEALER, else an incoming peer on the ROUTER */
	void *sock, *mon; /* DEALER and its monitor (out) */
	char mon_ep[64];
	uint8_t rid[256]; /* ROUTER routing id (in) */
	int rfd;          /* in: the descriptor its last message came on (ZMQ_SRCFD) */
	uint64_t probe_until, probe_at; /* in: pinged until then, next at (router.c) */
	size_t ridlen;
	char endpoint[HX_ENDPOINT_MAX + 1];
	uint8_t server_key[32]; /* out: the transport key we expect there */
	struct peer *peer;
	int connected;           /* transport up (out: handshake done) */
	int up;                  /* HELLOs exchanged */
	int auth_failed;         /* logged once per failure streak */
	int device;              /* incoming from a device of a member (store/org.h) */
	uint64_t device_checked; /* µs its device record was last checked */
	int device_revoked;      /* ... and found revoked: ignored from then on */
	unsigned retry_ms;       /* out: backoff after refused handshakes, or 0 */
	uint64_t retry_at;       /* out: µs to reopen the DEALER at, or 0 */
	int unreachable;         /* likewise */
	uint64_t created, connected_at, last_rx, last_tx;
	uint32_t peer_max_frame, peer_ne_limit;
	uint16_t peer_max_batch;
	uint32_t peer_caps; /* HELLO capabilities (HX_CAP_*) */
	/* initiator session */
	hx_ne *ine;
	hx_recon_view *iview;
	hx_ne_storage ist;
	uint32_t isession;
	uint64_t istarted;
	unsigned irounds;
	uint64_t ibytes;
	hx_ne_ids have, need;
	int recon_due; /* 1: on connect, 2: needed (a push fell behind) */
	uint64_t next_recon;
	uint64_t busy_retry; /* µs: the member answered busy; not again before */
	/* responder session */
	hx_ne *rne;
	hx_recon_view *rview;
	hx_ne_storage rst;
	uint32_t rsession;
	uint64_t rlast;
	/* transfers */
	struct idq want_q, push_q;
	struct idq ann_q;   /* ids of relayed entries to ANNOUNCE (HX_CAP_ANNOUNCE) */
	struct idq later_q; /* ids it announced: asked for (WANT) at later_at unless held */
	uint64_t later_at;  /* µs */
	struct inflight wants[WANTS_MAX], pushes[PUSHES_MAX];
	unsigned nwants, npushes;
	uint32_t next_req;
	uint64_t next_seq;
	/* once mode */
	int synced; /* one reconciliation completed */
	int finished;
	hx_sync_result *result;
};

/* What the commit of a received batch did, for ACK and REFUSED. */
struct batch_out {
	unsigned stored, known, refused;
	/* what was refused, for the REFUSED message */
	uint8_t reason[HX_WIRE_BATCH_MAX];
	uint8_t ids[HX_WIRE_BATCH_MAX][HX_ID_LEN];
};

/* One received batch on its way to the store (receive.c). */
struct stage {
	struct conn *c;
	hx_vjob *jobs; /* as the pool left them */
	size_t k;
	int live;
	hx_put *puts; /* its entries to store: puts[0, m) */
	size_t m;
	uint8_t (*ids)[HX_ID_LEN];       /* their ids (then those stored), or NULL */
	int fwd;                         /* there are members to forward to (forward) */
	uint8_t late[HX_WIRE_BATCH_MAX]; /* 1: forwarded after the commit, if stored */
	struct batch_out o;
};

/* A batch of ENTRIES in the pipeline (pipe.c): being verified, or
 * verified and waiting to be committed. */
struct pend {
	struct pend *next;
	struct conn *c;
	zmq_msg_t f[HX_WIRE_BATCH_MAX]; /* owned: the entries' frames */
	hx_vjob jobs[HX_WIRE_BATCH_MAX];
	size_t k, bytes;
	uint64_t arrived; /* µs */
	uint32_t request;
	int last;
	int ok;       /* every job verified (pipe.c verified) */
	int push;     /* a PUSH without LIVE (a reconciliation's), ACKed once committed */
	uint64_t seq; /* ... its sequence number */
};

struct hx_node {
	hx_store *store;
	hx_node_config cfg;
	void *zctx, *zap, *router;
	char endpoint[HX_ENDPOINT_MAX + 1];
	struct conn **conns;
	size_t nconns, capconns;
	struct peer **peers;
	size_t npeers, cappeers;
	hx_member *members;
	size_t nmembers;
	hx_vpool *pool;
	hx_vjob *jobs; /* a PUSH being stored */
	hx_put *puts;  /* ... its entries */
	/* the pipeline of received ENTRIES, oldest first, and spare batches */
	struct pend *pipe, *pipe_tail, *pipe_spare;
	size_t pipe_n, pipe_bytes; /* entries and bytes in it */
	size_t pipe_pushes;        /* ... its batches from PUSHes */
	uint64_t commit_us;        /* the last bulk commit's time per entry (us), 0: none */
	uint64_t live_at;          /* when a LIVE PUSH or a local write last came (us) */
	uint64_t entry_mean;       /* mean size of the entries received */
	size_t commit_max;         /* entries per bulk commit, now (pipe.c) */
	/* the bulk commit on the writer thread (pipe.c): its batches, taken
	 * off the pipeline, and their entries, until it is done and settled */
	hx_writer *wr;
	int wbusy;
	struct stage *wst;
	struct pend **wbs;
	size_t wnp, wke;
	hx_put *wputs;
	size_t capwputs;
	uint64_t wt0; /* µs: handed over */
	/* local change log */
	int wake_fd;                           /* our wake-up socket (store's node.sock), or -1 */
	unsigned long long wake_dev, wake_ino; /* what we bound, to unlink only ours */
	int changes_due;                       /* a writer of entries woke us */
	int reload_due;                        /* a writer of members or peers did */
	uint64_t last_seq;
	uint64_t *handled; /* seqs this node stored itself, ascending */
	size_t nhandled, caphandled;
	struct idq fresh;
	size_t fresh_over;
	uint32_t next_session;
	uint64_t next_flush, next_reload, next_changes, next_seen;
	uint64_t zap_refused; /* not yet added to the stored counter */
	void *router_mon;     /* monitor of the ROUTER: handshakes that failed */
	uint64_t junk;        /* pre-authentication junk, not yet added to "junk" */
	int *authed;          /* descriptors of ROUTER connections that sent a message */
	size_t nauthed, capauthed;
	uint64_t auth_failed;   /* ZAP refusals whose disconnect is still to come */
	hx_push_hist push_hist; /* latencies of LIVE pushes (state.h) */
	int push_hist_loaded;   /* push_hist holds the stored record */
	int push_hist_dirty;    /* push_hist has news to write at the stats flush */
	uint64_t zap_logged_at;
	uint8_t zap_logged_key[32];
	hx_sync_result *results;
	size_t nresults;
	int mon_seq;
	struct hx_nd_blobs *bl; /* blob replication (blobsync.c) */
	struct hx_nd_ftq *ftq;  /* text extraction thread (ftextq.c) */
	/* announced ids this node asked for (WANT) lately: a direct-mapped
	 * cache, so that an entry announced by several peers is fetched once */
	struct {
		uint8_t id[HX_ID_LEN];
		uint64_t at; /* µs */
	} wanted[WANTED_SLOTS];
	uint64_t entry_bytes; /* sent in WANT, ENTRIES, ANNOUNCE, PUSH (atomic) */
	uint64_t push_peak;   /* hx_node_push_peak (atomic) */
	uint64_t taken;       /* hx_node_pipe_counts: entries into the pipeline (atomic) */
	uint64_t commits;     /* ... and its commits (atomic) */
	uint64_t announced;   /* hx_node_announced: ids sent in ANNOUNCE (atomic) */
	char error[300];      /* why hx_node_run failed */
	char sock_error[160]; /* the last socket call that failed, and why */
};

/* ---- idq.c: the id queue ------------------------------------------------- */

int hx_nd_idq_push(struct idq *q, const uint8_t id[HX_ID_LEN], int live);
/* The same, noting when the id came (µs) in q->at. */
int hx_nd_idq_push_at(struct idq *q, const uint8_t id[HX_ID_LEN], int live, uint64_t at);
/* Pushes every id of from (with its time, if from has them) onto into;
 * stops at the first that fails. */
int hx_nd_idq_append(struct idq *into, const struct idq *from);
void hx_nd_idq_pop(struct idq *q, size_t k); /* drops the first k */
void hx_nd_idq_clear(struct idq *q);
void hx_nd_idq_free(struct idq *q);
/* 0: added, 1: it was there, -1: out of memory. */
int hx_nd_idset_add(struct idset *s, const uint8_t id[HX_ID_LEN]);
int hx_nd_idset_has(const struct idset *s, const uint8_t id[HX_ID_LEN]);
void hx_nd_idset_free(struct idset *s); /* also empties it */

/* ---- conn.c: members, peers, connections, sending, ZAP ------------------- */

/* A log line for the operator (through cfg.log; the node never prints). */
void hx_nd_log(hx_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The first 8 bytes of b in hex; returns out. */
const char *hx_nd_short_hex(char out[17], const uint8_t *b);

int hx_nd_members_reload(hx_node *n);
/* Borrowed until the next hx_nd_members_reload; NULL when not a member. */
const hx_member *hx_nd_member_by_key(hx_node *n, const uint8_t key[HX_KEY_LEN]);
/* The member's peer record, created (with its stored statistics) on first
 * use; owned by n. NULL when out of memory. */
struct peer *hx_nd_peer_get(hx_node *n, const uint8_t key[HX_KEY_LEN]);
/* Sets the peer's last error (shown by `hansa status`). */
void hx_nd_stats_error(struct peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes the peer's statistics to the store now. */
void hx_nd_peer_flush(hx_node *n, struct peer *p, uint64_t now);
void hx_nd_on_hello(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now);
/* Once: reports progress to cfg.progress. */
void hx_nd_progress(hx_node *n);
/* Once: c is done, ok or failed for why (logged and kept in its result). */
void hx_nd_finish(hx_node *n, struct conn *c, int ok, const char *why);

/* Sends a message of k frames; 0 or -1 (the connection is then marked down
 * or the message dropped because the peer is too slow). */
int hx_nd_send_parts(hx_node *n, struct conn *c, const void *const *parts, const size_t *lens,
                     size_t k);
/* The same, handing the last frame over to zmq without a copy when owned
 * (malloc'ed, parts[k - 1]) is not NULL: it is freed in any case. */
int hx_nd_send_parts_owned(hx_node *n, struct conn *c, const void *const *parts, const size_t *lens,
                           size_t k, void *owned);
int hx_nd_send1(hx_node *n, struct conn *c, const void *buf, size_t len);
int hx_nd_send_hello(hx_node *n, struct conn *c);

void hx_nd_session_end_initiator(struct conn *c);
void hx_nd_session_end_responder(struct conn *c);
/* The connection is down (why may be NULL): its sessions and queues are
 * dropped; an outgoing one stays to be reconnected. */
void hx_nd_conn_down(hx_node *n, struct conn *c, const char *why);
/* A new connection of peer p, owned by n; NULL when out of memory. */
struct conn *hx_nd_conn_new(hx_node *n, struct peer *p, int out);
/* Closes and frees n->conns[i] (the last one takes its place). */
void hx_nd_conn_remove(hx_node *n, size_t i);
/* Opens the DEALER of a configured peer; res (may be NULL) gets the outcome
 * of a once run. HX_EPERM: not a member or no transport key; HX_EINVAL: bad
 * endpoint (both logged, the peer stays unconnected); HX_ENOMEM, HX_EIO. */
int hx_nd_conn_open_out(hx_node *n, const hx_peer_conf *pc, hx_sync_result *res);
/* Closes a socket (NULL-safe; a failure is logged) and clears *s. */
void hx_nd_sock_close(hx_node *n, void **s);
/* Reopens c's DEALER now (c->retry_at has come: see conn.c). */
void hx_nd_conn_retry(hx_node *n, struct conn *c);
/* The connection to push to for a member: the up one heard from last,
 * other than except (may be NULL); NULL when none is up. */
struct conn *hx_nd_primary_conn(hx_node *n, const struct peer *p, const struct conn *except);
/* Binds the ZAP handler, then the ROUTER on cfg.bind; HX_EIO with the
 * reason in n->error. */
int hx_nd_listen(hx_node *n) HX_WUR;

/* Reads one whole message (all its frames) without blocking into f, which
 * has room for max frames. Returns 0 with a message, 1 when there is none.
 * Frames beyond max are read and dropped (*over set). */
int hx_nd_recv_msg(void *sock, zmq_msg_t *f, size_t max, size_t *k, int *over);
void hx_nd_close_frames(zmq_msg_t *f, size_t k);
/* Handles what the monitor of c's DEALER reported. */
void hx_nd_on_monitor(hx_node *n, struct conn *c);
/* The next event of monitor socket mon without blocking: 0 with *event,
 * 1 when there is none (conn.c). */
int hx_nd_mon_event(hx_node *n, void *mon, uint16_t *event, uint32_t *value);
/* Events of the ROUTER's monitor (router.c): connections that failed
 * before their CURVE handshake ended (junk, port scans, wrong protocol)
 * are counted, and an incoming connection that ended is taken down. */
void hx_nd_on_router_monitor(hx_node *n);
/* An incoming connection: PINGs it when router.c probes it; 1 when it has
 * been silent for IN_IDLE_MS (forgotten). When next to call it (µs). */
int hx_nd_in_gone(hx_node *n, struct conn *c, uint64_t now);
uint64_t hx_nd_in_due(const struct conn *c);
/* A message came in on the ROUTER connection with descriptor fd (-1:
 * unknown): it authenticated, so its end is not junk. */
void hx_nd_router_authed(hx_node *n, int fd);
/* Stops the ROUTER's monitor and closes its socket. */
void hx_nd_router_mon_close(hx_node *n);
/* Answers the ZAP requests waiting. */
void hx_nd_on_zap(hx_node *n);

/* ---- session.c: reconciliation -------------------------------------------- */

/* No entries queued or in flight on c (both ways); on any connection of
 * p's member. A reconciliation waits for them (PROTOCOL.md §6.2). */
int hx_nd_transfers_idle(const struct conn *c);
int hx_nd_member_idle(hx_node *n, const struct peer *p);
/* Starts a reconciliation as initiator on c. */
void hx_nd_recon_start(hx_node *n, struct conn *c, uint64_t now);
void hx_nd_on_ne_query(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now);
void hx_nd_on_ne_reply(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now);
void hx_nd_on_ne_done(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now);
void hx_nd_on_ne_error(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now);

/* ---- transfer.c: sending (want/push/ack/announce), relay queues ---------- */

/* Queues ids for every connected member except source (live: a new
 * entry) as PUSH; relays (source set, live) skip the members that
 * understand ANNOUNCE, which receive.c reached before its commit. */
void hx_nd_relay(hx_node *n, const struct peer *source, const uint8_t (*ids)[HX_ID_LEN], size_t k,
                 int live);
/* Queues ids for ANNOUNCE to the connected members that understand it
 * (except source and those with pushed set) and sends them. */
void hx_nd_announce(hx_node *n, const struct peer *source, const uint8_t (*ids)[HX_ID_LEN],
                    size_t k);
/* The k ids of a batch that went out: not sent to p again until its
 * transfers rest (out of memory: one may go twice, which is harmless). */
void hx_nd_sent_mark(struct peer *p, uint8_t (*ids)[HX_ID_LEN], size_t k);
/* Sends what c's queues hold, as far as the windows allow. */
void hx_nd_pump(hx_node *n, struct conn *c, uint64_t now);
void hx_nd_on_want(hx_node *n, struct conn *c, const hx_wire_msg *w);
void hx_nd_on_ack(hx_node *n, struct conn *c, const hx_wire_msg *w);
/* ids of new entries c's member holds: not pushed or announced to that
 * member; asked for (WANT) GRAFT_MS later unless held or asked for by then
 * (hx_nd_announced_due). */
void hx_nd_on_announce(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now);
void hx_nd_announced_due(hx_node *n, struct conn *c, uint64_t now);
/* The peer says what it refused of what we sent (PROTOCOL.md §5 REFUSED). */
void hx_nd_on_refused(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now);

/* ---- receive.c: verified batches into the store, and relayed ------------- */

/* Sorts out ns verified batches before their commit: entries known or
 * refused are counted, the others written to puts (room for every entry
 * of them) and forwarded when they may go before the commit; returns how
 * many entries puts got. */
size_t hx_nd_stages_prepare(hx_node *n, struct stage *s, size_t ns, hx_put *puts);
/* After their commit (rc: its outcome, put results set): counts,
 * statistics, relays, REFUSED. */
void hx_nd_stages_settle(hx_node *n, struct stage *s, size_t ns, int rc);
/* Verifies a PUSH's k entries (frames f) into n->jobs, on every core;
 * returns 1 when each entry to store may be stored before the ENTRIES
 * received earlier (a member's plain entry signed by its own key, which
 * no record in them can change), else 0. */
int hx_nd_push_verify(hx_node *n, zmq_msg_t *f, size_t k);
/* Stores the PUSH hx_nd_push_verify verified, now, on this thread (the
 * writer thread being idle), with s its outcome. */
void hx_nd_push_commit(hx_node *n, struct conn *c, size_t k, int live, struct stage *s);

/* ---- pipe.c: the pipeline of received ENTRIES and the writer thread ------- */

/* f: the message's frames, the header first; the entries are taken into
 * the pipeline (verified on every core as they come, committed in order
 * by hx_nd_pipe_work on the writer thread). */
void hx_nd_on_entries(hx_node *n, struct conn *c, const hx_wire_msg *w, zmq_msg_t *f);
/* A PUSH is verified and committed at once (live: latency first), after
 * the bulk commit in flight; before the rest of the pipeline when it does
 * not depend on it (hx_nd_push_verify), else after it. */
void hx_nd_on_push(hx_node *n, struct conn *c, const hx_wire_msg *w, zmq_msg_t *f);
/* Verifies and commits everything in the pipeline, now, and waits. */
void hx_nd_flush_pending(hx_node *n);
/* Settles the bulk commit if the writer is done with it (no wait). */
void hx_nd_pipe_collect(hx_node *n);
/* Waits for the bulk commit in flight, if any, and settles it. */
void hx_nd_pipe_settle(hx_node *n);
/* A bulk commit is on the writer thread: the node opens no write
 * transaction of its own meanwhile (it would wait for it), and does not
 * read the change log (what the commit stored is not settled yet). */
int hx_nd_pipe_writing(const hx_node *n);
/* The descriptor that wakes the loop when the writer is done (-1: none),
 * and what to do then. */
int hx_nd_pipe_fd(const hx_node *n);
void hx_nd_pipe_on_writer(hx_node *n);
/* Moves the pipeline on without waiting for the network: helps verify,
 * hands a bulk commit to the writer when one is ready, or when nothing
 * more is coming. */
void hx_nd_pipe_work(hx_node *n, uint64_t now);
/* When hx_nd_pipe_work has something to do (now: at once), UINT64_MAX
 * when nothing (an empty pipeline, or the writer's descriptor wakes). */
uint64_t hx_nd_pipe_deadline(hx_node *n, uint64_t now);
/* Starts the writer thread; stops it (after a flush) and frees the
 * pipeline's spare batches. */
int hx_nd_pipe_start(hx_node *n) HX_WUR;
void hx_nd_pipe_free(hx_node *n);

/* ---- blobsync.c: attachment blobs (docs/PROTOCOL.md §9) ---- */

int hx_nd_blob_new(hx_node *n) HX_WUR; /* also sets the cfg.blob_* defaults */

/* ---- ftextq.c: text extraction on a background thread -------------------- */

/* Starts the thread; with catchup it first extracts every whole blob
 * that has no text row yet. */
int hx_nd_ftext_start(hx_node *n, int catchup) HX_WUR;
/* Queues a blob that became whole (no-op when the thread is not running). */
void hx_nd_ftext_want(hx_node *n, const uint8_t hash[HX_ID_LEN]);
/* Stops the thread after the blob it is on (drain: after the whole
 * queue) and frees the queue; NULL-safe as to a thread never started. */
void hx_nd_ftext_stop(hx_node *n, int drain);
void hx_nd_blob_destroy(hx_node *n);
/* A message of type 0x50-0x5f from an up connection (f: its k frames). */
void hx_nd_blob_on_msg(hx_node *n, struct conn *c, zmq_msg_t *f, size_t k);
/* Finds wanted blobs, fetches, serves; flush_now: write the counters. */
void hx_nd_blob_tick(hx_node *n, uint64_t now, int flush_now);
/* Re-reads the `hansa fetch` requests (after a wake-up). */
void hx_nd_blob_requests(hx_node *n);
/* This node stored e as seq (in ascending seq order, after the commit):
 * the blobs it attaches are wanted at once if it is its document's current
 * version, and the change-log scan passes over seq instead of reading the
 * entry back and decoding it again. */
void hx_nd_blob_stored(hx_node *n, uint64_t seq, const hx_entry *e);
/* The descriptor that becomes readable when received chunks were made
 * durable (-1: none), and what to do then. */
int hx_nd_blob_fd(const hx_node *n);
void hx_nd_blob_on_commit(hx_node *n);
/* When hx_nd_blob_tick has something to do without a message. */
uint64_t hx_nd_blob_deadline(hx_node *n, uint64_t now);

/* ---- local.c: local changes ---- */

/* Reads the change log since the last look and pushes what is new. */
void hx_nd_poll_changes(hx_node *n);
/* Binds the wake-up socket (else falls back to polling every
 * CHANGES_POLL_MS); closes and removes it. */
void hx_nd_wake_open(hx_node *n);
void hx_nd_wake_close(hx_node *n);
/* Drains the wake-up socket: marks changes or a config reload as due. */
void hx_nd_on_wake(hx_node *n);
/* Follows `hansa peer add/remove`, `join` and `member add/remove` made
 * while the node runs: connects to new peers, drops removed ones and
 * reconnects when a member's transport key changed. */
void hx_nd_reload_peers(hx_node *n);

#endif

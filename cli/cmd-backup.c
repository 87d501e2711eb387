/*
 * cmd-backup.c: `hansa backup DIR`: a consistent, compacted copy of the
 * store (LMDB copies from one read transaction, so a running node goes on
 * serving) with the identity key and the profile, written into DIR.tmp-PID
 * and renamed to DIR once complete. With --every, a loop for the service:
 * timestamped backups in DIR, the --keep newest kept.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli/identity.h"
#include "cli/log.h"
#include "cli/ops.h"

#define PREFIX "hansa-" /* --every: DIR/hansa-YYYYmmddTHHMMSSZ */
#define STAMP_LEN 16    /* YYYYmmddTHHMMSSZ */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct copy_job {
	const char *from, *to; /* store directories */
	hx_store_stats st;
};

/* In a child (a damaged page may crash liblmdb): opens the store read-only
 * and copies it. */
static int copy_child(void *arg)
{
	struct copy_job *j = arg;
	hx_store *s;
	int rc = hx_store_open(&s, j->from, HX_STORE_RDONLY);
	if (rc)
		return rc;
	rc = hx_store_copy(s, j->to);
	hx_store_close(&s);
	return rc;
}

/* Removes a backup folder this command wrote: only the names it writes. */
static void remove_backup(const char *dir)
{
	static const char *const files[] = { "store/data.mdb",
		                             "store/lock.mdb",
		                             "store",
		                             HX_KEYFILE,
		                             HX_KEYFILE ".tmp",
		                             HX_PROFILEFILE,
		                             HX_PROFILEFILE ".tmp",
		                             HX_ORGFILE,
		                             HX_ORGINVITE,
		                             NULL };
	char p[4600];
	for (int i = 0; files[i]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		if (unlink(p) && errno == EISDIR)
			rmdir(p);
	}
	rmdir(dir);
}

/* One backup of ctx's home into target (which must not exist). Prints the
 * error and returns non-zero on failure; on success fills *bytes. */
static int backup_one(struct hx_ctx *ctx, const char *target, uint64_t *bytes)
{
	char tmp[4300], from[4200], to[4400], src[4200], err[128];
	struct stat st;
	int res;

	if (!lstat(target, &st))
		return hx_fail("%s already exists; give a new folder", target);
	if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", target, (long)getpid()) >= (int)sizeof tmp ||
	    hx_home_path(ctx, "store", from, sizeof from))
		return hx_fail("path too long");
	if (stat(from, &st))
		return hx_fail("no store in %s (run 'hansa init' first)", ctx->home);
	remove_backup(tmp); /* left by an earlier run with our pid */
	if (mkdir(tmp, 0700))
		return hx_fail("cannot create %s: %s", tmp, strerror(errno));
	snprintf(to, sizeof to, "%s/store", tmp);
	struct copy_job job = { .from = from, .to = to };
	char why[256];
	if (hx_cli_run_child(copy_child, &job, &res, why, sizeof why)) {
		remove_backup(tmp);
		return hx_fail("the store is damaged (copying it: %s); " HX_DAMAGED_ADVICE, why);
	}
	if (res == HX_ECORRUPT) {
		remove_backup(tmp);
		return hx_fail(
		        "the store is damaged (LMDB reports corrupt pages); " HX_DAMAGED_ADVICE);
	}
	if (res) {
		hx_cli_errtext(res, tmp, err, sizeof err); /* while tmp exists */
		remove_backup(tmp);
		return hx_fail("cannot copy the store to %s: %s", target, err);
	}
	/* org.json and org-invite only in a device home or after a rotation */
	static const char *const files[] = { HX_KEYFILE, HX_PROFILEFILE, HX_ORGFILE, HX_ORGINVITE,
		                             NULL };
	for (int i = 0; files[i]; i++) {
		hx_home_path(ctx, files[i], src, sizeof src);
		if (i >= 2 && access(src, F_OK))
			continue;
		snprintf(to, sizeof to, "%s/%s", tmp, files[i]);
		if ((res = hx_cli_copy_file(src, to))) {
			hx_cli_errtext(res, tmp, err, sizeof err);
			remove_backup(tmp);
			return hx_fail("cannot copy %s: %s", src, err);
		}
	}
	snprintf(to, sizeof to, "%s/store/data.mdb", tmp);
	if (stat(to, &st)) {
		remove_backup(tmp);
		return hx_fail("the copy %s is missing", to);
	}
	*bytes = (uint64_t)st.st_size;
	chmod(to, 0600); /* hx_store_copy makes it 0600; an older copy was 0644 */
	/* hx_store_copy fsyncs data.mdb; the folder entries need it too:
	 * tmp/store's (data.mdb), tmp's (store, the key, the profile) */
	char sub[4400];
	snprintf(sub, sizeof sub, "%s/store", tmp);
	if (hx_fsync_parent(to) || hx_fsync_parent(sub) || rename(tmp, target) ||
	    hx_fsync_parent(target)) {
		int e = errno;
		remove_backup(tmp);
		return hx_fail("cannot complete %s: %s", target, strerror(e));
	}
	return 0;
}

/* "24h", "30m", "90s", "7d" or plain seconds; 0 on error. */
static uint64_t parse_interval(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	uint64_t mul = !*end               ? 1
	               : !strcmp(end, "s") ? 1
	               : !strcmp(end, "m") ? 60
	               : !strcmp(end, "h") ? 3600
	               : !strcmp(end, "d") ? 86400
	                                   : 0;
	if (end == s || *s == '-' || !mul || v == 0 || v > 366ull * 86400 / mul)
		return 0;
	return v * mul;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_stamp(const char *name)
{
	return !strncmp(name, PREFIX, strlen(PREFIX)) &&
	       strlen(name) == strlen(PREFIX) + STAMP_LEN && name[strlen(PREFIX) + 8] == 'T' &&
	       name[strlen(PREFIX) + STAMP_LEN - 1] == 'Z';
}

/* Keeps the keep newest DIR/hansa-* backups; removes the others and the
 * leftovers of interrupted runs (hansa-*.tmp-PID of dead processes). */
static void prune(const char *dir, unsigned keep)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, p[4400], line[4600];
	size_t n = 0, cap = 0;

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *t = strstr(de->d_name, ".tmp-");
		if (t && !strncmp(de->d_name, PREFIX, strlen(PREFIX))) {
			long pid = atol(t + 5);
			if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) &&
			    errno == ESRCH) {
				snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
				remove_backup(p);
			}
			continue;
		}
		if (!is_stamp(de->d_name))
			continue;
		char **nv = hx_grow(names, &cap, n + 1, sizeof *names);
		if (!nv)
			break;
		names = nv;
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i + keep < n; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		remove_backup(p);
		snprintf(line, sizeof line, "removed the old backup %s", p);
		hx_log(HX_LOG_INFO, line);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int every(struct hx_ctx *ctx, const char *dir, uint64_t interval, unsigned keep)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: sleeps end */
	char target[4300], line[4600], stamp[32];
	int failures = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hx_mkdirs(dir, 0700))
		return hx_fail("cannot create %s: %s", dir, strerror(errno));
	snprintf(line, sizeof line, "backing up %s into %s every %llu s, keeping %u", ctx->home,
	         dir, (unsigned long long)interval, keep);
	hx_log(HX_LOG_NOTICE, line);
	while (!stop) {
		uint64_t bytes = 0, t0 = hx_now_us();
		snprintf(target, sizeof target, "%s/" PREFIX "%s", dir, hx_cli_stamp(stamp));
		if (backup_one(ctx, target, &bytes) == 0) {
			snprintf(line, sizeof line, "backup %s written: %.1f MiB in %.1f s", target,
			         (double)bytes / 1048576.0, (double)(hx_now_us() - t0) / 1e6);
			hx_log(HX_LOG_NOTICE, line);
			prune(dir, keep);
			failures = 0;
		} else {
			/* the reason went to stderr; try again after the interval */
			failures++;
			snprintf(line, sizeof line, "backup %s failed (%d in a row)", target,
			         failures);
			hx_log(HX_LOG_ERR, line);
		}
		struct timespec left = { (time_t)interval, 0 };
		while (!stop && nanosleep(&left, &left) && errno == EINTR)
			;
	}
	hx_log(HX_LOG_NOTICE, "stopped");
	return HX_EXIT_OK;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	uint64_t interval = 0, bytes;
	long keep = -1;
	char *end;
	const char *v, *dir = a->argv[0];

	if ((v = hx_arg_value(a, "every")) && !(interval = parse_interval(v)))
		return hx_usage_error(
		        a->top, "--every: '%s' is not an interval like 24h, 30m, 90s or 7d", v);
	if ((v = hx_arg_value(a, "keep"))) {
		keep = strtol(v, &end, 10);
		if (*end || end == v || keep < 1 || keep > 10000)
			return hx_usage_error(a->top, "--keep: a number from 1 to 10000");
	}
	if (keep > 0 && !interval)
		return hx_usage_error(a->top, "--keep goes with --every");
	if (interval)
		return every(ctx, dir, interval, keep > 0 ? (unsigned)keep : 7);
	if (backup_one(ctx, dir, &bytes))
		return HX_EXIT_FAIL;
	printf("backup written to %s (%.1f MiB)\n", dir, (double)bytes / 1048576.0);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "every", 0, "INTERVAL",
	  "keep running (for a service): a backup into "
	  "DIR/hansa-YYYYmmddTHHMMSSZ now and after each INTERVAL (24h, 30m, 90s, 7d); logs one "
	  "line per backup",
	  0 },
	{ "keep", 0, "N",
	  "with --every: how many backups to keep (default 7); older ones and "
	  "leftovers of interrupted runs are removed",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_backup = {
	.name = "backup",
	.summary = "copy the store, key and profile while the node serves",
	.args = "DIR",
	.args_min = 1,
	.args_max = 1,
	.args_error = "give one DIR",
	.opts = opts,
	.text = "Writes a consistent, compacted copy of the store (as of the moment the\n"
	        "copy starts; a running node goes on serving and writing) with the\n"
	        "identity key and the profile into the new folder DIR: DIR.tmp-PID first,\n"
	        "renamed to DIR once complete, so a DIR that exists is a whole backup.\n"
	        "The key is copied as it is (protected by its passphrase, if any): keep\n"
	        "backups where only this partner can read them. 'hansa restore DIR'\n"
	        "puts one back.\n",
	.exec = exec,
};

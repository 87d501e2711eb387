/*
 * ops.c: the crash-proof store check, the disk-full wording and file
 * copies shared by the operations commands (see ops.h).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include "cli/ops.h"

/* The child: runs fn, sends its hx_err back, exits 0. A damaged page may
 * kill it instead (SIGSEGV, SIGBUS, or SIGABRT from an LMDB assertion or
 * the sanitizers). Its stderr goes nowhere: the parent speaks for it. */
static _Noreturn void child(hx_child_fn fn, void *arg, int out)
{
	struct rlimit nocore = { 0, 0 };
	int null = open("/dev/null", O_WRONLY);
	int32_t res;

	if (null >= 0)
		dup2(null, STDERR_FILENO);
	setrlimit(RLIMIT_CORE, &nocore);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	res = fn(arg);
	if (write(out, &res, sizeof res) != sizeof res)
		_exit(2);
	_exit(0);
}

int hx_cli_run_child(hx_child_fn fn, void *arg, int *result, char *why, size_t whylen)
{
	int fd[2], status;
	int32_t res = HX_OK;
	ssize_t got = 0;

	if (pipe(fd)) {
		snprintf(why, whylen, "cannot start a child process: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		snprintf(why, whylen, "cannot start a child process: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(fd[0]);
		child(fn, arg, fd[1]);
	}
	close(fd[1]);
	for (ssize_t r; got < (ssize_t)sizeof res; got += r) {
		r = read(fd[0], (char *)&res + got, sizeof res - (size_t)got);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0)
			break;
	}
	close(fd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got == sizeof res && WIFEXITED(status) && !WEXITSTATUS(status)) {
		*result = res;
		return 0;
	}
	if (WIFSIGNALED(status))
		snprintf(why, whylen, "liblmdb crashed with signal %d, %s", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else
		snprintf(why, whylen, "the reading process failed (exit %d)",
		         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return -1;
}

static int walk_child(void *arg)
{
	hx_store *s;
	uint64_t records;
	int rc = hx_store_open(&s, arg, HX_STORE_RDONLY);
	if (rc == HX_OK) {
		rc = hx_store_walk(s, &records);
		hx_store_close(&s);
	}
	return rc;
}

int hx_cli_store_probe(const char *dir, char *why, size_t whylen)
{
	char data[4200];
	struct stat st;
	int res;

	if (snprintf(data, sizeof data, "%s/data.mdb", dir) >= (int)sizeof data || stat(data, &st))
		return 0;
	if (hx_cli_run_child(walk_child, (void *)dir, &res, why, whylen))
		return -1;
	if (res != HX_ECORRUPT)
		return 0; /* fine, or an error the real open reports */
	snprintf(why, whylen, "LMDB reports corrupt pages");
	return -1;
}

int hx_cli_store_check(const char *dir)
{
	char why[256];
	if (!hx_cli_store_probe(dir, why, sizeof why))
		return 0;
	return hx_fail("the store is damaged (reading %s/data.mdb: %s); " HX_DAMAGED_ADVICE, dir,
	               why);
}

const char *hx_cli_errtext(int rc, const char *path, char *buf, size_t n)
{
	struct statvfs vfs;

	if ((rc == HX_EFULL || rc == HX_EIO) && !statvfs(path, &vfs)) {
		unsigned long long freeb = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
		/* LMDB says EIO for a short write, which is how a full disk
		 * shows; the map can be full with room on the disk */
		if (freeb < (rc == HX_EIO ? 1ull << 20 : 64ull << 20)) {
			snprintf(buf, n, "disk full (%llu MiB free)", freeb >> 20);
			return buf;
		}
		if (rc == HX_EFULL) {
			snprintf(buf, n, "the store's map is full (%llu MiB free on its disk)",
			         freeb >> 20);
			return buf;
		}
	}
	snprintf(buf, n, "%s", hx_strerror(rc));
	return buf;
}

int hx_cli_copy_file(const char *src, const char *dst)
{
	char tmp[4200], buf[65536];
	int in, out, rc = HX_OK;
	ssize_t r;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", dst) >= (int)sizeof tmp)
		return HX_ELIMIT;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? HX_ENOTFOUND : HX_EIO;
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		close(in);
		return HX_EIO;
	}
	while ((r = read(in, buf, sizeof buf)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = HX_EIO;
			break;
		}
		for (ssize_t w, off = 0; off < r; off += w) {
			if ((w = write(out, buf + off, (size_t)(r - off))) < 0) {
				rc = errno == ENOSPC || errno == EDQUOT ? HX_EFULL : HX_EIO;
				break;
			}
		}
		if (rc)
			break;
	}
	close(in);
	if (!rc && fsync(out))
		rc = errno == ENOSPC || errno == EDQUOT ? HX_EFULL : HX_EIO;
	if (close(out) && !rc)
		rc = HX_EIO;
	if (!rc && rename(tmp, dst))
		rc = HX_EIO;
	if (rc)
		unlink(tmp);
	return rc ? rc : hx_fsync_parent(dst) ? HX_EIO : HX_OK;
}

long hx_cli_file_user(const char *path)
{
	char real[PATH_MAX], fdp[64], link[PATH_MAX];
	DIR *proc, *fds;
	struct dirent *p, *f;
	long found = 0;

	if (!realpath(path, real) || !(proc = opendir("/proc")))
		return 0;
	while (!found && (p = readdir(proc))) {
		long pid = atol(p->d_name);
		if (pid <= 0 || pid == (long)getpid())
			continue;
		snprintf(fdp, sizeof fdp, "/proc/%ld/fd", pid);
		if (!(fds = opendir(fdp)))
			continue;
		while ((f = readdir(fds))) {
			char fp[384];
			snprintf(fp, sizeof fp, "%s/%s", fdp, f->d_name);
			ssize_t n = readlink(fp, link, sizeof link - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (!strcmp(link, real)) {
				found = pid;
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

void hx_cli_remove_store_dir(const char *dir)
{
	char p[4400];
	snprintf(p, sizeof p, "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

int hx_cli_store_idle(struct hx_ctx *ctx, char *store, size_t n)
{
	char data[4400];
	struct stat st;

	if (hx_home_path(ctx, "store", store, n))
		return hx_fail("home path too long");
	snprintf(data, sizeof data, "%s/data.mdb", store);
	long pid = stat(data, &st) ? 0 : hx_cli_file_user(data);
	if (pid)
		return hx_fail(
		        "process %ld (a running node?) has the store in %s open; stop it first",
		        pid, ctx->home);
	return 0;
}

char *hx_cli_stamp(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, 32, "%Y%m%dT%H%M%SZ", &tm);
	return out;
}

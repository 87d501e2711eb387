/*
 * rmtree.h: removes a temporary directory and everything below it, for the
 * C tests and benchmarks that make store directories (test_store,
 * bench_publish). Best effort: what cannot be removed is left.
 */
#ifndef HX_RMTREE_H
#define HX_RMTREE_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[4096];
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) >= (int)sizeof p)
			continue; /* too long to name: left */
		struct stat st;
		if (!lstat(p, &st) && S_ISDIR(st.st_mode))
			rmtree(p);
		else
			unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

#endif

/*
 * check.h: the smallest test harness: CHECK(cond) records a failure with
 * file and line and goes on; CHECK_RC(expr, rc) compares return codes;
 * check_done() prints "N passed, N failed" and gives the exit status.
 */
#ifndef HX_CHECK_H
#define HX_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (cond)                                                                        \
			check_passed++;                                                          \
		else {                                                                           \
			check_failed++;                                                          \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

#define CHECK_RC(expr, want)                                                                    \
	do {                                                                                    \
		int check_rc_ = (expr);                                                         \
		if (check_rc_ == (want))                                                        \
			check_passed++;                                                         \
		else {                                                                          \
			check_failed++;                                                         \
			fprintf(stderr, "%s:%d: %s returned %d, want %d\n", __FILE__, __LINE__, \
			        #expr, check_rc_, (int)(want));                                 \
		}                                                                               \
	} while (0)

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif

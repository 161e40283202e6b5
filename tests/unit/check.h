/*
 * check.h - the few assertions our C unit tests need.
 *
 * A failed CHECK prints the file, line and expression and counts a failure;
 * the test goes on so one run shows every broken case. check_finish()
 * prints "N passed, N failed" and gives main its exit status.
 */
#ifndef HIKYAKU_CHECK_H
#define HIKYAKU_CHECK_H

#include <ftw.h>
#include <stdio.h>
#include <string.h>

static unsigned check_passed, check_failed;

#define CHECK(expression)                                                                          \
	do {                                                                                       \
		if (expression) {                                                                  \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,          \
				#expression);                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_INT_EQ(actual, expected)                                                             \
	do {                                                                                       \
		long long check_a = (long long)(actual), check_e = (long long)(expected);          \
		if (check_a == check_e) {                                                          \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__,  \
				#actual, check_a, check_e);                                        \
		}                                                                                  \
	} while (0)

#define CHECK_STR_EQ(actual, expected)                                                             \
	do {                                                                                       \
		const char *check_a = (actual), *check_e = (expected);                             \
		if (check_a != NULL && check_e != NULL && strcmp(check_a, check_e) == 0) {         \
			check_passed++;                                                            \
		} else if (check_a == NULL && check_e == NULL) {                                   \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__,        \
				__LINE__, #actual, check_a ? check_a : "(null)",                   \
				check_e ? check_e : "(null)");                                     \
		}                                                                                  \
	} while (0)

static inline int
check_remove_entry(const char *path, const struct stat *info, int kind, struct FTW *walk)
{
	(void)info;
	(void)kind;
	(void)walk;
	return remove(path);
}

/* check_remove_tree: remove a test's temporary directory and all below it. */
static inline void
check_remove_tree(const char *directory)
{
	if (nftw(directory, check_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", directory);
}

static inline int
check_finish(void)
{
	printf("%u passed, %u failed\n", check_passed, check_failed);
	return check_failed == 0 && check_passed > 0 ? 0 : 1;
}

#endif

/*
 * compat - the one place for calls that only some systems have.
 *
 * Linux has syncfs(2), accept4(2), SO_PEERCRED and prctl(2); the BSDs have
 * other spellings or none. Each function here uses the Linux call when it
 * exists and a POSIX fallback otherwise. Building with
 * HIKYAKU_POSIX_FALLBACK forces the fallbacks on Linux too, so the BSD path
 * is tested every day. (The event loop's epoll-or-poll choice is keyed by
 * the same macro, inside lib/event.c.)
 *
 * Every function returns 0 (or a descriptor) on success and -1 with errno
 * on failure; none of them logs.
 */
#ifndef HIKYAKU_COMPAT_H
#define HIKYAKU_COMPAT_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * compat_syncfs: make everything written to the file system that holds fd
 * durable. The fallback flushes only fd itself (fsync), so a caller that
 * needs several files durable must, in the fallback, fsync each one:
 * compat_has_syncfs() says whether one call covers them all.
 */
int compat_syncfs(int fd);
bool compat_has_syncfs(void);

/*
 * compat_accept: accept a connection on listen_fd. The new descriptor is
 * close-on-exec, and non-blocking when is_nonblocking. Returns it, or -1
 * with errno (EAGAIN when no connection is waiting).
 */
int compat_accept(int listen_fd, bool is_nonblocking);

/*
 * compat_peer_credentials: the user and group of the process at the other
 * end of the UNIX socket fd, and its pid (-1 where the system cannot tell,
 * as with getpeereid). pid may be NULL.
 */
int compat_peer_credentials(int fd, uid_t *uid, gid_t *gid, pid_t *pid);

/*
 * compat_parent_death_signal: ask for signal when the parent process
 * dies (Linux PR_SET_PDEATHSIG). The fallback does nothing and returns 0:
 * callers must also notice the parent's death some other way (the server
 * skeleton watches its status channel). Call it again after any change of
 * identity, which clears the setting.
 */
int compat_parent_death_signal(int signal_number);

/* compat_set_nonblocking / compat_set_cloexec: set or clear the flag. */
int compat_set_nonblocking(int fd, bool is_nonblocking);
int compat_set_cloexec(int fd, bool is_cloexec);

#endif

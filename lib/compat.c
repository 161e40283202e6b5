/*
 * compat - Linux calls with POSIX fallbacks (see compat.h).
 *
 * HIKYAKU_POSIX_FALLBACK, or a system that is not Linux, selects the
 * fallback of every function at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "compat.h"

#if defined(__linux__) && !defined(HIKYAKU_POSIX_FALLBACK)
#define COMPAT_LINUX 1
#include <sys/prctl.h>
#else
#define COMPAT_LINUX 0
#endif

int
compat_set_nonblocking(int fd, bool is_nonblocking)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	flags = is_nonblocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, flags);
}

int
compat_set_cloexec(int fd, bool is_cloexec)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		return -1;
	flags = is_cloexec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, flags);
}

bool
compat_has_syncfs(void)
{
	return COMPAT_LINUX;
}

int
compat_syncfs(int fd)
{
#if COMPAT_LINUX
	return syncfs(fd);
#else
	return fsync(fd);
#endif
}

int
compat_accept(int listen_fd, bool is_nonblocking)
{
	int fd;

#if COMPAT_LINUX
	do
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | (is_nonblocking ? SOCK_NONBLOCK : 0));
	while (fd < 0 && errno == EINTR);
	return fd;
#else
	/*
	 * The descriptor is briefly inheritable; our programs do not fork
	 * from other threads, so no exec can see it. On BSD and Linux the
	 * accepted socket does not inherit O_NONBLOCK reliably, so set or
	 * clear it explicitly.
	 */
	do
		fd = accept(listen_fd, NULL, NULL);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -1;
	if (compat_set_cloexec(fd, true) < 0 || compat_set_nonblocking(fd, is_nonblocking) < 0) {
		int saved_errno = errno;

		close(fd);
		errno = saved_errno;
		return -1;
	}
	return fd;
#endif
}

int
compat_peer_credentials(int fd, uid_t *uid, gid_t *gid, pid_t *pid)
{
#if COMPAT_LINUX
	struct ucred credentials;
	socklen_t length = sizeof(credentials);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0)
		return -1;
	*uid = credentials.uid;
	*gid = credentials.gid;
	if (pid != NULL)
		*pid = credentials.pid;
	return 0;
#elif defined(__linux__)
	/* The forced fallback on Linux: behave like getpeereid (no pid). */
	struct ucred credentials;
	socklen_t length = sizeof(credentials);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0)
		return -1;
	*uid = credentials.uid;
	*gid = credentials.gid;
	if (pid != NULL)
		*pid = -1;
	return 0;
#else
	if (getpeereid(fd, uid, gid) < 0)
		return -1;
	if (pid != NULL)
		*pid = -1;
	return 0;
#endif
}

int
compat_parent_death_signal(int signal_number)
{
#if COMPAT_LINUX
	return prctl(PR_SET_PDEATHSIG, (unsigned long)signal_number, 0UL, 0UL, 0UL);
#else
	(void)signal_number;
	return 0;
#endif
}

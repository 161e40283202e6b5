/*
 * listen - the master's listening sockets.
 *
 * inet: one TCP socket per address of the service (its own host, or every
 * address of inet_interfaces), IPv6 sockets with IPV6_V6ONLY so "::" and
 * "0.0.0.0" coexist. unix: a stream socket in public/ or private/, mode
 * 0666 (the directory decides who reaches it), owned by mail_owner when
 * the master runs as root. fifo: a named pipe, mode 0622, opened
 * read-write so it never reports end of file.
 *
 * All descriptors are non-blocking and close-on-exec; the children get
 * them by dup2 (spawn.c). A socket file is replaced only when it is a
 * socket (or fifo): anything else in its place is an error, not deleted.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "master.h"
#include "xalloc.h"

#define UNIX_BACKLOG 128

static void
add_fd(struct service *service, int fd)
{
	service->listen_fds =
	    xreallocarray(service->listen_fds, (size_t)service->listen_count + 1, sizeof(int));
	service->listen_fds[service->listen_count++] = fd;
}

/* Give a socket file to mail_owner when we are root. */
static int
give_to_owner(const char *path)
{
	struct passwd *owner;

	if (!master_is_root)
		return 0;
	owner = getpwnam(master_settings->mail_owner);
	if (owner == NULL) {
		log_error("mail_owner %s: no such user", master_settings->mail_owner);
		return -1;
	}
	if (lchown(path, owner->pw_uid, owner->pw_gid) < 0) {
		log_error("chown %s: %m", path);
		return -1;
	}
	return 0;
}

static int
listen_inet_host(struct service *service, const char *host)
{
	struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *addresses, *address;
	char port[16];
	int status, bound = 0;

	snprintf(port, sizeof(port), "%u", service->inet_port);
	hints.ai_family = service->use_ipv4 && !service->use_ipv6   ? AF_INET
			  : service->use_ipv6 && !service->use_ipv4 ? AF_INET6
								    : AF_UNSPEC;
	status = getaddrinfo(host, port, &hints, &addresses);
	if (status != 0) {
		log_error("%s: listen on [%s]:%s: %s", service->origin, host, port,
			  gai_strerror(status));
		return -1;
	}
	for (address = addresses; address != NULL; address = address->ai_next) {
		int fd = socket(address->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		int on = 1;

		if (fd < 0) {
			/* No IPv6 on this host: "all" means what there is. */
			if (errno == EAFNOSUPPORT && strcmp(host, "::") == 0)
				continue;
			log_error("socket for [%s]:%s: %m", host, port);
			freeaddrinfo(addresses);
			return -1;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (address->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		if (bind(fd, address->ai_addr, address->ai_addrlen) < 0 ||
		    listen(fd, SOMAXCONN) < 0) {
			log_error("%s: bind [%s]:%s: %m", service->origin, host, port);
			close(fd);
			freeaddrinfo(addresses);
			return -1;
		}
		add_fd(service, fd);
		bound++;
	}
	freeaddrinfo(addresses);
	if (bound == 0 && strcmp(host, "::") != 0) {
		log_error("%s: no address to listen on for [%s]:%s", service->origin, host, port);
		return -1;
	}
	return 0;
}

/* Remove a stale socket or fifo at path; refuse to remove anything else. */
static int
remove_stale(const char *path, mode_t expected_type)
{
	struct stat info;

	if (lstat(path, &info) < 0)
		return errno == ENOENT ? 0 : -1;
	if ((info.st_mode & S_IFMT) != expected_type) {
		log_error("%s exists and is not a %s: not replacing it", path,
			  expected_type == S_IFSOCK ? "socket" : "fifo");
		return -1;
	}
	if (unlink(path) < 0) {
		log_error("remove %s: %m", path);
		return -1;
	}
	return 0;
}

static int
listen_unix(struct service *service)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	size_t length = strlen(service->socket_path);
	int fd;

	if (length >= sizeof(address.sun_path)) {
		log_error("%s: socket path %s is too long", service->origin, service->socket_path);
		return -1;
	}
	memcpy(address.sun_path, service->socket_path, length + 1);
	if (remove_stale(service->socket_path, S_IFSOCK) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_error("socket: %m");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		log_error("%s: bind %s: %m", service->origin, service->socket_path);
		close(fd);
		return -1;
	}
	if (chmod(service->socket_path, 0666) < 0 || give_to_owner(service->socket_path) < 0 ||
	    listen(fd, UNIX_BACKLOG) < 0) {
		log_error("%s: set up %s: %m", service->origin, service->socket_path);
		close(fd);
		return -1;
	}
	add_fd(service, fd);
	return 0;
}

static int
listen_fifo(struct service *service)
{
	int fd;

	if (remove_stale(service->socket_path, S_IFIFO) < 0)
		return -1;
	if (mkfifo(service->socket_path, 0622) < 0 || chmod(service->socket_path, 0622) < 0) {
		log_error("%s: mkfifo %s: %m", service->origin, service->socket_path);
		return -1;
	}
	if (give_to_owner(service->socket_path) < 0)
		return -1;
	fd = open(service->socket_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		log_error("open %s: %m", service->socket_path);
		return -1;
	}
	add_fd(service, fd);
	return 0;
}

int
master_listen_open(struct service *service)
{
	int status = 0;

	switch (service->type) {
	case MASTER_CF_INET:
		for (size_t i = 0; i < service->inet_hosts.count && status == 0; i++)
			status = listen_inet_host(service, service->inet_hosts.items[i]);
		break;
	case MASTER_CF_UNIX:
		status = listen_unix(service);
		break;
	case MASTER_CF_FIFO:
		status = listen_fifo(service);
		break;
	default:
		log_panic("master_listen_open: type %d", (int)service->type);
	}
	if (status < 0)
		master_listen_close(service);
	return status;
}

void
master_listen_close(struct service *service)
{
	for (int i = 0; i < service->listen_count; i++) {
		event_unwatch(master_loop, service->listen_fds[i]);
		close(service->listen_fds[i]);
	}
	service->is_listen_watched = false;
	if (service->listen_count > 0 && service->socket_path != NULL)
		unlink(service->socket_path);
	free(service->listen_fds);
	service->listen_fds = NULL;
	service->listen_count = 0;
}

void
master_listen_take(struct service *to, struct service *from)
{
	for (int i = 0; i < from->listen_count; i++)
		event_unwatch(master_loop, from->listen_fds[i]);
	from->is_listen_watched = false;
	free(to->listen_fds);
	to->listen_fds = from->listen_fds;
	to->listen_count = from->listen_count;
	from->listen_fds = NULL;
	from->listen_count = 0;
}

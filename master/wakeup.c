/*
 * wakeup - the master's wakeup timers (master.cf's wakeup column).
 *
 * Every period the master writes "W" to the service's own socket or fifo,
 * as a client would; if no process runs, the connection makes the master
 * start one. This keeps trigger daemons such as pickup and qmgr running
 * and scanning. The first wakeup is sent at once, so those daemons start
 * with the master; with the "?" form ("60?") wakeups are sent only after
 * the service was first used (a process was started for a client).
 * Only unix and fifo services can be woken.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "master.h"

/* Write "W" without ever blocking the master. */
static void
send_wakeup(const struct service *service)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	size_t length = strlen(service->socket_path);
	int fd;

	if (service->type == MASTER_CF_FIFO) {
		fd = open(service->socket_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	} else {
		if (length >= sizeof(address.sun_path))
			return;
		memcpy(address.sun_path, service->socket_path, length + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
			/* A full backlog: the service has wakeups enough. */
			if (errno != EAGAIN)
				log_warning("%s: wakeup: connect %s: %m", service->label,
					    service->socket_path);
			close(fd);
			return;
		}
	}
	if (fd < 0) {
		log_warning("%s: wakeup %s: %m", service->label, service->socket_path);
		return;
	}
	if (write(fd, "W", 1) != 1 && errno != EAGAIN)
		log_warning("%s: wakeup: write %s: %m", service->label, service->socket_path);
	close(fd);
}

static void
wakeup_due(void *context)
{
	struct service *service = context;

	service->has_wakeup_timer = false;
	if (master_is_stopping || service->is_retired)
		return;
	if (!service->wakeup_only_if_used || service->has_been_used)
		send_wakeup(service);
	service->wakeup_timer = event_timer(master_loop, (int64_t)service->wakeup_seconds * 1000,
					    wakeup_due, service);
	service->has_wakeup_timer = true;
}

void
master_wakeup_start(struct service *service)
{
	if (service->wakeup_seconds == 0 || service->socket_path == NULL)
		return;
	service->wakeup_timer =
	    event_timer(master_loop,
			service->wakeup_only_if_used ? (int64_t)service->wakeup_seconds * 1000 : 0,
			wakeup_due, service);
	service->has_wakeup_timer = true;
}

void
master_wakeup_stop(struct service *service)
{
	if (service->has_wakeup_timer)
		event_cancel_timer(master_loop, service->wakeup_timer);
	service->has_wakeup_timer = false;
}

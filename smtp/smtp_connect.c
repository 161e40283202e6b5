/*
 * smtp_connect - from a next hop to connected sockets (docs/smtp.md,
 * "Routing").
 *
 * "[host]:port" and "[host]" name one server: no MX lookup. "domain" and
 * "domain:port" are looked up as MX records (lowest preference first,
 * random among equals, as lib/dns gives them); a domain without MX
 * records is its own server (its A/AAAA records); a null MX (RFC 7505)
 * bounces. Each server's addresses come from lib/dns (A, AAAA) or the
 * system resolver as smtp_host_lookup says ("dns", the default; "native";
 * "dns, native": the system resolver for names DNS does not know), kept
 * to the families of inet_protocols; an address literal is used as is.
 * A temporary DNS failure defers, never bounces. The whole list stops at
 * smtp_mx_address_limit addresses.
 *
 * What it trusts: the next hop comes from qmgr's resolver (checked there
 * for length and control characters) and is parsed strictly again here;
 * DNS answers are lib/dns's to check.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "delivery.h"
#include "dns.h"
#include "log.h"
#include "smtp.h"
#include "strlist.h"
#include "xalloc.h"

int
smtp_tls_level_parse(const char *word)
{
	static const char *const names[] = {"none", "may", "encrypt", "verify", "secure"};

	if (*word == '\0')
		return SMTP_TLS_NONE;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(word, names[i]) == 0)
			return (int)i;
	/* Postfix's other levels: dane needs DNSSEC (not here), fingerprint is like secure. */
	if (strcasecmp(word, "dane") == 0 || strcasecmp(word, "dane-only") == 0)
		return SMTP_TLS_MAY;
	return -1;
}

static bool
is_host_character(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == ':';
}

static int
parse_port(const char *text, unsigned *port)
{
	char *end;
	unsigned long value;

	if (*text >= '0' && *text <= '9') {
		errno = 0;
		value = strtoul(text, &end, 10);
		if (errno != 0 || *end != '\0' || value == 0 || value > 65535)
			return -1;
		*port = (unsigned)value;
		return 0;
	}
	{
		struct servent *service = getservbyname(text, "tcp");

		if (service == NULL)
			return -1;
		*port = ntohs((uint16_t)service->s_port);
	}
	return 0;
}

int
smtp_nexthop_parse(struct smtp_state *state, const char *nexthop, struct dstring *error)
{
	char *copy;
	char *host, *port_text = NULL;
	const char *domain;

	state->nexthop_port = 25;
	state->is_bracketed = false;
	if (*nexthop == '\0') {
		/* No next hop: the domain of the first recipient. */
		domain = strrchr(state->request->recipients[0].address, '@');
		nexthop = domain != NULL ? domain + 1 : "";
		if (*nexthop == '\0') {
			dstring_set(error, "no next hop and no recipient domain");
			return -1;
		}
	}
	copy = xstrdup(nexthop);
	host = copy;
	if (*host == '[') {
		char *close = strchr(host, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
			dstring_printf(error, "malformed next hop \"%s\"", nexthop);
			free(copy);
			return -1;
		}
		*close = '\0';
		host++;
		if (close[1] == ':')
			port_text = close + 2;
		state->is_bracketed = true;
		if (strncasecmp(host, "ipv6:", 5) == 0)
			host += 5;
	} else {
		char *colon = strrchr(host, ':');

		if (colon != NULL && strchr(host, ':') == colon) {
			*colon = '\0';
			port_text = colon + 1;
		}
	}
	if (*host == '\0' || strlen(host) > 253) {
		dstring_printf(error, "malformed next hop \"%s\"", nexthop);
		free(copy);
		return -1;
	}
	for (const char *p = host; *p != '\0'; p++)
		if (!is_host_character(*p)) {
			dstring_printf(error, "malformed next hop \"%s\"", nexthop);
			free(copy);
			return -1;
		}
	if (port_text != NULL && parse_port(port_text, &state->nexthop_port) < 0) {
		dstring_printf(error, "bad port in next hop \"%s\"", nexthop);
		free(copy);
		return -1;
	}
	free(state->nexthop_host);
	state->nexthop_host = xstrdup(host);
	free(copy);
	return 0;
}

/* protocol_families: which of IPv4 and IPv6 inet_protocols allows. */
static void
protocol_families(bool *ipv4, bool *ipv6)
{
	struct strlist words;

	*ipv4 = *ipv6 = false;
	strlist_init(&words);
	strlist_split(&words, var_inet_protocols, ", \t", NULL);
	for (size_t i = 0; i < words.count; i++) {
		if (strcasecmp(words.items[i], "all") == 0)
			*ipv4 = *ipv6 = true;
		else if (strcasecmp(words.items[i], "ipv4") == 0)
			*ipv4 = true;
		else if (strcasecmp(words.items[i], "ipv6") == 0)
			*ipv6 = true;
	}
	strlist_fini(&words);
	if (!*ipv4 && !*ipv6)
		*ipv4 = true;
}

struct target_list {
	struct smtp_target *items;
	size_t count, limit;
};

/* The results of one host's address lookup (the order matters: worse last). */
enum host_result {
	HOST_FOUND,    /* addresses added (or the list was already full) */
	HOST_NOTFOUND, /* no such host, or no address of a family we use */
	HOST_TEMPFAIL, /* try again later */
};

/* smtp_host_lookup words (Postfix's): DNS, the system resolver, or both. */
enum {
	HOST_LOOKUP_DNS = 1 << 0,
	HOST_LOOKUP_NATIVE = 1 << 1,
};

/*
 * host_lookup_mask: smtp_host_lookup as bits. smtp_dns_support_level =
 * disabled means the system resolver only, as in Postfix; an empty or
 * unreadable setting means dns, the default.
 */
static unsigned
host_lookup_mask(void)
{
	struct strlist words;
	unsigned mask = 0;

	if (strcasecmp(var_smtp_dns_support_level, "disabled") == 0)
		return HOST_LOOKUP_NATIVE;
	strlist_init(&words);
	strlist_split(&words, var_smtp_host_lookup, ", \t", NULL);
	for (size_t i = 0; i < words.count; i++) {
		if (strcasecmp(words.items[i], "dns") == 0)
			mask |= HOST_LOOKUP_DNS;
		else if (strcasecmp(words.items[i], "native") == 0)
			mask |= HOST_LOOKUP_NATIVE;
		else
			log_warning("smtp_host_lookup: unknown word \"%s\" ignored",
			            words.items[i]);
	}
	strlist_fini(&words);
	return mask != 0 ? mask : HOST_LOOKUP_DNS;
}

/* is_host_name: a name we may look up and log (an MX exchange is DNS data). */
static bool
is_host_name(const char *name)
{
	size_t length = strlen(name);

	if (length == 0 || length > 253)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!is_host_character(*p) || *p == ':')
			return false;
	return true;
}

/*
 * add_target: one address of host to list, unless the list is full or
 * the family is not one inet_protocols allows. Returns true when added.
 */
static bool
add_target(struct target_list *list, const char *host, unsigned port,
           const struct sockaddr *address, socklen_t address_length)
{
	struct smtp_target *target;
	bool ipv4, ipv6;

	protocol_families(&ipv4, &ipv6);
	if (list->limit > 0 && list->count >= list->limit)
		return false;
	if ((address->sa_family == AF_INET && !ipv4) || (address->sa_family == AF_INET6 && !ipv6) ||
	    (address->sa_family != AF_INET && address->sa_family != AF_INET6))
		return false;
	if (address_length > sizeof(list->items[0].sockaddr) ||
	    strlen(host) >= sizeof(target->host))
		return false;
	list->items = xreallocarray(list->items, list->count + 1, sizeof(*list->items));
	target = &list->items[list->count];
	memset(target, 0, sizeof(*target));
	memcpy(&target->sockaddr, address, address_length);
	target->sockaddr_length = address_length;
	if (address->sa_family == AF_INET)
		((struct sockaddr_in *)&target->sockaddr)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&target->sockaddr)->sin6_port = htons((uint16_t)port);
	if (getnameinfo(address, address_length, target->address, sizeof(target->address), NULL, 0,
	                NI_NUMERICHOST) != 0)
		return false;
	memcpy(target->host, host, strlen(host) + 1);
	target->port = port;
	list->count++;
	return true;
}

/*
 * add_literal: text as an IPv4 or IPv6 address literal. Returns 1 when
 * added, 0 when it is one but was not added (list full, family not in
 * inet_protocols), -1 when text is not an address literal.
 */
static int
add_literal(struct target_list *list, const char *host, const char *text, unsigned port)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, text, &in.sin_addr) == 1) {
		in.sin_family = AF_INET;
		return add_target(list, host, port, (struct sockaddr *)&in, sizeof(in)) ? 1 : 0;
	}
	if (inet_pton(AF_INET6, text, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		return add_target(list, host, port, (struct sockaddr *)&in6, sizeof(in6)) ? 1 : 0;
	}
	return -1;
}

/*
 * add_dns: host's A and AAAA records through lib/dns, for the families
 * of inet_protocols (A first). Some address found is HOST_FOUND even when
 * the other family's lookup failed; otherwise a temporary failure of
 * either lookup is HOST_TEMPFAIL (the mail is deferred, never bounced).
 */
static enum host_result
add_dns(struct target_list *list, const char *host, unsigned port, struct dstring *reason)
{
	static const int types[2] = {DNS_TYPE_A, DNS_TYPE_AAAA};
	bool ipv4, ipv6, is_tempfail = false, has_reason = false;
	size_t added = 0;
	struct dstring error;

	protocol_families(&ipv4, &ipv6);
	dstring_init(&error, 512);
	for (int i = 0; i < 2; i++) {
		struct dns_answer answer = {NULL, 0};
		enum dns_status found;

		if ((types[i] == DNS_TYPE_A && !ipv4) || (types[i] == DNS_TYPE_AAAA && !ipv6))
			continue;
		dstring_reset(&error);
		found = dns_lookup(host, types[i], &answer, &error);
		if (found == DNS_OK) {
			/* At most DNS_RECORDS_MAX records; the list limit stops earlier. */
			for (size_t j = 0; j < answer.count; j++)
				if (add_literal(list, host, answer.records[j].address, port) == 1)
					added++;
		} else if (found == DNS_TEMPFAIL || !has_reason) {
			if (found == DNS_TEMPFAIL)
				is_tempfail = true;
			if (found == DNS_TEMPFAIL || !is_tempfail) {
				dstring_printf(reason,
				               "Host or domain name not found. Name service error "
				               "for name=%s type=%s: %s",
				               host, dns_type_name(types[i]), dstring_str(&error));
				has_reason = true;
			}
		}
		dns_answer_fini(&answer);
	}
	dstring_fini(&error);
	if (added > 0 || (list->limit > 0 && list->count >= list->limit))
		return HOST_FOUND;
	if (!has_reason)
		dstring_printf(reason,
		               "Host or domain name not found. Name service error for name=%s "
		               "type=A: no usable address",
		               host);
	return is_tempfail ? HOST_TEMPFAIL : HOST_NOTFOUND;
}

/* add_native: host's addresses from the system resolver (/etc/hosts too). */
static enum host_result
add_native(struct target_list *list, const char *host, unsigned port, struct dstring *reason)
{
	struct addrinfo hints, *found = NULL;
	bool ipv4, ipv6;
	int status;
	size_t added = 0;

	protocol_families(&ipv4, &ipv6);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = ipv4 && ipv6 ? AF_UNSPEC : ipv4 ? AF_INET : AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	status = getaddrinfo(host, NULL, &hints, &found);
	if (status != 0) {
		bool is_notfound = status == EAI_NONAME || status == EAI_NODATA;

		dstring_printf(reason,
		               "Host or domain name not found. Name service error for "
		               "name=%s type=A: %s",
		               host, is_notfound ? "Host not found" : gai_strerror(status));
		return is_notfound ? HOST_NOTFOUND : HOST_TEMPFAIL;
	}
	for (struct addrinfo *each = found; each != NULL; each = each->ai_next)
		if (add_target(list, host, port, each->ai_addr, each->ai_addrlen))
			added++;
	freeaddrinfo(found);
	if (added > 0 || (list->limit > 0 && list->count >= list->limit))
		return HOST_FOUND;
	dstring_printf(reason,
	               "Host or domain name not found. Name service error for "
	               "name=%s type=A: no usable address",
	               host);
	return HOST_NOTFOUND;
}

/*
 * add_host: the addresses of host, at port, to list, as Postfix's
 * smtp_addr_one: an address literal as it is; else DNS when
 * smtp_host_lookup has "dns" (a temporary failure stands: deferred);
 * then, when it has "native" and DNS found nothing, the system resolver.
 */
static enum host_result
add_host(struct target_list *list, const char *host, unsigned port, struct dstring *reason)
{
	unsigned mask = host_lookup_mask();
	enum host_result result = HOST_NOTFOUND;

	switch (add_literal(list, host, host, port)) {
	case 1:
		return HOST_FOUND;
	case 0:
		if (list->limit > 0 && list->count >= list->limit)
			return HOST_FOUND;
		dstring_printf(reason, "address %s: not of a protocol in inet_protocols", host);
		return HOST_NOTFOUND;
	default:
		break;
	}
	if (!is_host_name(host)) {
		dstring_printf(reason, "malformed host name \"%s\"", host);
		return HOST_NOTFOUND;
	}
	if (mask & HOST_LOOKUP_DNS) {
		result = add_dns(list, host, port, reason);
		if (result != HOST_NOTFOUND)
			return result;
	}
	if (mask & HOST_LOOKUP_NATIVE)
		result = add_native(list, host, port, reason);
	return result;
}

size_t
smtp_targets_find(struct smtp_state *state, struct smtp_target **targets,
                  enum delivery_action *action, char dsn[12], struct dstring *reason)
{
	struct target_list list = {NULL, 0, (size_t)var_smtp_mx_address_limit};
	enum host_result status;

	*targets = NULL;
	if (state->is_bracketed) {
		status = add_host(&list, state->nexthop_host, state->nexthop_port, reason);
	} else {
		struct dns_answer answer = {NULL, 0};
		bool is_null_mx = false;
		struct dstring error;
		enum dns_status found;

		dstring_init(&error, 512);
		found = dns_lookup_mx(state->nexthop_host, &answer, &is_null_mx, &error);
		if (found == DNS_OK && is_null_mx) {
			dstring_printf(reason, "Domain %s does not accept mail (nullMX)",
			               state->nexthop_host);
			memcpy(dsn, "5.1.0", 6);
			*action = DELIVERY_BOUNCED;
			dns_answer_fini(&answer);
			dstring_fini(&error);
			return 0;
		}
		if (found == DNS_TEMPFAIL) {
			dstring_printf(reason,
			               "Host or domain name not found. Name service error "
			               "for name=%s type=MX: %s",
			               state->nexthop_host, dstring_str(&error));
			memcpy(dsn, "4.4.3", 6);
			*action = DELIVERY_DEFERRED;
			dns_answer_fini(&answer);
			dstring_fini(&error);
			return 0;
		}
		if (found == DNS_OK) {
			/*
			 * RFC 5321 5.1: the MX hosts in preference order (random
			 * among equals, from lib/dns), each host's addresses in
			 * turn. A host whose addresses cannot be found is skipped;
			 * when none is left, the worst failure decides (a
			 * temporary one defers) and its reason stands.
			 */
			struct dstring one_reason;

			dstring_init(&one_reason, DELIVERY_REASON_MAX);
			status = HOST_NOTFOUND;
			/* Bounded by DNS_RECORDS_MAX and the address limit. */
			for (size_t i = 0; i < answer.count; i++) {
				enum host_result one;

				if (answer.records[i].name == NULL ||
				    *answer.records[i].name == '\0')
					continue;
				if (list.limit > 0 && list.count >= list.limit)
					break;
				dstring_reset(&one_reason);
				one = add_host(&list, answer.records[i].name, state->nexthop_port,
				               &one_reason);
				if (one == HOST_FOUND)
					continue;
				log_info("%s: MX host %s: %s", state->request->queue_id,
				         answer.records[i].name, dstring_str(&one_reason));
				if (one >= status) {
					status = one;
					dstring_set(reason, dstring_str(&one_reason));
				}
			}
			dstring_fini(&one_reason);
			if (list.count > 0)
				status = HOST_FOUND;
		} else {
			/* No MX: the domain is its own mail server. */
			status = add_host(&list, state->nexthop_host, state->nexthop_port, reason);
		}
		dns_answer_fini(&answer);
		dstring_fini(&error);
	}
	if (list.count > 0) {
		*targets = list.items;
		return list.count;
	}
	free(list.items);
	if (status == HOST_TEMPFAIL) {
		memcpy(dsn, "4.4.3", 6);
		*action = DELIVERY_DEFERRED;
	} else {
		memcpy(dsn, "5.4.4", 6);
		*action = DELIVERY_BOUNCED;
	}
	return 0;
}

/* bind_source: bind fd to smtp_bind_address(6) when set for its family. */
static int
bind_source(int fd, int family, struct dstring *error)
{
	const char *text = family == AF_INET ? var_smtp_bind_address : var_smtp_bind_address6;
	struct sockaddr_storage source;
	socklen_t length;

	if (*text == '\0')
		return 0;
	memset(&source, 0, sizeof(source));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&source;

		in->sin_family = AF_INET;
		length = sizeof(*in);
		if (inet_pton(AF_INET, text, &in->sin_addr) != 1) {
			dstring_printf(error, "bad smtp_bind_address \"%s\"", text);
			return -1;
		}
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&source;

		in6->sin6_family = AF_INET6;
		length = sizeof(*in6);
		if (inet_pton(AF_INET6, text, &in6->sin6_addr) != 1) {
			dstring_printf(error, "bad smtp_bind_address6 \"%s\"", text);
			return -1;
		}
	}
	if (bind(fd, (struct sockaddr *)&source, length) < 0) {
		dstring_printf(error, "bind %s: %s", text, strerror(errno));
		return -1;
	}
	return 0;
}

int
smtp_connect(const struct smtp_target *target, struct dstring *error)
{
	int family = target->sockaddr.ss_family;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int timeout = var_smtp_connect_timeout > 0 ? var_smtp_connect_timeout * 1000 : -1;
	int code = 0;

	if (fd < 0) {
		dstring_printf(error, "connect to %s[%s]:%u: socket: %s", target->host,
		               target->address, target->port, strerror(errno));
		return -1;
	}
	if (bind_source(fd, family, error) < 0) {
		close(fd);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&target->sockaddr, target->sockaddr_length) < 0) {
		if (errno != EINPROGRESS) {
			code = errno;
		} else {
			struct pollfd watch = {.fd = fd, .events = POLLOUT};
			int ready;

			do
				ready = poll(&watch, 1, timeout);
			while (ready < 0 && errno == EINTR);
			if (ready == 0) {
				code = ETIMEDOUT;
			} else if (ready < 0) {
				code = errno;
			} else {
				socklen_t length = sizeof(code);

				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) < 0)
					code = errno;
			}
		}
	}
	if (code != 0) {
		dstring_printf(error, "connect to %s[%s]:%u: %s", target->host, target->address,
		               target->port,
		               code == ETIMEDOUT ? "Connection timed out" : strerror(code));
		close(fd);
		return -1;
	}
	/*
	 * No Nagle: the content goes out in one flush and the final "." in
	 * the next; with Nagle the "." waits for the ACK of the content,
	 * which the server delays (up to 40 ms on Linux) because it has no
	 * reply to send before the ".". That made every delivery 40 ms
	 * longer. Each flush here is a whole command, a pipelined group or
	 * a block of content, so no tiny segments come of it. A failure
	 * costs only speed.
	 */
	if (family == AF_INET || family == AF_INET6) {
		int on = 1;

		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
			log_warning("connect to %s[%s]:%u: setsockopt TCP_NODELAY: %s",
			            target->host, target->address, target->port, strerror(errno));
	}
	return fd;
}

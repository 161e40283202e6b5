/*
 * services - read main.cf and master.cf into the list of services the
 * master runs, and check everything it can before anything starts.
 *
 * Nothing here opens a socket or starts a process, so a reload can read a
 * new configuration, find it broken and keep the running one. The values
 * the master needs later are copied into struct master_settings: a broken
 * reload may leave the global var_* variables half applied, and the
 * master must not use them after this returns.
 *
 * Checks beyond the parsers': the command exists and is executable in
 * $daemon_directory, the type is one the master supports, no two services
 * listen on the same address, -o overrides name good values, and
 * inet_interfaces / inet_protocols make sense.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dstring.h"
#include "log.h"
#include "master.h"
#include "master_cf.h"
#include "xalloc.h"

/* The addresses "all" and "loopback-only" stand for, per inet_protocols. */
static int
inet_interface_hosts(struct strlist *hosts, bool *use_ipv4_result, bool *use_ipv6_result)
{
	struct strlist interfaces, protocols;
	bool use_ipv4 = false, use_ipv6 = false;
	int problems = 0;

	strlist_init(&interfaces);
	strlist_init(&protocols);
	strlist_split(&protocols, var_inet_protocols, STRLIST_COMMA_SPACE, NULL);
	for (size_t i = 0; i < protocols.count; i++) {
		if (strcmp(protocols.items[i], "all") == 0) {
			use_ipv4 = use_ipv6 = true;
		} else if (strcmp(protocols.items[i], "ipv4") == 0) {
			use_ipv4 = true;
		} else if (strcmp(protocols.items[i], "ipv6") == 0) {
			use_ipv6 = true;
		} else {
			log_error("%s: inet_protocols: unknown protocol \"%s\"",
				  config_origin("inet_protocols") ? config_origin("inet_protocols")
								  : "main.cf",
				  protocols.items[i]);
			problems++;
		}
	}
	strlist_split(&interfaces, var_inet_interfaces, STRLIST_COMMA_SPACE, NULL);
	for (size_t i = 0; i < interfaces.count; i++) {
		const char *item = interfaces.items[i];

		if (strcmp(item, "all") == 0 || strcmp(item, "loopback-only") == 0) {
			bool is_all = item[0] == 'a';

			if (use_ipv4)
				strlist_append(hosts, is_all ? "0.0.0.0" : "127.0.0.1");
			if (use_ipv6)
				strlist_append(hosts, is_all ? "::" : "::1");
		} else {
			strlist_append(hosts, item);
		}
	}
	if (hosts->count == 0 && problems == 0) {
		log_error("inet_interfaces: no address to listen on");
		problems++;
	}
	strlist_fini(&interfaces);
	strlist_fini(&protocols);
	*use_ipv4_result = use_ipv4;
	*use_ipv6_result = use_ipv6;
	return problems;
}

/* An -o override must name a good value once applied. */
static int
check_overrides(const struct master_cf_entry *entry)
{
	struct dstring error;
	int problems = 0;

	dstring_init(&error, DSTRING_NO_LIMIT);
	for (size_t i = 0; i < entry->override_count; i++) {
		const struct master_cf_override *override = &entry->overrides[i];
		const struct config_param *param = config_param_find(override->name);

		/* An unknown name may serve other -o values; the daemon ignores it. */
		if (param == NULL)
			continue;
		dstring_reset(&error);
		if (config_check_value(param, override->value, &error) != 0) {
			log_error("%s, line %u: -o %s: %s", entry->origin_path, entry->origin_line,
				  override->name, dstring_str(&error));
			problems++;
		}
	}
	dstring_fini(&error);
	return problems;
}

/* The environment of children: import_environment, then MAIL_CONFIG. */
static char **
child_environment(const char *config_directory)
{
	struct strlist names, result;
	struct dstring pair;
	char **environment;

	strlist_init(&names);
	strlist_init(&result);
	dstring_init(&pair, DSTRING_NO_LIMIT);
	strlist_split(&names, var_import_environment, STRLIST_COMMA_SPACE, NULL);
	for (size_t i = 0; i < names.count; i++) {
		const char *item = names.items[i];
		const char *value;

		if (strncmp(item, "MAIL_CONFIG", 11) == 0 && (item[11] == '\0' || item[11] == '='))
			continue;
		if (strchr(item, '=') != NULL) {
			strlist_append(&result, item);
		} else if ((value = getenv(item)) != NULL) {
			dstring_printf(&pair, "%s=%s", item, value);
			strlist_append(&result, dstring_str(&pair));
		}
	}
	dstring_printf(&pair, "MAIL_CONFIG=%s", config_directory);
	strlist_append(&result, dstring_str(&pair));
	environment = xcalloc(result.count + 1, sizeof(*environment));
	for (size_t i = 0; i < result.count; i++)
		environment[i] = xstrdup(result.items[i]);
	dstring_fini(&pair);
	strlist_fini(&names);
	strlist_fini(&result);
	return environment;
}

/* The fixed part of a child's argv (docs/master.md, "Arguments"). */
static void
build_arguments(struct service *service, const struct master_cf_entry *entry,
		const char *config_directory)
{
	char number[32];

	strlist_append(&service->arguments, entry->command);
	strlist_append(&service->arguments, "-c");
	strlist_append(&service->arguments, config_directory);
	strlist_append(&service->arguments, "-n");
	strlist_append(&service->arguments, entry->service);
	strlist_append(&service->arguments, "-t");
	strlist_append(&service->arguments, master_cf_type_name(entry->type));
	if (master_is_root && entry->is_unprivileged)
		strlist_append(&service->arguments, "-u");
	if (master_is_root && entry->is_chroot)
		strlist_append(&service->arguments, "-r");
	if (entry->wakeup_seconds > 0) {
		snprintf(number, sizeof(number), "%u", entry->wakeup_seconds);
		strlist_append(&service->arguments, "-w");
		strlist_append(&service->arguments, number);
	}
	for (int i = 0; i < master_verbose && i < 5; i++)
		strlist_append(&service->arguments, "-v");
	for (size_t i = 0; i < entry->args.count; i++)
		strlist_append(&service->arguments, entry->args.items[i]);
}

static struct service *
make_service(const struct master_cf_entry *entry, const struct master_settings *settings,
	     const struct strlist *interface_hosts, int *problems)
{
	struct service *service = xcalloc(1, sizeof(*service));
	struct dstring text;
	struct stat info;

	dstring_init(&text, DSTRING_NO_LIMIT);
	service->name = xstrdup(entry->service);
	service->type = entry->type;
	dstring_printf(&text, "%s/%s", entry->service, master_cf_type_name(entry->type));
	service->label = xstrdup(dstring_str(&text));
	dstring_printf(&text, "%s, line %u", entry->origin_path, entry->origin_line);
	service->origin = xstrdup(dstring_str(&text));
	service->command_path = xpath_join(settings->daemon_directory, entry->command);
	service->max_process = entry->max_process == MASTER_CF_PROCESS_LIMIT_DEFAULT
				   ? var_default_process_limit
				   : entry->max_process;
	service->wakeup_seconds = entry->wakeup_seconds;
	service->wakeup_only_if_used = entry->wakeup_only_if_used;
	service->is_private = entry->is_private;
	service->is_unprivileged = entry->is_unprivileged;
	service->is_chroot = entry->is_chroot;
	service->status_pipe[0] = service->status_pipe[1] = -1;
	strlist_init(&service->arguments);
	strlist_init(&service->inet_hosts);
	build_arguments(service, entry, settings->config_directory);

	if (stat(service->command_path, &info) != 0 || access(service->command_path, X_OK) != 0) {
		log_error("%s: command %s: %s: %s", service->origin, entry->command,
			  service->command_path, strerror(errno));
		++*problems;
	} else if (!S_ISREG(info.st_mode)) {
		log_error("%s: command %s: %s: not a regular file", service->origin, entry->command,
			  service->command_path);
		++*problems;
	}
	switch (entry->type) {
	case MASTER_CF_INET:
		if (entry->inet_host[0] == '\0') {
			for (size_t i = 0; i < interface_hosts->count; i++)
				strlist_append(&service->inet_hosts, interface_hosts->items[i]);
		} else {
			strlist_append(&service->inet_hosts, entry->inet_host);
		}
		service->inet_port = entry->inet_port;
		dstring_set(&text, "inet");
		for (size_t i = 0; i < service->inet_hosts.count; i++)
			dstring_append_printf(&text, " [%s]:%u", service->inet_hosts.items[i],
					      service->inet_port);
		break;
	case MASTER_CF_UNIX:
	case MASTER_CF_FIFO:
		dstring_printf(&text, "%s/%s/%s", settings->queue_directory,
			       entry->is_private ? "private" : "public", entry->service);
		service->socket_path = xstrdup(dstring_str(&text));
		dstring_printf(&text, "%s %s", master_cf_type_name(entry->type), service->socket_path);
		break;
	default:
		log_error("%s: type %s is not supported by this master", service->origin,
			  master_cf_type_name(entry->type));
		++*problems;
		break;
	}
	service->key = xstrdup(dstring_str(&text));
	*problems += check_overrides(entry);
	dstring_fini(&text);
	return service;
}

struct service *
master_find_service(struct service *list, const char *key)
{
	for (; list != NULL; list = list->next)
		if (strcmp(list->key, key) == 0)
			return list;
	return NULL;
}

struct master_settings *
master_settings_load(const char *config_directory)
{
	struct master_settings *settings = xcalloc(1, sizeof(*settings));
	char *main_path = xpath_join(config_directory, "main.cf");
	char *master_path = xpath_join(config_directory, "master.cf");
	struct service **tail = &settings->services;
	struct strlist interface_hosts;
	struct master_cf table;
	struct stat info;
	bool use_ipv4, use_ipv6;
	int problems = 0;

	config_init(config_directory);
	if (stat(main_path, &info) == 0 || errno != ENOENT)
		problems += config_read_file(main_path);
	problems += config_apply();
	settings->config_directory = xstrdup(config_directory);
	settings->queue_directory = xstrdup(var_queue_directory);
	settings->daemon_directory = xstrdup(var_daemon_directory);
	settings->mail_owner = xstrdup(var_mail_owner);
	settings->throttle_seconds = var_service_throttle_time;
	settings->environment = child_environment(config_directory);

	strlist_init(&interface_hosts);
	problems += inet_interface_hosts(&interface_hosts, &use_ipv4, &use_ipv6);
	master_cf_init(&table);
	problems += master_cf_read(master_path, &table);
	for (size_t i = 0; i < table.count; i++) {
		struct service *service =
		    make_service(&table.entries[i], settings, &interface_hosts, &problems);
		struct service *other = master_find_service(settings->services, service->key);

		service->use_ipv4 = use_ipv4;
		service->use_ipv6 = use_ipv6;
		if (other != NULL) {
			log_error("%s: %s listens where %s (%s) already does", service->origin,
				  service->label, other->label, other->origin);
			problems++;
		}
		*tail = service;
		tail = &service->next;
	}
	master_cf_fini(&table);
	strlist_fini(&interface_hosts);
	free(main_path);
	free(master_path);
	if (problems > 0) {
		log_error("%d problem%s in the configuration in %s", problems,
			  problems == 1 ? "" : "s", config_directory);
		master_settings_free(settings);
		return NULL;
	}
	return settings;
}

void
master_service_free(struct service *service)
{
	if (service == NULL)
		return;
	free(service->name);
	free(service->label);
	free(service->key);
	free(service->command_path);
	free(service->origin);
	free(service->socket_path);
	free(service->listen_fds);
	strlist_fini(&service->arguments);
	strlist_fini(&service->inet_hosts);
	free(service);
}

void
master_settings_free(struct master_settings *settings)
{
	struct service *next;

	if (settings == NULL)
		return;
	for (struct service *service = settings->services; service != NULL; service = next) {
		next = service->next;
		master_service_free(service);
	}
	for (size_t i = 0; settings->environment[i] != NULL; i++)
		free(settings->environment[i]);
	free(settings->environment);
	free(settings->config_directory);
	free(settings->queue_directory);
	free(settings->daemon_directory);
	free(settings->mail_owner);
	free(settings);
}

/*
 * test_resolve - recipient → (class, transport, next hop) in a table of
 * settings × addresses → expected results, including table errors and bad
 * table values.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dstring.h"
#include "resolve.h"

/* The base settings every case starts from. */
static void
base_settings(struct resolve_settings *settings)
{
	memset(settings, 0, sizeof(*settings));
	settings->myhostname = "mail.example.org";
	settings->mydestination = "mail.example.org, localhost.example.org, localhost, "
				  ".sub.example.org";
	settings->inet_interfaces = "192.0.2.10, [2001:db8::10]";
	settings->proxy_interfaces = "198.51.100.7";
	settings->default_transport = "smtp";
	settings->local_transport = "local:mail.example.org";
	settings->relay_transport = "relay";
	settings->recipient_delimiter = "+";
	settings->parent_domain_matches_subdomains = "relay_domains";
}

struct resolve_case {
	const char *address;
	/* overrides of the base settings (NULL: keep) */
	const char *transport_maps;
	const char *relayhost;
	const char *relay_domains;
	const char *default_transport;
	const char *mydestination;
	const char *parents;
	/* expected */
	enum resolve_status status;
	enum resolve_class address_class;
	const char *transport;
	const char *next_hop;
	const char *error_part; /* for RESOLVE_TEMPFAIL */
};

#define LOCAL RESOLVE_CLASS_LOCAL
#define RELAY RESOLVE_CLASS_RELAY
#define DEFAULT RESOLVE_CLASS_DEFAULT
#define OK RESOLVE_OK
#define TEMP RESOLVE_TEMPFAIL

static const char TRANSPORT[] =
    "inline:{ {user@special.example = local:}, {x+tag@ext.example = tagged:hop}, "
    "{y@ext.example = plain:hop2}, {relay.example = smtp:[relay.example]:25}, "
    "{.relay.example = smtp:[subrelay.example]}, {empty.example = :}, "
    "{hoponly.example = :[gw.example]:2525}, {transonly.example = slow:}, "
    "{bare.example = lmtp}, {dead.example = error:5.1.1 mailbox unavailable here}, "
    "{later.example = retry:4.3.2 try later}, {void.example = discard:silently}, "
    "{bad.example = ../../etc:x}, {mail.example.org = lmtp:[127.0.0.1]:24} }";

static const struct resolve_case cases[] = {
    /* Local by mydestination, case and trailing dot ignored. */
    {"joe@mail.example.org", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", "mail.example.org", 0},
    {"joe@MAIL.Example.ORG.", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", "mail.example.org", 0},
    {"joe@localhost", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", 0, 0},
    {"joe@a.sub.example.org", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", 0, 0},
    {"joe@sub.example.org", 0, 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "sub.example.org", 0},
    {"joe@x.mail.example.org", 0, 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "x.mail.example.org", 0},
    {"joe", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", 0, 0},
    {"joe@", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", 0, 0},
    /* Address literals of this host. */
    {"joe@[127.0.0.1]", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", 0, 0},
    {"joe@[127.1.2.3]", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", 0, 0},
    {"joe@[IPv6:::1]", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", 0, 0},
    {"joe@[192.0.2.10]", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", 0, 0},
    {"joe@[IPv6:2001:db8::10]", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", 0, 0},
    {"joe@[198.51.100.7]", 0, 0, 0, 0, 0, 0, OK, LOCAL, "local", 0, 0},
    {"joe@[192.0.2.11]", 0, 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "[192.0.2.11]", 0},
    {"joe@[not an address]", 0, 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "[not an address]", 0},
    /* Remote: the domain, or relayhost. */
    {"joe@example.net", 0, 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "example.net", 0},
    {"joe@example.net", 0, "[smtp.isp.example]:587", 0, 0, 0, 0, OK, DEFAULT, "smtp", "[smtp.isp.example]:587", 0},
    {"joe@localhost", 0, "[smtp.isp.example]:587", 0, 0, 0, 0, OK, LOCAL, "local", 0, 0},
    {"joe@example.net", 0, 0, 0, "smtp:[gw.example]", 0, 0, OK, DEFAULT, "smtp", "[gw.example]", 0},
    {"joe@example.net", 0, "[isp]", 0, "smtp:[gw.example]", 0, 0, OK, DEFAULT, "smtp", "[isp]", 0},
    {"joe@example.net", 0, 0, 0, "error:5.7.1 no remote mail", 0, 0, OK, DEFAULT, "error", "5.7.1 no remote mail", 0},
    {"\"a@b\"@example.net", 0, 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "example.net", 0},
    /* relay_domains, with subdomains (parent_domain_matches_subdomains). */
    {"joe@partner.example", 0, 0, "partner.example", 0, 0, 0, OK, RELAY, "relay", "partner.example", 0},
    {"joe@a.partner.example", 0, 0, "partner.example", 0, 0, 0, OK, RELAY, "relay", "a.partner.example", 0},
    {"joe@a.partner.example", 0, 0, "partner.example", 0, 0, "", OK, DEFAULT, "smtp", "a.partner.example", 0},
    {"joe@partner.example", 0, "[isp]", "inline:{partner.example=ok}", 0, 0, 0, OK, RELAY, "relay", "[isp]", 0},
    /* transport_maps: full address, address without extension, domain, .parent. */
    {"user@special.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "local", "special.example", 0},
    {"other@special.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "special.example", 0},
    {"x+tag@ext.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "tagged", "hop", 0},
    {"y+tag@ext.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "plain", "hop2", 0},
    {"relay.example@relay.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "[relay.example]:25", 0},
    {"joe@relay.example", TRANSPORT, "[isp]", 0, 0, 0, 0, OK, DEFAULT, "smtp", "[relay.example]:25", 0},
    {"joe@a.b.relay.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "[subrelay.example]", 0},
    {"joe@a.b.relay.example", TRANSPORT, 0, 0, 0, 0, "transport_maps", OK, DEFAULT, "smtp", "[relay.example]:25", 0},
    {"joe@xrelay.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "xrelay.example", 0},
    /* Empty fields keep the defaults. */
    {"joe@empty.example", TRANSPORT, "[isp]", 0, 0, 0, 0, OK, DEFAULT, "smtp", "[isp]", 0},
    {"joe@hoponly.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "[gw.example]:2525", 0},
    {"joe@transonly.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "slow", "transonly.example", 0},
    {"joe@transonly.example", TRANSPORT, "[isp]", 0, 0, 0, 0, OK, DEFAULT, "slow", "[isp]", 0},
    {"joe@bare.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "lmtp", "bare.example", 0},
    /* transport_maps applies to local domains too. */
    {"joe@mail.example.org", TRANSPORT, 0, 0, 0, 0, 0, OK, LOCAL, "lmtp", "[127.0.0.1]:24", 0},
    /* Pseudo transports. */
    {"joe@dead.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "error", "5.1.1 mailbox unavailable here", 0},
    {"joe@later.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "retry", "4.3.2 try later", 0},
    {"joe@void.example", TRANSPORT, 0, 0, 0, 0, 0, OK, DEFAULT, "discard", "silently", 0},
    /* The wild card. */
    {"joe@anything.example", "inline:{ {* = smtp:[catchall]} }", 0, 0, 0, 0, 0, OK, DEFAULT, "smtp", "[catchall]", 0},
    /* A transport name that is not a service name: defer, never bounce. */
    {"joe@bad.example", TRANSPORT, 0, 0, 0, 0, 0, TEMP, 0, 0, 0, "bad transport name"},
    /* Table errors: temporary failures. */
    {"joe@example.net", "lmdb:/nonexistent/hikyaku/transport", 0, 0, 0, 0, 0, TEMP, 0, 0, 0, "transport_maps lookup"},
    {"joe@example.net", 0, 0, 0, 0, "localhost, lmdb:/nonexistent/hikyaku/dest", 0, TEMP, 0, 0, 0, "mydestination lookup"},
    {"joe@localhost", 0, 0, 0, 0, "localhost, lmdb:/nonexistent/hikyaku/dest", 0, OK, LOCAL, "local", 0, 0},
    {"joe@example.net", 0, 0, "lmdb:/nonexistent/hikyaku/relay", 0, 0, 0, TEMP, 0, 0, 0, "relay_domains lookup"},
    {"joe@example.net", 0, 0, 0, "", 0, 0, TEMP, 0, 0, 0, "default_transport is empty"},
};

static void
run_case(const struct resolve_case *c)
{
	struct resolve_settings settings;
	struct resolve_result result;
	struct resolve *resolve;
	struct dstring error;
	enum resolve_status status;
	unsigned failed_before = check_failed;

	base_settings(&settings);
	if (c->transport_maps)
		settings.transport_maps = c->transport_maps;
	if (c->relayhost)
		settings.relayhost = c->relayhost;
	if (c->relay_domains)
		settings.relay_domains = c->relay_domains;
	if (c->default_transport)
		settings.default_transport = c->default_transport;
	if (c->mydestination)
		settings.mydestination = c->mydestination;
	if (c->parents)
		settings.parent_domain_matches_subdomains = c->parents;
	resolve = resolve_open(&settings);
	resolve_result_init(&result);
	dstring_init(&error, 1024);
	status = resolve_address(resolve, c->address, &result, &error);
	CHECK_INT_EQ(status, c->status);
	if (status == RESOLVE_OK && c->status == RESOLVE_OK) {
		CHECK_INT_EQ(result.address_class, c->address_class);
		CHECK_STR_EQ(result.transport.data, c->transport);
		if (c->next_hop != NULL)
			CHECK_STR_EQ(result.next_hop.data, c->next_hop);
		CHECK_STR_EQ(result.address.data, c->address);
	} else if (status == RESOLVE_TEMPFAIL) {
		CHECK(strstr(error.data, c->error_part) != NULL);
		CHECK(error.data[0] == '4');
	}
	if (check_failed != failed_before)
		fprintf(stderr, "  (case %s; error \"%s\")\n", c->address, error.data);
	dstring_fini(&error);
	resolve_result_fini(&result);
	resolve_close(resolve);
}

static void
test_domain_class(void)
{
	struct resolve_settings settings;
	struct resolve *resolve;
	enum resolve_class address_class;
	struct dstring error;

	base_settings(&settings);
	settings.relay_domains = "partner.example";
	resolve = resolve_open(&settings);
	dstring_init(&error, 1024);
	CHECK_INT_EQ(resolve_domain_class(resolve, "localhost", &address_class, &error), RESOLVE_OK);
	CHECK_INT_EQ(address_class, RESOLVE_CLASS_LOCAL);
	CHECK_INT_EQ(resolve_domain_class(resolve, "partner.example", &address_class, &error),
		     RESOLVE_OK);
	CHECK_INT_EQ(address_class, RESOLVE_CLASS_RELAY);
	CHECK_INT_EQ(resolve_domain_class(resolve, "example.com", &address_class, &error),
		     RESOLVE_OK);
	CHECK_INT_EQ(address_class, RESOLVE_CLASS_DEFAULT);
	dstring_fini(&error);
	resolve_close(resolve);

	CHECK_INT_EQ(resolve_pseudo_transport("error"), RESOLVE_PSEUDO_ERROR);
	CHECK_INT_EQ(resolve_pseudo_transport("retry"), RESOLVE_PSEUDO_RETRY);
	CHECK_INT_EQ(resolve_pseudo_transport("discard"), RESOLVE_PSEUDO_DISCARD);
	CHECK_INT_EQ(resolve_pseudo_transport("smtp"), RESOLVE_PSEUDO_NONE);
}

/* inet_interfaces = all: every address of an interface is this host. */
static void
test_all_interfaces(void)
{
	struct resolve_settings settings;
	struct resolve_result result;
	struct resolve *resolve;
	struct dstring error;

	base_settings(&settings);
	settings.inet_interfaces = "all";
	resolve = resolve_open(&settings);
	resolve_result_init(&result);
	dstring_init(&error, 1024);
	CHECK_INT_EQ(resolve_address(resolve, "joe@[127.0.0.1]", &result, &error), RESOLVE_OK);
	CHECK_INT_EQ(result.address_class, RESOLVE_CLASS_LOCAL);
	CHECK_INT_EQ(resolve_address(resolve, "joe@[203.0.113.99]", &result, &error), RESOLVE_OK);
	CHECK_INT_EQ(result.address_class, RESOLVE_CLASS_DEFAULT);
	dstring_fini(&error);
	resolve_result_fini(&result);
	resolve_close(resolve);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_domain_class();
	test_all_interfaces();
	return check_finish();
}

/*
 * smtpd_check_internal - what the smtpd_check*.c files share: the parsed
 * restriction lists, the evaluation state of one smtpd_check() call and
 * the helpers that format replies. Not for use outside smtpd_check*.c.
 *
 * Files: smtpd_check.c (parsing, stages, the generic restrictions),
 * smtpd_check_reply.c (replies and log lines),
 * smtpd_check_access.c (check_*_access and the actions in table values),
 * smtpd_check_address.c (address and host name checks, the relay decision,
 * unlisted recipients and senders, sender login), smtpd_check_dnsbl.c
 * (reject_rbl_client, reject_rhsbl_*) and the DNS-based unknown_* checks.
 */
#ifndef HIKYAKU_SMTPD_CHECK_INTERNAL_H
#define HIKYAKU_SMTPD_CHECK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "dstring.h"
#include "resolve.h"
#include "smtpd_check.h"
#include "table.h"

/* Restriction classes and access-table values may nest this deep. */
#define SMTPD_CHECK_DEPTH_MAX 20
/* The longest reply text kept (addresses are bounded by the command line). */
#define SMTPD_CHECK_TEXT_MAX (64 * 1024)

/* What one restriction says. */
enum check_verdict {
	CHECK_DUNNO,  /* no opinion: go on with the next restriction */
	CHECK_PERMIT, /* this list permits: go on with the next list */
	CHECK_REJECT, /* result holds the reply */
};

enum restriction_kind {
	RESTRICTION_PERMIT,
	RESTRICTION_REJECT,
	RESTRICTION_DEFER,
	RESTRICTION_DEFER_IF_PERMIT,
	RESTRICTION_DEFER_IF_REJECT,
	RESTRICTION_WARN_IF_REJECT,
	RESTRICTION_PERMIT_MYNETWORKS,
	RESTRICTION_PERMIT_SASL_AUTHENTICATED,
	RESTRICTION_PERMIT_AUTH_DESTINATION,
	RESTRICTION_REJECT_UNAUTH_DESTINATION,
	RESTRICTION_DEFER_UNAUTH_DESTINATION,
	RESTRICTION_REJECT_UNLISTED_RECIPIENT,
	RESTRICTION_REJECT_UNLISTED_SENDER,
	RESTRICTION_REJECT_NON_FQDN_HELO_HOSTNAME,
	RESTRICTION_REJECT_INVALID_HELO_HOSTNAME,
	RESTRICTION_REJECT_UNKNOWN_HELO_HOSTNAME,
	RESTRICTION_REJECT_NON_FQDN_SENDER,
	RESTRICTION_REJECT_NON_FQDN_RECIPIENT,
	RESTRICTION_REJECT_UNKNOWN_SENDER_DOMAIN,
	RESTRICTION_REJECT_UNKNOWN_RECIPIENT_DOMAIN,
	RESTRICTION_REJECT_UNKNOWN_CLIENT_HOSTNAME,
	RESTRICTION_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME,
	RESTRICTION_REJECT_SENDER_LOGIN_MISMATCH,
	RESTRICTION_REJECT_AUTHENTICATED_SENDER_LOGIN_MISMATCH,
	RESTRICTION_REJECT_KNOWN_SENDER_LOGIN_MISMATCH,
	RESTRICTION_REJECT_UNAUTHENTICATED_SENDER_LOGIN_MISMATCH,
	RESTRICTION_REJECT_UNAUTH_PIPELINING,
	RESTRICTION_CHECK_CLIENT_ACCESS,
	RESTRICTION_CHECK_HELO_ACCESS,
	RESTRICTION_CHECK_SENDER_ACCESS,
	RESTRICTION_CHECK_RECIPIENT_ACCESS,
	RESTRICTION_REJECT_RBL_CLIENT,
	RESTRICTION_REJECT_RHSBL_CLIENT,
	RESTRICTION_REJECT_RHSBL_REVERSE_CLIENT,
	RESTRICTION_REJECT_RHSBL_HELO,
	RESTRICTION_REJECT_RHSBL_SENDER,
	RESTRICTION_REJECT_RHSBL_RECIPIENT,
	RESTRICTION_CLASS, /* a name from smtpd_restriction_classes */
};

/* What a restriction takes after its name. */
enum restriction_argument {
	ARGUMENT_NONE,
	ARGUMENT_TABLE,  /* check_*_access type:name */
	ARGUMENT_DOMAIN, /* reject_rbl_client bl.example[=127.0.0.2] */
};

struct restriction {
	enum restriction_kind kind;
	const char *name;          /* the restriction's own name (static) */
	char *argument;            /* the table or DNSBL domain as written */
	struct table_list *tables; /* ARGUMENT_TABLE */
	size_t class_index;        /* RESTRICTION_CLASS */
};

struct restriction_list {
	const char *parameter; /* "smtpd_recipient_restrictions", or the class name */
	struct restriction *items;
	size_t count;
};

/* The evaluation of one smtpd_check() call. */
struct check_state {
	enum smtpd_check_stage stage;
	const struct smtpd_check_client *client;
	const char *sender;    /* internal form, NULL when unknown */
	const char *recipient; /* internal form, NULL when unknown */
	struct smtpd_check_result *result;
	unsigned depth;
	bool warn_if_reject; /* the restriction being evaluated only warns */
	/* defer_if_permit / defer_if_reject remembered until the stage ends. */
	bool has_defer_if_permit;
	struct dstring defer_if_permit;
	bool has_defer_if_reject;
	struct dstring defer_if_reject;
	struct dstring client_text; /* "name[address]" */
};

/* ---- smtpd_check_reply.c ----------------------------------------------- */

/*
 * check_reject: the reply for a rejection: code, enhanced status dsn
 * (its class digit follows code) and the text. Logs it; under
 * warn_if_reject it only logs ("reject_warning") and says CHECK_DUNNO.
 */
enum check_verdict check_reject(struct check_state *state, int code, const char *dsn,
                                const char *format, ...) __attribute__((format(printf, 4, 5)));
/*
 * check_reject_text: the same for a reply given whole ("550 5.7.1 text"
 * or "550 text"): a missing enhanced status is default_dsn.
 */
enum check_verdict check_reject_text(struct check_state *state, const char *reply,
                                     const char *default_dsn);
/*
 * check_defer_if_permit: remember a 450 reply given if the stage would
 * otherwise go on (reject_tempfail_action and friends); action is
 * "defer_if_permit", "defer" or "reject"/"defer_if_reject" semantics as
 * in Postfix's *_tempfail_action parameters.
 */
enum check_verdict check_tempfail(struct check_state *state, const char *action, const char *dsn,
                                  const char *format, ...) __attribute__((format(printf, 4, 5)));
/* check_reject_reply: reject with a reply already formatted ("5.7.1 text"). */
enum check_verdict check_reject_reply(struct check_state *state, int code, const char *reply);
/* check_log: log "action: WHERE from host[addr]: text; from=<> to=<> ..." */
void check_log(struct check_state *state, const char *action, const char *text);
/* check_dict_retry: 451 4.3.0 <name>: Temporary lookup failure. */
enum check_verdict check_dict_retry(struct check_state *state, const char *reply_name);
/* check_server_error: 451 4.3.5 Server configuration error. */
enum check_verdict check_server_error(struct check_state *state);

/* ---- smtpd_check.c ----------------------------------------------------- */

/* Evaluate a list (also used for restriction lists in access-table values). */
enum check_verdict check_list(struct check_state *state, const struct restriction_list *list,
                              const char *reply_name, const char *reply_class);
/* Parse text into list (for access-table values: tables not allowed there). */
int check_parse_list(struct restriction_list *list, const char *parameter, const char *text,
                     bool allow_tables, struct dstring *error);
void check_free_list(struct restriction_list *list);

/* The configuration shared by the check files. */
struct resolve;
struct network_list;
struct check_config {
	struct network_list *mynetworks;
	struct resolve *resolve;
	struct table_list *local_recipient_maps; /* NULL when empty */
	struct table_list *relay_recipient_maps;
	struct table_list *virtual_alias_maps;
	struct table_list *sender_login_maps;
	struct table_list *rbl_reply_maps;
	struct network_list *virtual_alias_domains;
	bool access_parent_style; /* smtpd_access_maps in parent_domain_matches_subdomains */
};
extern struct check_config check_config;

/* The client as "name[address]". */
const char *check_client_text(struct check_state *state);

/* ---- smtpd_check_access.c ---------------------------------------------- */

enum check_verdict check_access(struct check_state *state, const struct restriction *restriction,
                                const char *reply_name, const char *reply_class);

/* ---- smtpd_check_address.c --------------------------------------------- */

enum check_verdict check_address_restriction(struct check_state *state,
                                             const struct restriction *restriction);
/* check_unlisted: the implicit reject_unlisted_recipient / _sender. */
enum check_verdict check_unlisted(struct check_state *state, const char *address, bool is_sender);
/* check_domain_of: the domain of an internal-form address ("" when none). */
const char *check_domain_of(const char *address);
/* check_resolve_class: the resolver's class of address's domain (any case, root dot). */
enum resolve_status check_resolve_class(const char *address, enum resolve_class *address_class,
                                        struct dstring *error);

/* ---- smtpd_check_dnsbl.c ----------------------------------------------- */

enum check_verdict check_dnsbl(struct check_state *state, const struct restriction *restriction);
/* check_unknown_domain: reject_unknown_{sender,recipient}_domain, helo. */
enum check_verdict check_unknown_domain(struct check_state *state, const char *address,
                                        bool is_sender);
enum check_verdict check_unknown_helo(struct check_state *state);

#endif

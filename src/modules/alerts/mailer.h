/* mailer.h — alert mail: what the front writes (a subject and a text of
 * one group of alerts) and what the helper does with it (a whole message
 * with its own recipients, handed to the local MTA).
 *
 * The front cannot exec (it runs as _steward under seccomp, and sendmail
 * must run as root under the unit's NoNewPrivileges, see mailer.c): it
 * asks the helper through the kit's module_task with {"subject", "body"}
 * and nothing else; the helper takes From and To from its own copy of the
 * settings.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "module.h"

#define MAIL_SUBJECT_MAX 200u
#define MAIL_BODY_MAX    (64u * 1024u)

/* sendmail's exit status for a temporary failure (sysexits.h EX_TEMPFAIL):
 * worth trying again. */
#define MAIL_EXIT_TEMPFAIL 75

/* The subject and body of a mail about group (alerts of one rule, as
 * webhook_groups() makes them) on host: "[FIRING] disk-full on web1:
 * /srv 92 % used", "[RESOLVED] …", "[FIRING:3] disk-full on web1".
 * Malloc'ed; -ENOMEM. */
int mail_compose(json_t *group, const char *host, const char *external_url, char **ret_subject,
                 char **ret_body);

/* The whole message the helper hands to sendmail -t -i: headers from
 * from/to (checked again here: an address with anything but its grammar is
 * -EINVAL) and subject (reduced to one line of printable ASCII, at most
 * MAIL_SUBJECT_MAX bytes), then body (CR and NUL dropped, lines past 998
 * bytes broken).  Malloc'ed; -EINVAL, -E2BIG, -ENOMEM. */
int mail_message(const char *from, const char *const *to, size_t n_to, const char *subject,
                 const char *body, char **ret);

/* The module's helper_task (module.h): args {"subject", "body"} (strings,
 * bounded, no other member); runs /usr/sbin/sendmail -t -i with the
 * message for the settings' mail_to, From mail_from (or steward@HOST).
 * *ret = {"outcome": "sent|retry|failed", "exit_status": n (-1: it did not
 * run or was killed), "message": its first words}: sent for exit 0,
 * retry for EX_TEMPFAIL or past 30 s (killed), failed otherwise.
 * -errno with err filled only for what no retry mends (bad args: 400;
 * nobody in mail_to, an address a header cannot carry: 409). */
int alerts_mail_task(json_t *args, json_t **ret, struct module_error *err);

/* timesyncd.h — systemd-timesyncd's configuration, the time module's backend
 * for its ntp:* settings (timesyncd.c).
 *
 * timesyncd reads /etc/systemd/timesyncd.conf and then every *.conf drop-in
 * of the timesyncd.conf.d directories in name order (a name in /etc hides
 * the same name elsewhere), each an INI file whose [Time] section may set
 * NTP=, FallbackNTP=, RootDistanceMaxSec=, PollIntervalMinSec= and
 * PollIntervalMaxSec= (timesyncd.conf(5)).  A server list assignment adds
 * to the list; an empty one resets it.  Steward writes only its own drop-in,
 * TSYNC_DROPIN, and in it only the keys it manages: a list is written as a
 * reset followed by the list, so the drop-in replaces what came before it.
 * Other keys, sections and comments in the drop-in are kept.
 *
 * The parsing and rewriting functions work on text and are pure (the unit
 * tests drive them); tsync_read() and tsync_apply() touch the files.
 * Server names are the one input that reaches the file: the grammar in
 * ntp_server_valid() admits no blank, '#', '=' or control character, so a
 * value cannot add a line or a key.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"

#define TSYNC_MAIN       "/etc/systemd/timesyncd.conf"
#define TSYNC_DROPIN_DIR "/etc/systemd/timesyncd.conf.d"
#define TSYNC_DROPIN     TSYNC_DROPIN_DIR "/50-steward.conf"

#define TSYNC_FILE_MAX    (64UL * 1024) /* a config file larger than this is not read */
#define TSYNC_DROPINS_MAX 64            /* drop-ins read, all directories together */
#define NTP_SERVERS_MAX   16            /* servers in one list */
#define NTP_SERVER_LEN    253           /* a DNS name's longest text form */
#define TSYNC_SPAN_MAX    (7 * 86400)   /* the longest time span we read or write, in s */

/* The compiled-in FallbackNTP= of Debian's systemd-timesyncd, in force
 * while no file assigns FallbackNTP=. */
#define TSYNC_DEFAULT_FALLBACK                                                                     \
        "0.debian.pool.ntp.org 1.debian.pool.ntp.org 2.debian.pool.ntp.org 3.debian.pool.ntp.org"

/* What timesyncd will use: each list a NULL-terminated array of names. */
struct tsync_conf {
        char *servers[NTP_SERVERS_MAX + 1];
        size_t n_servers;
        char *fallback[NTP_SERVERS_MAX + 1];
        size_t n_fallback;
        int64_t root_distance_max_sec;
        int64_t poll_interval_min_sec;
        int64_t poll_interval_max_sec;
        size_t n_dropped; /* list items past NTP_SERVERS_MAX or not a valid name */
};

/* The INI keys Steward manages, and the setting each one backs. */
enum tsync_kind { TSYNC_LIST, TSYNC_SPAN };
struct tsync_key {
        const char *setting; /* "ntp:servers" */
        const char *ini;     /* "NTP" */
        enum tsync_kind kind;
        size_t offset; /* of the list (char *[]) or the number (int64_t) in struct tsync_conf */
        size_t count_offset; /* TSYNC_LIST: of its size_t count */
};
extern const struct tsync_key tsync_keys[];
extern const size_t tsync_keys_count;
const struct tsync_key *tsync_key_find(const char *setting);

/* A host name (dot-separated labels of letters, digits and '-', 1..63 each,
 * not starting or ending with '-', at most 253 in all; all-numeric labels
 * only as a dotted IPv4 address) or an IPv4 or IPv6 address. */
bool ntp_server_valid(const char *s);

/* A time span as timesyncd reads it: "5", "5s", "2min", "1h 30min"…, in
 * whole seconds, at most TSYNC_SPAN_MAX.  -EINVAL otherwise. */
int tsync_span_parse(const char *s, int64_t *ret);

void tsync_conf_init(struct tsync_conf *c); /* timesyncd's defaults */
void tsync_conf_done(struct tsync_conf *c);
/* Applies the [Time] assignments of one file's text onto c, as timesyncd
 * does; other sections and unknown keys are skipped, and so is a value that
 * does not parse. */
int tsync_parse(const char *text, size_t len, struct tsync_conf *c);

/* One managed key to (re)write: value is the text after '=' ("a b" for a
 * list, "" for an empty list); a list is preceded by its reset. */
struct tsync_edit {
        const struct tsync_key *key;
        const char *value;
};
/* The drop-in with edits applied: old is its text (NULL: absent, then a
 * new file with a managed-by header).  Each edited key's lines replace its
 * first assignment in the first [Time] section and every other assignment of
 * it is dropped; a key not there yet goes at the end of that section (a
 * [Time] section is added if there is none).  Everything else is kept. */
int tsync_rewrite(const char *old, const struct tsync_edit *edits, size_t n, char **ret);

/* The configuration in force: TSYNC_MAIN, then the drop-ins.  ret_files,
 * if not NULL, gets the paths read (a JSON array). */
int tsync_read(struct tsync_conf *ret, json_t **ret_files, struct module_error *err);

/* Plans and (unless dry_run) writes TSYNC_DROPIN for changes, an object
 * of validated {"ntp:…": value} (module.h's settings_apply contract; the
 * plan's files carry before/after for the audit and rollback). */
int tsync_apply(json_t *changes, bool dry_run, json_t **ret_plan, struct module_error *err);

/* ---- the service -------------------------------------------------------------- */

#define TSYNC_UNIT         "systemd-timesyncd.service"
#define TSYNC_SYNCHRONIZED "/run/systemd/timesync/synchronized"

/* Whether systemd-timesyncd's binary or unit file is installed. */
bool tsync_installed(void);
/* The pid of a running systemd-timesyncd, from /proc; -ESRCH when none. */
int tsync_pid(int *ret);
/* Whether systemd is the running init (sd_booted()'s test) and systemctl
 * is installed: only then can timesyncd be asked to reload. */
bool tsync_can_reload(void);
/* systemctl --no-block VERB -- systemd-timesyncd.service (the job is
 * queued, not waited for: the helper never hangs on it; verb: a constant such as
 * "try-reload-or-restart" or "restart"), argv only, fixed PATH; msg gets
 * what it printed.  Its exit status, or -errno. */
int tsync_systemctl(const char *verb, char *msg, size_t size);

/* module.h — the module registry's contract.
 *
 * Every managed area of the server is a module, declared by one static
 * `module_t` table.  The HTTP API, the CLI and the console, the audit
 * log and the metrics are generated from these tables: nothing outside a
 * module's folder knows what a module contains.
 *
 * Invariants:
 *  - Tables are static and read-only; a module keeps any run-time state in its
 *    own file, guarded by its own lock (handlers run on several threads).
 *  - Setting keys are colon-separated paths ("limits:max_body_bytes"); each
 *    path component matches the key grammar of kv.h.  The generic layer
 *    validates every value against the schema (type, bounds, enum, length)
 *    before a module's apply() sees it, so apply() only checks what depends on
 *    the combination of values.
 *  - Functions return >= 0 on success and -errno on failure.  On failure they
 *    fill `struct module_error` with an API error code, a human message and,
 *    where it applies, the offending field; they never log (the caller does).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
        SETTING_STRING,
        SETTING_INTEGER,
        SETTING_BOOLEAN,
        SETTING_ENUM, /* a string restricted to `choices` */
        SETTING_STRING_ARRAY,
} setting_type_t;

/* An error for the API: HTTP status, machine code, message, optional field. */
struct module_error {
        int status;    /* 400, 404, 409, 422, 500, 503 … */
        char code[48]; /* "invalid_setting", "read_only", … */
        char message[512];
        char field[128];
};

void module_error_set(struct module_error *e, int status, const char *code, const char *field,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The field of a STRING_ARRAY setting kept in a config struct: a short list
 * of short strings (group names, networks, directories), copyable by value. */
#define SETTING_LIST_MAX      16
#define SETTING_LIST_ITEM_MAX 48 /* a group name, or a network like "2001:db8::/32" */
struct setting_list {
        char name[SETTING_LIST_MAX][SETTING_LIST_ITEM_MAX + 1];
        size_t n;
};

/* The field of a STRING_ARRAY setting whose items are long (URLs): fewer,
 * longer strings.  A row chooses it by its field's size. */
#define SETTING_WIDE_LIST_MAX      8
#define SETTING_WIDE_LIST_ITEM_MAX 512
struct setting_wide_list {
        char name[SETTING_WIDE_LIST_MAX][SETTING_WIDE_LIST_ITEM_MAX + 1];
        size_t n;
};

/* One setting: one row holds all there is to know about it (Redis's
 * createIntConfig rows), the schema the API publishes, the checks, the
 * default and, for a module with a settings file, the field it fills.
 *
 * The field (offset/size, from SETTING_FIELD) by type: INTEGER an
 * `unsigned` (min >= 0, max <= UINT_MAX) or an `int64_t`; BOOLEAN a `bool`;
 * ENUM an `int`-sized enum, the index of the value in choices; STRING a
 * `char[size]` (max < size); STRING_ARRAY a `struct setting_list` (max <=
 * SETTING_LIST_MAX items) or a `struct setting_wide_list` (max <=
 * SETTING_WIDE_LIST_MAX items of up to SETTING_WIDE_LIST_ITEM_MAX bytes).  settings_file_check() refuses a table whose rows
 * and struct disagree (size, bounds, overlapping fields, a bad default). */
typedef struct {
        const char *key; /* "limits:max_connections" */
        setting_type_t type;
        int64_t min, max;           /* INTEGER: bounds; STRING/ARRAY: max length (min too) */
        const char *const *choices; /* ENUM: NULL-terminated */
        const char *description;
        bool restart;   /* takes effect only after a restart */
        bool read_only; /* reported, never written through the API */
        /* A URL that may carry a secret in its path or query (a Slack-style
         * webhook): the settings read shows non-admins only
         * scheme://host[:port]/…, and a settings file with such a row is
         * written 0640 root:_steward (the front's group) instead of 0644. */
        bool confidential;
        /* Optional extra grammar check for strings (and each array item). */
        bool (*valid_string)(const char *s);
        /* STRING: the collection whose items' "name" fields are the usual
         * values ("timezones"), for a form's picker; NULL: none.  A hint:
         * valid_string still decides. */
        const char *choices_from;
        /* In a settings file's rows: where the value lives in the config
         * struct (SETTING_FIELD), and its default: def_int for INTEGER and
         * BOOLEAN, def_string for ENUM and STRING, def_list (NULL-terminated;
         * NULL: empty) for STRING_ARRAY. */
        size_t offset, size;
        int64_t def_int;
        const char *def_string;
        const char *const *def_list;
} setting_def_t;

#define SETTING_FIELD(type, member)                                                                \
        .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

/* The registry's run-time state of one settings file (settingsfile.c); a
 * module gives zeroed storage and never touches it. */
struct settings_file_state {
        bool loaded;          /* live holds what a file said (else: the defaults) */
        char *path;           /* the file's path, once the --config path is known */
        /* What files() answers: path, the module's own files (at most
         * SETTINGS_FILE_EXTRA_MAX), NULL. */
        const char *owned[2 + 4];
};

/* A module's settings in a kv file of its own, read, checked, planned,
 * written and made live by the registry (src/modules/settingsfile.c): the
 * module only declares.  The file is `file` next to the daemon's --config
 * file (/etc/steward/metrics.conf), or the --config file itself when file is
 * NULL (the daemon's own configuration, common/config.c).  Keys in the file
 * have no module prefix.  A missing file means the defaults.  The live
 * struct is the registry's, under its lock: read it with a copy
 * (settings_file_get(), module_config_get()). */
typedef struct settings_file {
        const char *module; /* its module's name, for messages */
        const setting_def_t *rows;
        size_t n_rows;
        const char *file;   /* "metrics.conf"; NULL: the --config file */
        const char *header; /* comment lines a file created by a change starts with */
        size_t size;        /* sizeof the config struct */
        void *live;         /* the module's instance of it (static storage) */
        struct settings_file_state *state;
        /* Optional: what depends on the combination of values (each row is
         * checked already).  Runs on every parse, so a file that fails it
         * is never made live and a change that would make it fail is
         * refused (409).  -EINVAL with the reason in err. */
        int (*check)(const void *config, char *err, size_t err_len);
        /* Optional, before a parsed struct goes live: changes is the flat
         * object of a change through the API, NULL for a load of the file
         * (start, SIGHUP, after a write or a restore). */
        void (*adjust)(void *config, json_t *changes);
        /* Optional, after it went live in this process (helper: in the
         * privileged helper), e.g. to set the log level.  Both hooks run
         * under the registry's file lock: they must not read or write
         * settings through the registry. */
        void (*made_live)(const void *config, bool helper);
} settings_file_t;

typedef struct {
        const char *name;
        setting_type_t type; /* STRING, INTEGER, BOOLEAN or ENUM */
        int64_t min, max;
        const char *const *choices;
        bool required;
        const char *description;
        bool (*valid_string)(const char *s);
        /* A secret (a password): the audit record and every log show
         * "[redacted]" for its value; a form asks for it without echo. */
        bool secret;
} command_arg_t;

/* Who is acting and from where, passed to everything that changes state so
 * that it can be audited. */
struct module_ctx {
        const char *user;   /* "root", "bootstrap-token", … */
        const char *role;   /* "admin", "operator", "monitor" */
        const char *source; /* "unix:uid=0,pid=123" or "192.0.2.7:51234" */
        /* In the front: query arguments of the request (NULL if absent), and
         * a way to run a module's privileged_read in the helper for the
         * caller's session.  NULL where there is no request or no helper. */
        const char *(*query)(const struct module_ctx *ctx, const char *key);
        /* A flag of the query in the API's one grammar (absent: false);
         * -EINVAL with err filled (400) for anything else or a repeat. */
        int (*query_flag)(const struct module_ctx *ctx, const char *key, bool *ret,
                          struct module_error *err);
        int (*privileged_read)(const struct module_ctx *ctx, const char *module, json_t *args,
                               json_t **ret, struct module_error *err);
        const void *opaque;
        /* A command that declares dry_run (command_def_t), run with
         * ?dry_run=1: it says what it would do and changes nothing (and is
         * not audited). */
        bool dry_run;
        /* A command that streams (command_def_t.streams): hands one
         * progress event (a JSON object, borrowed) to the client as it
         * happens.  Returns 0, or -EPIPE once the client is gone or the
         * stream's bounds are reached (the command should stop then and
         * return what it did: the record says so), or -E2BIG for an event
         * over COMMAND_PROGRESS_LINE_MAX (not sent).  Never NULL in a
         * streaming command's run(): a no-op returning 0 when the request
         * does not stream.  progress_state is the kit's. */
        int (*progress)(const struct module_ctx *ctx, json_t *event);
        void *progress_state;
};

/* A streaming command's bounds: one event as a line of compact JSON (with
 * its newline), and all of a run's events together. */
#define COMMAND_PROGRESS_LINE_MAX  4096u
#define COMMAND_PROGRESS_TOTAL_MAX (1u << 20)

/* An API route a module adds (read-only views such as GET /api/v1/ports).
 * pattern is the full path with '*' segments ("api/v1/ports/registry/ *");
 * params are the '*' segments in order. */
typedef struct {
        const char *method;
        const char *pattern;
        int min_role; /* enum role (roles.h) */
        int (*handler)(const struct module_ctx *ctx, char **params, json_t **ret,
                       struct module_error *err);
        /* Instead of handler, for a non-JSON answer (e.g. Prometheus text):
         * a malloc'ed body and its static content type. */
        int (*text_handler)(const struct module_ctx *ctx, char **params, char **ret_body,
                            size_t *ret_len, const char **ret_content_type,
                            struct module_error *err);
        /* For the OpenAPI document (tools/gen-openapi.c): the '*' segments'
         * names (space-separated), one line of summary, and the answer's
         * schema as a JSON Schema object in JSON text (NULL: any object);
         * a text that does not parse fails the build.  query and flags: the
         * query arguments and the flags (query_flag) it reads,
         * space-separated. */
        const char *params;
        const char *summary;
        const char *response;
        const char *query;
        const char *flags;
        /* The handler may take long (a journal scan, up to seconds): the
         * HTTP layer runs it off its own threads, as collection reads. */
        bool slow;
        /* Instead of handler: the name of one of the module's commands,
         * which the route runs exactly as POST
         * /api/v1/modules/{m}/commands/{command} would (its role, in the
         * helper when it changes state, audited), with the arguments
         * {param: segment} of the '*' segments named by params; the
         * request's body is not read.  E.g. DELETE
         * api/v1/modules/shares/connections/ * with params "id" runs the
         * command disconnect {"id": …}.  min_role is the command's. */
        const char *command;
} module_route_t;

/* A module command: POST /api/v1/modules/{m}/commands/{name}.  One that
 * changes state runs in the privileged helper (checked and audited there,
 * run in a forked worker so that the helper goes on answering); a
 * read-only one runs in the front. */
typedef struct {
        const char *name;
        const char *summary;
        bool changes_state; /* runs in the helper, audited; else in the front */
        const command_arg_t *args;
        size_t n_args;
        /* args: an object already validated against `args`.  A string
         * "summary" in *ret (at most 512 bytes: "delete 312 deferred
         * messages to example.com") is also kept in the audit record, as
         * the member "summary" of its args. */
        int (*run)(const struct module_ctx *ctx, json_t *args, json_t **ret,
                   struct module_error *err);
        /* The lowest role that may run it, an enum role (roles.h); 0: admin
         * when changes_state, else monitor (command_min_role()).  Checked
         * against the session's role as it is at each request. */
        int min_role;
        /* It takes ?dry_run=1 (ctx->dry_run): it reports what it would do
         * and changes nothing.  Without it, ?dry_run=1 is refused (400). */
        bool dry_run;
        /* It reports progress as it goes (ctx->progress: a ping's replies,
         * a traceroute's hops): POST …/commands/NAME?stream=1 answers
         * text/event-stream, one "progress" event each, then the result
         * (docs/api.md).  Without it, ?stream=1 is refused (400).  Only a
         * command that changes state streams: it runs in a worker of the
         * helper, which stops it past COMMAND_STREAM_SECONDS_MAX when it
         * streams (else past a minute): run() bounds its own time within
         * that. */
        bool streams;
        /* It changes what the helper process itself holds (stewardd's
         * reload makes the config file live there): it runs in that
         * process, in line, and must be quick.  Every other command that
         * changes state runs in a forked worker of the helper. */
        bool helper_process;
} command_def_t;

#define COMMAND_STREAM_SECONDS_MAX 150u

/* A collection: items under GET|POST /api/v1/{name} and
 * GET|PATCH|DELETE /api/v1/{name}/{id} (users, groups, shares…).  The API,
 * the role checks (reads: monitor; writes: admin), dry runs, the audit and
 * the CLI are generic over this table.  Every function runs in the
 * privileged helper, which checks the session and role before calling it
 * and re-validates nothing for the module: each function validates all of
 * its input itself.
 *
 * query is an object of the request's query arguments (strings); body the
 * request's JSON object (an empty object for DELETE).
 *
 * write() fills *ret with
 *   {"result": {…what the client gets, e.g. {"user": {…}, "password": "…"}},
 *    "plan": {"commands": [[argv…], …], "warnings": ["…"],
 *             "files": [{"path", "diff", "type", "before_type", "before",
 *                        "after", "redacted", "image"?, "image_before"?,
 *                        "image_after"?}]}}
 * where before/after/diff are what may be shown (secrets redacted).  A file
 * with "image": true also carries its full contents in image_before and
 * image_after: the helper keeps those root-only for rollback, out of the
 * audit record and out of every answer.  With dry_run nothing changes and
 * "result" may be absent. */
typedef enum {
        COLLECTION_CREATE,
        COLLECTION_MODIFY,
        COLLECTION_DELETE,
} collection_op_t;

/* ---- a collection's schema: data that the API exports (GET
 * /api/v1/modules/{m}/schema, "collection_schemas") and from which the CLI
 * and the console build their tables, forms and flags.  It describes; the
 * module's own validation stays the authority on values. */
typedef enum {
        FIELD_STRING,
        FIELD_INTEGER,
        FIELD_BOOLEAN,
        FIELD_ENUM, /* a string restricted to `choices` */
        FIELD_STRING_ARRAY,
        FIELD_OBJECT,
        FIELD_OBJECT_ARRAY,
        FIELD_NUMBER, /* a JSON number that may have a fraction (a percentage) */
} field_type_t;

enum {
        FIELD_CREATE = 1u << 0, /* may be given on create */
        FIELD_MODIFY = 1u << 1, /* may be given on modify */
        FIELD_SHOWN = 1u << 2,  /* part of an item as answered */
        FIELD_SECRET = 1u << 3, /* a secret: never shown, never logged */
        /* An array given on create/modify that an item shows as the number
         * of its items (ssh_keys). */
        FIELD_SHOWN_COUNT = 1u << 4,
        /* Shown as null where there is no value (a process outside any
         * unit): the OpenAPI document allows null for it. */
        FIELD_NULLABLE = 1u << 5,
};

typedef struct collection_field {
        const char *name; /* "full_name" */
        field_type_t type;
        int64_t min, max;           /* INTEGER: bounds; STRING and arrays: length (0: none) */
        const char *const *choices; /* ENUM: NULL-terminated */
        unsigned flags;             /* FIELD_* */
        const char *label;          /* "Full name": a form's label, a table's header */
        const char *description;
        /* FIELD_OBJECT and FIELD_OBJECT_ARRAY: the members of the object (of
         * each item), described the same way (flags as the parent's); NULL:
         * not described.  The schema exports them, so that the CLI's
         * options can name a member ("smb.read_only") and the console can
         * build a form for it. */
        const struct collection_field *fields;
        size_t n_fields;
} collection_field_t;

/* A query argument the collection takes.  FIELD_BOOLEAN is a flag in the
 * API's one grammar (passed on as "1" or "0"); anything else a string the
 * module validates.  FIELD_ENUM lists its choices, the first one what a
 * page starts with (the console's list filter). */
typedef struct {
        const char *name;
        field_type_t type;
        const char *description;
        const char *const *choices; /* ENUM: NULL-terminated */
} collection_query_t;

/* A column of the list table: a field of the items, its header, its unit. */
typedef struct {
        const char *field;
        const char *label;
        const char *unit; /* "bytes", "seconds" …; NULL: none */
} collection_column_t;

/* How a command line option fills a request. */
typedef enum {
        COPT_VALUE,      /* --NAME VALUE: the field as its type reads it ("a,b" for a list) */
        COPT_ITEM,       /* --NAME VALUE: a list of this one value (it may hold commas) */
        COPT_TRUE,       /* --NAME: the field is true */
        COPT_FALSE,      /* --NAME: the field is false */
        COPT_QUERY,      /* --NAME VALUE: ?field=VALUE */
        COPT_QUERY_FLAG, /* --NAME: ?field=1 */
} collection_opt_kind_t;

typedef struct {
        const char *name; /* "comment" (useradd's names where they overlap) */
        char short_name;  /* 'c'; 0: none */
        const char *field;
        collection_opt_kind_t kind;
        const char *metavar; /* "TEXT" for an option with a value */
} collection_option_t;

typedef enum {
        VERB_LIST,
        VERB_SHOW,
        VERB_CREATE,
        VERB_MODIFY,
        VERB_DELETE,
        VERB_ROUTE_LIST, /* GET a route of the module; its list as a table */
        VERB_COMMAND,    /* run a command of the module */
        /* A collection's item action of the same name with options of the
         * verb's own instead of the generated --ARG ones (`alerts ack FP
         * -m TEXT` fills the action's argument "comment"); each option's
         * field names one of the action's arguments. */
        VERB_ACTION,
} collection_verb_op_t;

/* A command line verb: `steward users passwd NAME …` is a modify with the
 * options below and, for some verbs, fixed fields. */
typedef struct {
        const char *name; /* "passwd" */
        collection_verb_op_t op;
        const char *summary;
        const collection_option_t *options;
        size_t n_options;
        const char *body; /* JSON object text always sent ("{\"locked\": true}"), or NULL */
        bool password;    /* takes --password[=PW] for the field "password" */
        bool bare_show;   /* with the id alone, a show (`groups members NAME`) */
        /* VERB_ROUTE_LIST (`shares sessions`): GET the module's route
         * `route` ("api/v1/modules/shares/connections", no '*'; or the list
         * of one of the module's collections, "api/v1/alert_silences") and print
         * the array under list_key as a table of columns; no positional
         * argument.  VERB_COMMAND (`shares disconnect ID`): run the
         * command `command` of the collection's module with its one
         * positional argument as the argument `arg`, the options' fields
         * and body; password: --password[=PW], --password-stdin, or asked
         * twice on a terminal (the argument "password").  The schema
         * exports both with the request's path. */
        const char *route;
        const char *list_key;
        const collection_column_t *columns;
        size_t n_columns;
        const char *command;
        const char *arg;
        /* VERB_COMMAND: the positional argument may be left out (`mail
         * queue flush` flushes all; with an id, that message). */
        bool arg_optional;
} collection_verb_t;

/* An action on one item of a collection: POST
 * /api/v1/{collection}/{id}/{name} with a JSON object of args (validated
 * against `args` by the registry, {} when none) and ?dry_run=1.  It runs in
 * the privileged helper after the role check (min_role, an enum role;
 * 0: admin), and is audited like a collection write (operation
 * "action:NAME", the item's id, the plan and the result) unless dry_run.
 *
 * run() fills *ret with what the client gets (e.g. {"job_result": …,
 * "service": {…}}; with the item under the collection's `item` name, the
 * CLI prints it as it prints a show).  If *ret has a "plan" object, its
 * "files" (the shape of write()'s plan, images included) are kept with the
 * audit record for rollback exactly as a write's are, and the client sees
 * only their paths and diffs; with dry_run, *ret is {"plan": {…}} or
 * anything else the client may see, and nothing changes.  An action that
 * fails after it changed something leaves its plan in *ret (its files are
 * audited) and returns the error. */
typedef struct {
        const char *name; /* "restart": a route segment, [a-z0-9_-] */
        const char *summary;
        int min_role;       /* enum role; 0: admin */
        bool changes_state; /* the console reviews a dry run's plan first */
        const command_arg_t *args;
        size_t n_args;
        int (*run)(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                   json_t **ret, struct module_error *err);
} collection_action_t;

typedef struct {
        const char *name; /* "users": the route segment */
        const char *item; /* "user": what one item is called in answers */
        const char *summary;
        const char *id_field; /* the field that names an item in /api/v1/{name}/{id} */
        const collection_field_t *fields;
        size_t n_fields;
        /* The query arguments the API passes on and the helper accepts:
         * exactly these, no other. */
        const collection_query_t *query;
        size_t n_query;
        const collection_column_t *columns;
        size_t n_columns;
        const collection_verb_t *verbs;
        size_t n_verbs;
        int (*list)(const struct module_ctx *ctx, json_t *query, json_t **ret,
                    struct module_error *err);
        int (*show)(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
                    struct module_error *err);
        int (*write)(const struct module_ctx *ctx, collection_op_t op, const char *id, json_t *body,
                     json_t *query, bool dry_run, json_t **ret, struct module_error *err);
        /* Optional, instead of list for large collections: the list's
         * answer as JSON text (malloc'ed).  The helper hands it to the front
         * in a sealed memfd and the front sends it as it is, so a list of
         * ten thousand items is never a tree on either side. */
        int (*list_text)(const struct module_ctx *ctx, json_t *query, char **ret, size_t *ret_len,
                         struct module_error *err);
        /* Optional: actions on one item (collection_action_t above). */
        const collection_action_t *actions;
        size_t n_actions;
        /* list() and show() run in the front (user _steward, under its
         * seccomp filter, on several threads at once: they must be
         * thread-safe), called by the API with a module_ctx of the request
         * (query as above, role checked: monitor and up), without a helper
         * round trip.  list_text is not used then.  write() and the actions
         * still run in the helper. */
        bool front_reads;
} collection_def_t;

struct change_hooks; /* modules/change.h */

/* ---- events: GET /api/v1/events (docs/api.md) ---------------------------------
 * An event type a module publishes.  The hub in the front (events.c) knows
 * no module: it learns the types from these rows and hears of events
 * through the hooks below. */
typedef struct {
        const char *name; /* "sample": the SSE event name and the word of ?types= */
        const char *description;
        int min_role; /* enum role (roles.h): who may subscribe */
        /* Optional: a type each stream filters for itself (the journal's
         * entries of one unit, say), so it is sent only where asked for:
         * only streams that name it in ?types= get it.  params: the query
         * arguments of GET /api/v1/events it reads, space-separated.  On a
         * new stream the hub calls subscribe() with those it was given (an
         * object of strings); it validates them (a 400 naming the field)
         * and returns a filter id > 0, which publish_to() names, until
         * unsubscribe(filter) when the stream ends.  Both run under the
         * hub's lock: they must not publish.  Such events are not kept for
         * Last-Event-ID; the params carry the resume point (a cursor). */
        const char *params;
        int (*subscribe)(json_t *params, uint64_t *ret_filter, struct module_error *err);
        void (*unsubscribe)(uint64_t filter);
} event_def_t;

/* What the hub offers a module's event hooks, valid from events_attach(hub)
 * to events_attach(NULL). */
struct event_hub {
        /* Publishes one event of a type the module declares; data is a JSON
         * object, borrowed.  Cheap when nobody subscribes. */
        void (*publish)(const char *type, json_t *data);
        /* Whether a stream subscribes to type now (skip building what no one
         * reads). */
        bool (*wanted)(const char *type);
        /* A GET of the API (path with its query) as a subscriber of type, with
         * that stream's session and role: *ret is the answer's body on 200;
         * -ENOENT when nobody subscribes, -EIO on another status. */
        int (*get)(const char *type, const char *path, json_t **ret);
        /* Publishes one event of a filtered type (event_def_t.subscribe) to
         * the streams whose filter is filter only; data borrowed. */
        void (*publish_to)(const char *type, uint64_t filter, json_t *data);
};

typedef struct module {
        const char *name;
        const char *summary;

        /* Called once at daemon start-up (may be NULL); the module may start its
         * own sampling here.  done() undoes it. */
        int (*init)(void);
        void (*done)(void);

        /* status(): at least {"state": "running|stopped|degraded|unavailable|n/a"}.
         * fullstatus(): everything worth seeing. */
        int (*status)(const struct module_ctx *ctx, json_t **ret, struct module_error *err);
        int (*fullstatus)(const struct module_ctx *ctx, json_t **ret, struct module_error *err);

        /* Settings: either a settings file (rows, file, config struct; the
         * registry reads, applies, owns and makes live that file, so
         * settings, settings_read and settings_apply stay NULL), or rows
         * and functions of the module's own (a backend that writes other
         * programs' files, e.g. system).  A module with a settings file may
         * still own other files (files() below, at most four, e.g. a
         * collection's file): they are owned beside the settings file and
         * make_live() runs after the settings file is made live. */
        const settings_file_t *settings_file;
        const setting_def_t *settings;
        size_t n_settings;
        /* The current settings as a tree: {"limits": {"max_connections": 256}}. */
        int (*settings_read)(json_t **ret, struct module_error *err);
        /* changes: {"flat:key": value} of settings that differ from the current
         * values, already validated.  Runs in the privileged helper.  Fills
         * *plan with
         *   {"dry_run": bool, "changed": ["key", …], "restart_required": bool,
         *    "files": [{"path", "diff", "type": "file|symlink|absent",
         *               "before", "after", "redacted": bool}]}
         * where type/before/after describe each file's state after the change
         * and before it (content, or the link target for a symlink; "before"
         * is null for a file that did not exist).  The helper keeps before and
         * after for the audit log and rollback, and sends only path and diff
         * to clients.  With dry_run nothing is touched. */
        int (*settings_apply)(const struct module_ctx *ctx, json_t *changes, bool dry_run,
                              json_t **plan, struct module_error *err);

        /* Optional: the files this module owns and follows (absolute paths,
         * NULL-terminated; valid until done()).  What they say is what runs:
         * whenever the helper writes or restores one of them (a settings
         * change, a rollback) it calls make_live() for itself and tells the
         * front, which calls it too.  At start the helper removes its own
         * stale temporary files beside them (a write killed mid-way). */
        const char *const *(*files)(void);
        /* Optional: make what the module's files say live in this process.
         * helper is true in the privileged helper (which may, e.g., set the
         * host name), false in the front (which re-reads what it caches).
         * Runs after every write or restore of one of files() and on
         * SIGHUP.  A file that does not parse keeps the running values and
         * returns an error that says so; the caller reports it. */
        int (*make_live)(bool helper, struct module_error *err);

        const command_def_t *commands;
        size_t n_commands;

        /* Optional, in the helper: reads that need root (e.g. which process
         * owns a socket), for a session at or above the lowest role of the
         * module's routes (admins only when it has none).  Must not change
         * anything. */
        int (*privileged_read)(json_t *args, json_t **ret, struct module_error *err);
        /* Optional: the lowest role (enum role) the privileged read asked
         * for by args needs, when the module's reads differ (a listing for
         * monitors, a folder scan for admins); -1: none may. */
        int (*privileged_read_role)(json_t *args);

        /* Optional extra API routes. */
        const module_route_t *routes;
        size_t n_routes;

        /* Optional collections. */
        const collection_def_t *collections;
        size_t n_collections;

        /* Optional: the event types this module publishes. */
        const event_def_t *events;
        size_t n_events;
        /* Optional, in the front: the hub starts (hub) or stops (NULL); a
         * module that pushes events (from its own thread) keeps hub until
         * then. */
        void (*events_attach)(const struct event_hub *hub);
        /* Optional, in the front, on the hub's thread about once a second
         * (at once after a change): a module that polls for its events
         * looks here.  changed: an audit record of this module was seen
         * since the last call. */
        void (*events_poll)(const struct event_hub *hub, bool changed);

        /* Optional, in the helper: puts a file of this module back for a
         * rollback when a plain path write is not safe (e.g. a file under a
         * directory its user controls).  type is "file" or "absent". */
        int (*file_restore)(const char *path, const char *type, const char *content,
                            struct module_error *err);
        /* Optional, in the helper, beside file_restore: what a path that
         * file_restore puts back holds now when it is not a plain file (a
         * share's folder: its owner, mode and ACLs as text), for the
         * rollback's check that it still holds what the change left.  1
         * with *ret (malloc'ed, compared with the record's "after"), 0 for
         * a plain file that the engine reads itself, or -errno with err
         * filled. */
        int (*file_read)(const char *path, char **ret, struct module_error *err);

        /* Optional, in the helper: the module's own gauges for /metrics,
         * {"families": [{"name": "steward_MODULE_…", "help": "…", "samples":
         * [{"labels": {"queue": "deferred"}, "value": 3}, …]}, …]}: cheap
         * (each scrape asks), names under the module's own prefix (or a
         * node_exporter family only root can read).  A family may say
         * "type": "counter" or "untyped"; the default is a gauge. */
        int (*gauges)(json_t **ret, struct module_error *err);
        /* Optional: another prefix the gauges may also use: a node_exporter
         * one ("node_timex_") for a family whose source only root can read,
         * or a "steward_…_" one that no other module's steward_NAME_
         * overlaps ("steward_alert_", the name Prometheus users know). */
        const char *gauges_prefix;

        /* Optional: the module's hooks into the change engine (lock, the
         * service's own checker; modules/change.h). */
        const struct change_hooks *change;

        /* Optional service control. */
        int (*start)(const struct module_ctx *ctx, struct module_error *err);
        int (*stop)(const struct module_ctx *ctx, struct module_error *err);
        int (*restart)(const struct module_ctx *ctx, struct module_error *err);

        /* Optional: the console page the module ships, web/js/NAME.js, and
         * the title the console's navigation lists it under ("Ports");
         * NULL: none (its generic settings page only).  console_overview:
         * that page also exports the overview's findings of the module
         * (docs/console.md).  The schema publishes both; the console names
         * no module. */
        const char *console_title;
        bool console_overview;

        /* Optional: command line verbs of the module itself, `steward
         * MODULE VERB …` (VERB_ROUTE_LIST and VERB_COMMAND only, as a
         * collection's): `steward mail who`.  `steward MODULE WORD …` also
         * reaches the module's collection MODULE_WORD (`steward mail queue
         * list` is `steward mail_queue list`).  The schema exports them
         * ("verbs"). */
        const collection_verb_t *verbs;
        size_t n_verbs;

        /* Optional: a program of the module's own that runs as a fresh
         * image of stewardd, so that it inherits no memory of the process
         * that started it (the network module's probe child: nothing of the
         * helper's sessions).  The module's code forks and execve()s
         * /proc/self/exe with argv {"stewardd", "--module-child", NAME, …}
         * and an empty environment, passing what it needs in inherited
         * descriptors; stewardd's main() then calls child_main(argc, argv)
         * of module NAME before anything else of the daemon starts, and
         * exits with what it returns.  It runs as the caller left it (root
         * in the helper): dropping privileges is its own first task. */
        int (*child_main)(int argc, char **argv);

        /* Optional, in the helper: a task of the module's own background
         * work in the front that needs root (the alerts' mail through
         * sendmail), asked for with modules_helper_call("module_task",
         * {"module": NAME, "args": {…}}).  No session stands behind it: it
         * takes whatever matters (who, where) from its own settings as the
         * helper holds them, and from args only what it bounds and checks
         * itself.  Runs in a forked worker of the helper, killed past a
         * minute: it bounds its own time within that. */
        int (*helper_task)(json_t *args, json_t **ret, struct module_error *err);

        /* The module keeps state and a log in the helper's store
         * (module_state_put, module_log_append): the helper refuses those
         * writes for any module without it, and bounds each module's share
         * (modstate.h: keys, bytes, records). */
        bool keeps_state;
} module_t;

/* How a module's own background work reaches the helper from the front
 * (the metrics history stores its minutes there): call(op, args, &ret) runs
 * a helper operation that needs no session, as the front, args taken over;
 * >= 0 or -errno.  The front sets it before it calls any module's init();
 * elsewhere (the helper, the tests) it stays NULL, which a module reads as
 * "no helper here".  Neither the front nor the module names the other. */
typedef int (*module_helper_call_fn)(const char *op, json_t *args, json_t **ret);
void modules_set_helper_call(module_helper_call_fn call);
module_helper_call_fn modules_helper_call(void);

/* How a module's code in the helper (its gauges, its actions) reads what
 * its background work in the front persisted with the helper operation
 * module_state_put: read(module, key, &ret) sets *ret to the value (a new
 * reference; JSON null when there is none) and returns 0, or -errno.  The
 * helper sets it at start; elsewhere (the front, the tests) it stays NULL:
 * module_state_read() is then -ENOSYS. */
typedef int (*module_state_read_fn)(const char *module, const char *key, json_t **ret);
void modules_set_state_read(module_state_read_fn read);
int module_state_read(const char *module, const char *key, json_t **ret);

/* The module list: src/modules/modules.c, one line per module. */
extern const module_t *const steward_modules[];
extern const size_t steward_modules_count;

const module_t *module_find(const char *name);
/* Whether path is one of m->files(). */
bool module_owns_file(const module_t *m, const char *path);
/* Calls every module's make_live(helper) in this process (SIGHUP); failed,
 * if not NULL, hears of each failure.  Returns the first error. */
int modules_make_live(bool helper, void (*failed)(const module_t *m, const struct module_error *e));
/* At start-up: every module's settings file agrees with its struct
 * (settings_file_check), and no module has both a settings file and
 * settings functions of its own.  -EINVAL with the reason in err. */
int modules_check(char *err, size_t err_len);
const setting_def_t *module_find_setting(const module_t *m, const char *key);
/* The module's setting rows (its settings file's, or settings[]). */
const setting_def_t *module_settings_rows(const module_t *m, size_t *ret_n);
/* The settings entry points, over a settings file or the module's own
 * functions: callers use these, never the function pointers.
 * module_settings_read: -ENOENT for a module without settings (not an
 * error: answer {}); module_settings_apply: -EPERM with err filled when the
 * settings cannot be written. */
int module_settings_read(const module_t *m, json_t **ret, struct module_error *err);
/* tree (as module_settings_read answers it) for a caller below admin: the
 * confidential settings' URLs cut to scheme://host[:port]/…. */
void module_settings_redact(const module_t *m, json_t *tree);
int module_settings_apply(const module_t *m, const struct module_ctx *ctx, json_t *changes,
                          bool dry_run, json_t **plan, struct module_error *err);
const char *const *module_files(const module_t *m);
int module_make_live(const module_t *m, bool helper, struct module_error *err);
/* A copy of the module's live config struct (its settings file's); size is
 * the caller's sizeof, checked.  -ENOENT if the module has no settings file. */
int module_config_get(const module_t *m, void *ret, size_t size);
const command_def_t *module_find_command(const module_t *m, const char *name);
/* The lowest role (enum role) that may run cmd: its min_role, else admin
 * for a command that changes state and monitor for one that does not. */
int command_min_role(const command_def_t *cmd);
/* The lowest role (enum role) of a module's route: its command's for a
 * route that runs a command, else its min_role. */
int module_route_min_role(const module_t *m, const module_route_t *r);
/* The action named name of coll; NULL if none. */
const collection_action_t *collection_find_action(const collection_def_t *coll, const char *name);
/* The lowest role (enum role) that may run a: its min_role, else admin. */
int collection_action_min_role(const collection_action_t *a);
/* The collection named name in any module, and its module. */
const collection_def_t *collection_find(const char *name, const module_t **ret_module);
/* The query argument key that coll declares (the front passes on no other,
 * the helper accepts no other); NULL if none.  The module validates the
 * values. */
const collection_query_t *collection_find_query(const collection_def_t *coll, const char *key);
const char *field_type_name(field_type_t t);

const char *setting_type_name(setting_type_t t);

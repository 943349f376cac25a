/* verbs.h — the one table of the `steward` client's verbs.
 *
 * Each row is a verb as the program runs it (its function, how many
 * arguments it takes, whether it opens its own connection) and as the
 * documentation shows it (a one-line summary, its forms: a synopsis and
 * what it does, whether it needs a session on a server).  `steward --help`,
 * `steward VERB --help` and the verb list of the man page (`steward
 * --roff-page docs/steward.1.in`, run at build time) are printed from it, and
 * main() dispatches through it, so the help, the man page and what the
 * program accepts cannot drift apart.
 *
 * The last row, COLLECTION, stands for every other word: a collection the
 * server describes (collections.c).  It has no run function; verb_find()
 * never returns it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli;

#define VERB_FORMS_MAX 6

struct verb_form {
        const char *synopsis; /* "audit list [--module M] …", the verb's name first */
        const char *text;     /* what it does, one sentence without a final period */
};

struct verb_def {
        const char *name;
        const char *summary;    /* one line, for the man page's list */
        bool needs_session;     /* acts on a server as a user (socket peer, login, token) */
        bool own_connection;    /* the verb calls cli_connect() itself */
        bool follows;           /* -f/--follow makes it a stream (one host only) */
        int min_args, max_args; /* max -1: any number */
        int (*run)(struct cli *c, int argc, char **argv);
        struct verb_form forms[VERB_FORMS_MAX]; /* ended by a NULL synopsis */
};

extern const struct verb_def cli_verbs[];
extern const size_t cli_verbs_n;

/* The row of a fixed verb, or NULL (a collection, or nothing). */
const struct verb_def *verb_find(const char *name);

/* `steward --help`: usage, commands, options, environment, exit status. */
void verbs_print_help(FILE *f);

/* `steward VERB --help`: the verb's forms with what each does. */
void verb_print_usage(const struct verb_def *v, FILE *f);

/* Copies the man page template to f with the markers `.\" @VERB_SYNOPSIS@`
 * and `.\" @VERB_LIST@` replaced by the forms and the verb list.  Fails
 * (-EINVAL, with a message) when a marker is missing or a verb of the table
 * has no entry of its own (a .TP or .TQ line naming it) in the template. */
int verbs_print_roff(const char *template_path, FILE *f);

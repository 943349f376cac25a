/* helperclient.h — the front's side of the helper protocol (proto.h).
 *
 * HELPER_CHANNELS sockets to the helper, shared by every thread: a call
 * takes a free channel for itself from sending its request to reading its
 * answer, so answers cannot cross.  The helper answers each channel on its
 * own and runs slow operations (collection reads) and actions (which may
 * wait for a service's job) in workers, so a fast
 * call is answered while slow ones run.  Slow calls may hold at most
 * HELPER_SLOW_CHANNELS channels at once (more wait for one), so the others
 * always stay free for the fast ones: session checks, whoami, logins.
 * Streaming calls, which hold their channel for the whole run of their
 * command, have HELPER_STREAM_CHANNELS of their own on the same terms. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "common/helperops.h"
#include "helperstubs.h"
#include "module.h"

#define HELPER_CHANNELS        8
#define HELPER_SLOW_CHANNELS   4
#define HELPER_STREAM_CHANNELS 2 /* streaming commands (a ping's minute and more) */

/* socks: the front's ends of the n channels (taken over). */
void helper_client_init(const int *socks, size_t n);

/* Calls op (helperops.h; callers use the typed stubs of helperstubs.h)
 * for the session `session` (may be NULL) from `source`.  args is
 * taken over (NULL = {}); fd >= 0 is passed along (and stays the caller's).
 * On success *ret gets the result object.  On refusal returns -EACCES and
 * fills e; *ret_details (if non-NULL) gets the error object's extra fields
 * (e.g. "files" of a conflict).  If the helper cannot be reached: -EPIPE and
 * a 503 in e.  A body the helper passed in a sealed memfd (a large list as
 * JSON text, answer {"body_fd": true}) comes back as "body_fd": the
 * descriptor's number, which is then the caller's to close. */
int helper_call(enum helper_op op, const char *session, const char *source, json_t *args, int fd,
                json_t **ret, json_t **ret_details, struct module_error *e);

/* A streaming call's sink (helper_call_stream): one progress line, without
 * its newline (at most COMMAND_PROGRESS_LINE_MAX bytes, not yet checked to be
 * JSON), or line NULL for a tick while nothing comes (every
 * HELPER_STREAM_TICK_MS).  Returns 0 to go on, < 0 once its client is gone:
 * the relay then stops reading, which the helper's next write sees as EPIPE
 * (the command stops). */
#define HELPER_STREAM_TICK_MS 250

/* As helper_call, for a streaming command (module.h): passes the write end
 * of a new pipe with the request, and while it waits for the answer hands
 * each line the helper writes there to line(opaque, …), in order; every
 * line is handed over before it returns.  Past COMMAND_PROGRESS_TOTAL_MAX
 * bytes, or a line longer than COMMAND_PROGRESS_LINE_MAX, it stops
 * relaying. */
int helper_call_stream(enum helper_op op, const char *session, const char *source, json_t *args,
                       helper_line_fn line, void *opaque, json_t **ret, json_t **ret_details,
                       struct module_error *e);

/* Turns an answer frame into the results of helper_call(). */
int helper_answer_parse(json_t *answer, json_t **ret, json_t **ret_details, struct module_error *e);

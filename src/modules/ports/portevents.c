/* portevents.c — the ports module's event type "ports" (GET
 * /api/v1/events): listeners that are new against the baseline, and those
 * gone from it, as {"new": [listener…], "gone": [listener…]}.
 *
 * The hub (module.h, struct event_hub) calls ports_events_poll() about once
 * a second on its thread.  While a stream asks for ports, this lists the
 * listening sockets every PORTS_EVENTS_SECONDS (one netlink dump, hashed)
 * and, when that set or the baseline changed (an audit record of this
 * module, e.g. baseline_save), recomputes new/gone through GET
 * /api/v1/ports as one of the subscribers (their session, their role), and
 * publishes when the answer differs from the last one.  All state is the
 * hub thread's own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "modules/ports/portevents.h"
#include "sockets.h"
#include "roles.h"
#include "util.h"

#define PORTS_EVENTS_SECONDS 5

const event_def_t ports_events[1] = {
        {.name = "ports",
         .description = "listeners new against the baseline, and gone from it: {new, gone}",
         .min_role = ROLE_MONITOR},
};

static struct {
        uint64_t hash, last_usec;
        bool known, dirty;
        json_t *last; /* {"new", "gone"} last published (or seen) */
} st;

/* "tcp ipv4 127.0.0.1 8080" → a listener object with what the key says. */
static json_t *gone_listener(const char *key) {
        char proto[8], fam[8], addr[64];
        unsigned port;

        if (sscanf(key, "%7s %7s %63s %u", proto, fam, addr, &port) != 4 || port > 65535)
                return json_pack("{s:s}", "key", key);
        return json_pack("{s:s, s:s, s:s, s:i, s:s}", "protocol", proto, "family", fam, "address",
                         addr, "port", (int)port, "state", "gone");
}

static uint64_t listeners_hash(void) {
        struct sock_entry *v = NULL;
        size_t n = 0;
        uint64_t h = 0;

        if (sockets_list(false, &v, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                /* Order-independent: a sum of per-listener FNV-1a hashes. */
                uint64_t x = 1469598103934665603ULL;
                const unsigned char *p = (const unsigned char *)v[i].local;
                for (; *p; p++)
                        x = (x ^ *p) * 1099511628211ULL;
                x = (x ^ v[i].local_port) * 1099511628211ULL;
                x = (x ^ v[i].protocol) * 1099511628211ULL;
                x = (x ^ v[i].family) * 1099511628211ULL;
                h += x;
        }
        sockets_free(v, n);
        return h ? h : 1;
}

/* {"new", "gone"} from GET /api/v1/ports, NULL when there is no baseline. */
static json_t *new_and_gone(json_t *body) {
        json_t *news = json_array(), *gone = json_array(), *l, *k, *f;
        size_t i, j;

        if (!json_is_true(json_object_get(body, "baseline"))) {
                json_decref(news);
                json_decref(gone);
                return NULL;
        }
        json_array_foreach(json_object_get(body, "listeners"), i, l) {
                json_array_foreach(json_object_get(l, "findings"), j, f) {
                        if (STREQ(json_string_value(json_object_get(f, "code")) ?: "", "new")) {
                                json_array_append(news, l);
                                break;
                        }
                }
        }
        json_array_foreach(json_object_get(body, "gone"), i, k) {
                if (json_is_string(k))
                        json_array_append_new(gone, gone_listener(json_string_value(k)));
        }
        return json_pack("{s:o, s:o}", "new", news, "gone", gone);
}

static void poll_ports(const struct event_hub *hub) {
        uint64_t h = listeners_hash();
        json_t *body = NULL, *now;
        int r;

        if (h == st.hash && st.known && !st.dirty)
                return;
        r = hub->get("ports", "/api/v1/ports", &body);
        if (r == -ENOENT)
                return;
        now = r >= 0 ? new_and_gone(body) : NULL;
        json_decref(body);
        if (!now) {
                st.hash = h;
                st.known = true;
                return;
        }
        /* The first listing after streams asked for ports is published too
         * when it is not empty: a listener that came between a stream's
         * start and this first look would otherwise never be told. */
        if (st.known ? !json_equal(now, st.last)
                     : json_array_size(json_object_get(now, "new")) > 0 ||
                               json_array_size(json_object_get(now, "gone")) > 0)
                hub->publish("ports", now);
        json_decref(st.last);
        st.last = now;
        st.hash = h;
        st.known = true;
        st.dirty = false;
}

void ports_events_poll(const struct event_hub *hub, bool changed) {
        uint64_t now = now_usec();

        st.dirty |= changed;
        if (!hub->wanted("ports")) {
                st.known = false;
                return;
        }
        if (!st.dirty && now - st.last_usec < PORTS_EVENTS_SECONDS * 1000000ull)
                return;
        poll_ports(hub);
        st.last_usec = now;
}

void ports_events_attach(const struct event_hub *hub) {
        if (!hub) {
                json_decref(st.last);
                st.last = NULL;
                st.known = false;
        }
}

/* svcevents.c — live unit state for GET /api/v1/events (type "services").
 *
 * A thread of the front, started by events_attach(hub) and joined by
 * events_attach(NULL), holds its own connection to the system bus (no
 * other thread touches it), calls the manager's Subscribe and matches
 *   PropertiesChanged of org.freedesktop.systemd1.Unit under
 *     /org/freedesktop/systemd1/unit (ActiveState, SubState),
 *   the manager's JobRemoved (a job's result) and Reloading.
 * A single restart emits about two dozen signals, so changes are coalesced
 * per unit: the first signal of a unit opens a window of
 * SVC_EVENT_WINDOW_USEC, later ones update the same pending entry, and the
 * window's end publishes one event
 *   {"name", "active_state", "sub_state", "job_result"?}
 * with the last values seen.  A reload publishes {"manager": "reloading"}
 * and {"manager": "reloaded"} at once.  At most PENDING_MAX units wait; a
 * new one beyond that flushes the oldest first.
 *
 * It also tells units.c when unit files changed (UnitFilesChanged,
 * Reloading), which lets listings keep systemd's slow ListUnitFiles answer
 * in between.
 *
 * The loop waits at most 50 ms on the bus, so a detach is seen within that
 * time.  Where systemd does not run, no thread is started.  When the bus
 * connection ends (dbus-daemon restarted) the thread connects again, with
 * back-off, and publishes {"manager": "reloaded"} once it had been
 * subscribed: what changed in between was not heard, and clients treat a
 * reload as "list again".
 */
#include "modules/services/svcevents.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "modules/services/unitname.h"
#include "modules/services/units.h"
#include "util.h"

#define PENDING_MAX 256
#define WAIT_USEC   (50 * 1000ULL)
/* After the bus connection ends (dbus-daemon restarted), the next attempt
 * waits 0.5 s, doubling up to 30 s; a connection that lasted longer than
 * that starts again from 0.5 s. */
#define RECONNECT_MIN_USEC (500 * 1000ULL)
#define RECONNECT_MAX_USEC (30 * 1000 * 1000ULL)

struct pending {
        char name[UNIT_NAME_MAX + 1];
        char active[32], sub[32], job[16];
        uint64_t since;
};

static const struct event_hub *hub;
static pthread_t thread;
static bool running;
static atomic_bool stopping;
static struct pending pend[PENDING_MAX]; /* the thread's own */
static size_t n_pend;

static void publish(struct pending *p) {
        json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?}", "name", p->name, "active_state",
                              *p->active ? p->active : NULL, "sub_state", *p->sub ? p->sub : NULL,
                              "job_result", *p->job ? p->job : NULL);
        if (o && hub)
                hub->publish("services", o);
        json_decref(o);
}

static void flush(bool all) {
        uint64_t now = now_usec();
        size_t j = 0;

        for (size_t i = 0; i < n_pend; i++) {
                if (all || now - pend[i].since >= SVC_EVENT_WINDOW_USEC)
                        publish(&pend[i]);
                else
                        pend[j++] = pend[i];
        }
        n_pend = j;
}

static struct pending *entry(const char *name) {
        for (size_t i = 0; i < n_pend; i++)
                if (STREQ(pend[i].name, name))
                        return &pend[i];
        if (n_pend == PENDING_MAX) {
                publish(&pend[0]);
                memmove(pend, pend + 1, (PENDING_MAX - 1) * sizeof pend[0]);
                n_pend--;
        }
        pend[n_pend] = (struct pending){.since = now_usec()};
        snprintf(pend[n_pend].name, sizeof pend[0].name, "%s", name);
        return &pend[n_pend++];
}

static int on_props(sd_bus_message *m, void *data, sd_bus_error *e) {
        char name[UNIT_NAME_MAX + 1];
        const char *iface;
        json_t *changed = NULL;
        struct pending *p;

        (void)data;
        (void)e;
        if (unit_name_from_path(sd_bus_message_get_path(m), name, sizeof name) < 0 ||
            sd_bus_message_read(m, "s", &iface) < 0 || !STREQ(iface, SD_UNIT) ||
            units_bus_value(m, &changed) < 0)
                return 0;
        if (json_object_get(changed, "ActiveState") || json_object_get(changed, "SubState")) {
                p = entry(name);
                snprintf(p->active, sizeof p->active, "%s",
                         json_string_value(json_object_get(changed, "ActiveState")) ?: p->active);
                snprintf(p->sub, sizeof p->sub, "%s",
                         json_string_value(json_object_get(changed, "SubState")) ?: p->sub);
        }
        json_decref(changed);
        return 0;
}

static int on_job(sd_bus_message *m, void *data, sd_bus_error *e) {
        const char *path, *unit, *result;
        uint32_t id;

        (void)data;
        (void)e;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0 &&
            unit_name_valid(unit))
                snprintf(entry(unit)->job, sizeof pend[0].job, "%s", result);
        return 0;
}

static int on_files_changed(sd_bus_message *m, void *data, sd_bus_error *e) {
        (void)m;
        (void)data;
        (void)e;
        units_file_states_changed();
        return 0;
}

static void publish_manager(const char *what) {
        json_t *o = json_pack("{s:s}", "manager", what);
        if (o && hub)
                hub->publish("services", o);
        json_decref(o);
}

static int on_reloading(sd_bus_message *m, void *data, sd_bus_error *e) {
        int active;

        (void)data;
        (void)e;
        units_file_states_changed();
        if (sd_bus_message_read(m, "b", &active) < 0)
                return 0;
        publish_manager(active ? "reloading" : "reloaded");
        return 0;
}

static int subscribe(sd_bus *bus) {
        int r = sd_bus_add_match(bus, NULL,
                                 "type='signal',sender='" SD_DEST "',"
                                 "interface='org.freedesktop.DBus.Properties',"
                                 "member='PropertiesChanged',"
                                 "path_namespace='/org/freedesktop/systemd1/unit'",
                                 on_props, NULL);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved",
                                        on_job, NULL);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, SD_DEST, SD_PATH, SD_MANAGER, "Reloading",
                                        on_reloading, NULL);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, SD_DEST, SD_PATH, SD_MANAGER, "UnitFilesChanged",
                                        on_files_changed, NULL);
        if (r >= 0)
                r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL,
                                       NULL);
        return r;
}

/* Sleeps usec, or less when a detach comes. */
static void nap(uint64_t usec) {
        for (uint64_t slept = 0; slept < usec && !atomic_load(&stopping); slept += WAIT_USEC)
                (void)usleep(WAIT_USEC);
}

/* One connection's life: subscribe, then hand signals on until a detach
 * (returns 0) or until the bus fails (-errno: dbus-daemon restarted or went
 * away).  *subscribed says whether Subscribe was reached.  resumed: an
 * earlier connection was subscribed, so changes may have been missed. */
static int serve(bool resumed, bool *subscribed) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);

        *subscribed = false;
        if (r < 0 || (r = subscribe(bus)) < 0)
                return r;
        *subscribed = true;
        /* From here on a change of unit files is heard of: listings may
         * keep their states. */
        units_file_states_watch(true);
        units_file_states_warm(bus);
        if (resumed)
                publish_manager("reloaded");
        while (!atomic_load(&stopping)) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                flush(false);
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, n_pend ? SVC_EVENT_WINDOW_USEC / 3 : WAIT_USEC);
                if (r < 0)
                        break;
        }
        /* Not watched any more: a listing asks systemd for file states
         * again until the next connection is subscribed. */
        units_file_states_watch(false);
        flush(true);
        return atomic_load(&stopping) ? 0 : (r < 0 ? r : -ECONNRESET);
}

static void *events_main(void *arg) {
        uint64_t backoff = RECONNECT_MIN_USEC;
        bool resumed = false;

        (void)arg;
        while (!atomic_load(&stopping)) {
                bool subscribed;
                uint64_t started = now_usec();

                if (serve(resumed, &subscribed) >= 0)
                        break;
                if (subscribed) {
                        resumed = true;
                        if (now_usec() - started > RECONNECT_MAX_USEC)
                                backoff = RECONNECT_MIN_USEC;
                }
                nap(backoff);
                backoff = backoff * 2 > RECONNECT_MAX_USEC ? RECONNECT_MAX_USEC : backoff * 2;
        }
        return NULL;
}

void svc_events_attach(const struct event_hub *h) {
        if (h && !running) {
                if (sd_booted() <= 0)
                        return;
                hub = h;
                atomic_store(&stopping, false);
                running = pthread_create(&thread, NULL, events_main, NULL) == 0;
        } else if (!h && running) {
                atomic_store(&stopping, true);
                pthread_join(thread, NULL);
                running = false;
                hub = NULL;
        }
}

/* netinfo.c — what this machine's network is: host name, interfaces with
 * their addresses and counters, routes, and the resolver's configuration.
 *
 * Runs in the front (user _steward, under its seccomp filter, on the API's
 * threads): rtnetlink dumps (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE) need no
 * privilege, nor do /sys/class/net/IF/{speed,duplex,carrier} and
 * /etc/resolv.conf.  Each request opens its own netlink socket (libmnl), so
 * nothing is shared between threads.  What the kernel sends is bounded: at
 * most NETINFO_MAX_LINKS interfaces, NETINFO_MAX_ADDRS addresses and
 * NETINFO_MAX_ROUTES routes are listed (the answer says "truncated"), every
 * attribute is validated for its length (mnl_attr_validate) before use, and
 * names are copied with their bound.  A value that cannot be read (a veth's
 * speed, a down link's carrier) is null, not an error.
 *
 * Routes: the kernel's tables but "local" (255, the host's own addresses,
 * which `ip route` does not show either), unicast, blackhole, unreachable
 * and prohibit routes; cached clones are skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "modules/network/network.h"
#include "util.h"

#define NETINFO_MAX_LINKS  1024
#define NETINFO_MAX_ADDRS  4096
#define NETINFO_MAX_ROUTES 4096
#define RESOLV_CONF_PATH   "/etc/resolv.conf"
/* The kernel fills a dump's datagram up to what the reader offers (32 KiB
 * at most, NLMSG_GOODSIZE at least): every message fits. */
#define DUMP_BUF_SIZE (32u << 10)

struct dump {
        json_t *links; /* {"INDEX": interface} while dumping, then listed in order */
        json_t *list;  /* the interfaces in index order */
        json_t *routes;
        bool truncated;
};

/* ---- one dump ---------------------------------------------------------------------- */

static int dump_run(struct mnl_socket *nl, uint16_t type, uint8_t family, mnl_cb_t cb,
                    struct dump *d) {
        _cleanup_free_ char *buf = malloc(DUMP_BUF_SIZE);
        struct nlmsghdr *nlh;
        struct rtgenmsg *g;
        uint32_t seq = (uint32_t)time(NULL) ^ type, portid = mnl_socket_get_portid(nl);
        ssize_t n;
        int r;

        if (!buf)
                return -ENOMEM;
        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = seq;
        g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
        g->rtgen_family = family;
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        do {
                n = mnl_socket_recvfrom(nl, buf, DUMP_BUF_SIZE);
                if (n < 0)
                        return -errno;
                r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, d);
        } while (r > 0);
        return r < 0 ? -errno : 0;
}

/* ---- interfaces -------------------------------------------------------------------- */

static const char *arphrd_name(unsigned t, char *buf, size_t len) {
        switch (t) {
        case ARPHRD_ETHER:
                return "ether";
        case ARPHRD_LOOPBACK:
                return "loopback";
        case ARPHRD_NONE:
                return "none";
        case ARPHRD_TUNNEL:
                return "ipip";
        case ARPHRD_TUNNEL6:
                return "ip6tnl";
        case ARPHRD_SIT:
                return "sit";
        case ARPHRD_IPGRE:
                return "gre";
        case ARPHRD_PPP:
                return "ppp";
        case ARPHRD_INFINIBAND:
                return "infiniband";
        case ARPHRD_IEEE80211:
        case ARPHRD_IEEE80211_RADIOTAP:
                return "wlan";
        case ARPHRD_CAN:
                return "can";
        default:
                snprintf(buf, len, "arphrd-%u", t);
                return buf;
        }
}

static const char *operstate_name(uint8_t s) {
        static const char *const names[] = {"unknown", "notpresent", "down", "lowerlayerdown",
                                            "testing", "dormant",    "up"};
        return s < ELEMENTSOF(names) ? names[s] : "unknown";
}

static json_t *flags_json(unsigned f) {
        static const struct {
                unsigned bit;
                const char *name;
        } bits[] = {
                {IFF_UP, "UP"},
                {IFF_BROADCAST, "BROADCAST"},
                {IFF_LOOPBACK, "LOOPBACK"},
                {IFF_POINTOPOINT, "POINTOPOINT"},
                {IFF_RUNNING, "RUNNING"},
                {IFF_NOARP, "NOARP"},
                {IFF_PROMISC, "PROMISC"},
                {IFF_ALLMULTI, "ALLMULTI"},
                {IFF_MULTICAST, "MULTICAST"},
                {IFF_LOWER_UP, "LOWER_UP"},
                {IFF_DORMANT, "DORMANT"},
        };
        json_t *a = json_array();
        for (size_t i = 0; a && i < ELEMENTSOF(bits); i++)
                if (f & bits[i].bit)
                        json_array_append_new(a, json_string(bits[i].name));
        return a;
}

/* A small integer file under /sys/class/net/NAME/; -1 when unreadable. */
static int64_t sys_int(const char *ifname, const char *file) {
        char path[128];
        _cleanup_free_ char *text = NULL;
        int64_t v;

        snprintf(path, sizeof path, "/sys/class/net/%s/%s", ifname, file);
        if (read_file(path, 64, &text, NULL) < 0)
                return -1;
        text[strcspn(text, "\n")] = '\0';
        return safe_atoi64(text, &v) < 0 ? -1 : v;
}

static json_t *duplex_json(const char *ifname) {
        char path[128];
        _cleanup_free_ char *text = NULL;

        snprintf(path, sizeof path, "/sys/class/net/%s/duplex", ifname);
        if (read_file(path, 64, &text, NULL) < 0)
                return json_null();
        text[strcspn(text, "\n")] = '\0';
        return STREQ(text, "full") || STREQ(text, "half") ? json_string(text) : json_null();
}

static json_t *counters_json(const struct rtnl_link_stats64 *s) {
        return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_bytes",
                         (json_int_t)s->rx_bytes, "rx_packets", (json_int_t)s->rx_packets,
                         "rx_errors", (json_int_t)s->rx_errors, "rx_dropped",
                         (json_int_t)s->rx_dropped, "tx_bytes", (json_int_t)s->tx_bytes,
                         "tx_packets", (json_int_t)s->tx_packets, "tx_errors",
                         (json_int_t)s->tx_errors, "tx_dropped", (json_int_t)s->tx_dropped);
}

/* The attributes of a link message, validated. */
struct link_attrs {
        const char *name;
        const uint8_t *mac;
        size_t mac_len;
        uint32_t mtu;
        uint8_t operstate;
        struct rtnl_link_stats64 stats; /* copied: netlink aligns attributes to 4 only */
        const char *kind;               /* IFLA_LINKINFO's IFLA_INFO_KIND: "veth", "bridge", … */
        bool has_mtu;
};

static int linkinfo_attr(const struct nlattr *a, void *data) {
        struct link_attrs *la = data;

        if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
            mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0 && mnl_attr_get_payload_len(a) <= 32)
                la->kind = mnl_attr_get_str(a);
        return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *data) {
        struct link_attrs *la = data;

        switch (mnl_attr_get_type(a)) {
        case IFLA_IFNAME:
                if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0 &&
                    mnl_attr_get_payload_len(a) <= IFNAMSIZ)
                        la->name = mnl_attr_get_str(a);
                break;
        case IFLA_ADDRESS:
                if (mnl_attr_get_payload_len(a) <= 32) {
                        la->mac = mnl_attr_get_payload(a);
                        la->mac_len = mnl_attr_get_payload_len(a);
                }
                break;
        case IFLA_MTU:
                if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
                        la->mtu = mnl_attr_get_u32(a), la->has_mtu = true;
                break;
        case IFLA_OPERSTATE:
                if (mnl_attr_validate(a, MNL_TYPE_U8) >= 0)
                        la->operstate = mnl_attr_get_u8(a);
                break;
        case IFLA_LINKINFO:
                if (mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
                        mnl_attr_parse_nested(a, linkinfo_attr, la);
                break;
        case IFLA_STATS64:
                if (mnl_attr_get_payload_len(a) >= sizeof(struct rtnl_link_stats64))
                        memcpy(&la->stats, mnl_attr_get_payload(a), sizeof la->stats);
                break;
        }
        return MNL_CB_OK;
}

static json_t *mac_json(const struct link_attrs *la) {
        char text[32 * 3];
        size_t n = 0;

        if (!la->mac || la->mac_len == 0)
                return json_null();
        for (size_t i = 0; i < la->mac_len; i++)
                n += (size_t)snprintf(text + n, sizeof text - n, "%s%02x", i ? ":" : "",
                                      la->mac[i]);
        return json_string(text);
}

static int link_cb(const struct nlmsghdr *nlh, void *data) {
        struct dump *d = data;
        const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        struct link_attrs la = {0};
        char key[16], tbuf[24];

        if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof *ifm)
                return MNL_CB_OK;
        if (json_object_size(d->links) >= NETINFO_MAX_LINKS) {
                d->truncated = true;
                return MNL_CB_OK;
        }
        mnl_attr_parse(nlh, sizeof *ifm, link_attr, &la);
        if (!la.name)
                return MNL_CB_OK;
        int64_t speed = sys_int(la.name, "speed"), carrier = sys_int(la.name, "carrier");
        json_t *o = json_pack(
                "{s:s, s:i, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:[], s:o}", "name", la.name,
                "index", ifm->ifi_index, "type", arphrd_name(ifm->ifi_type, tbuf, sizeof tbuf),
                "state", operstate_name(la.operstate), "flags", flags_json(ifm->ifi_flags), "mac",
                mac_json(&la), "mtu", la.has_mtu ? json_integer(la.mtu) : json_null(), "speed_mbps",
                speed > 0 ? json_integer(speed) : json_null(), "duplex", duplex_json(la.name),
                "carrier", carrier < 0 ? json_null() : json_boolean(carrier == 1), "addresses",
                "counters", counters_json(&la.stats));
        if (!o)
                return MNL_CB_ERROR;
        json_object_set_new(o, "kind",
                            la.kind && utf8_valid(la.kind, strlen(la.kind)) ? json_string(la.kind)
                                                                            : json_null());
        snprintf(key, sizeof key, "%d", ifm->ifi_index);
        json_object_set_new(d->links, key, o);
        json_array_append(d->list, o);
        return MNL_CB_OK;
}

/* ---- addresses --------------------------------------------------------------------- */

static const char *scope_name(unsigned s, char *buf, size_t len) {
        switch (s) {
        case RT_SCOPE_UNIVERSE:
                return "global";
        case RT_SCOPE_SITE:
                return "site";
        case RT_SCOPE_LINK:
                return "link";
        case RT_SCOPE_HOST:
                return "host";
        case RT_SCOPE_NOWHERE:
                return "nowhere";
        default:
                snprintf(buf, len, "%u", s);
                return buf;
        }
}

struct addr_attrs {
        const void *address, *local;
};

static int addr_attr(const struct nlattr *a, void *data) {
        struct addr_attrs *aa = data;
        uint16_t len = mnl_attr_get_payload_len(a);

        if (len != 4 && len != 16)
                return MNL_CB_OK;
        if (mnl_attr_get_type(a) == IFA_ADDRESS)
                aa->address = mnl_attr_get_payload(a);
        else if (mnl_attr_get_type(a) == IFA_LOCAL)
                aa->local = mnl_attr_get_payload(a);
        return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data) {
        struct dump *d = data;
        const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        struct addr_attrs aa = {0};
        char key[16], text[INET6_ADDRSTRLEN], sbuf[8];
        const void *p;
        json_t *link, *list;

        if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof *ifa ||
            (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
                return MNL_CB_OK;
        snprintf(key, sizeof key, "%u", ifa->ifa_index);
        link = json_object_get(d->links, key);
        list = json_object_get(link, "addresses");
        if (!list)
                return MNL_CB_OK;
        if (json_array_size(list) >= 256) {
                d->truncated = true;
                return MNL_CB_OK;
        }
        mnl_attr_parse(nlh, sizeof *ifa, addr_attr, &aa);
        /* IPv4: IFA_LOCAL is the address (IFA_ADDRESS the peer's on a
         * point-to-point link); IPv6: IFA_ADDRESS, unless it has a peer. */
        p = aa.local ? aa.local : aa.address;
        if (!p || !inet_ntop(ifa->ifa_family, p, text, sizeof text))
                return MNL_CB_OK;
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:i, s:s}", "family",
                                        ifa->ifa_family == AF_INET ? "ipv4" : "ipv6", "address",
                                        text, "prefix_length", ifa->ifa_prefixlen, "scope",
                                        scope_name(ifa->ifa_scope, sbuf, sizeof sbuf)));
        return MNL_CB_OK;
}

/* ---- routes ------------------------------------------------------------------------ */

struct route_attrs {
        const void *dst, *gateway;
        uint32_t oif, priority, table;
        bool has_oif, has_priority, has_table;
};

static int route_attr(const struct nlattr *a, void *data) {
        struct route_attrs *ra = data;
        uint16_t len = mnl_attr_get_payload_len(a);

        switch (mnl_attr_get_type(a)) {
        case RTA_DST:
                if (len == 4 || len == 16)
                        ra->dst = mnl_attr_get_payload(a);
                break;
        case RTA_GATEWAY:
                if (len == 4 || len == 16)
                        ra->gateway = mnl_attr_get_payload(a);
                break;
        case RTA_OIF:
                if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
                        ra->oif = mnl_attr_get_u32(a), ra->has_oif = true;
                break;
        case RTA_PRIORITY:
                if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
                        ra->priority = mnl_attr_get_u32(a), ra->has_priority = true;
                break;
        case RTA_TABLE:
                if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
                        ra->table = mnl_attr_get_u32(a), ra->has_table = true;
                break;
        }
        return MNL_CB_OK;
}

static const char *protocol_name(unsigned p, char *buf, size_t len) {
        switch (p) {
        case RTPROT_KERNEL:
                return "kernel";
        case RTPROT_BOOT:
                return "boot";
        case RTPROT_STATIC:
                return "static";
        case RTPROT_RA:
                return "ra";
        case RTPROT_DHCP:
                return "dhcp";
        default:
                snprintf(buf, len, "%u", p);
                return buf;
        }
}

static json_t *table_json(uint32_t t) {
        if (t == RT_TABLE_MAIN)
                return json_string("main");
        if (t == RT_TABLE_DEFAULT)
                return json_string("default");
        return json_integer(t);
}

static int route_cb(const struct nlmsghdr *nlh, void *data) {
        struct dump *d = data;
        const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        struct route_attrs ra = {0};
        char dst[INET6_ADDRSTRLEN + 8], gw[INET6_ADDRSTRLEN], key[16], pbuf[8], sbuf[8];
        const char *ifname = NULL;

        if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof *rtm ||
            (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
            (rtm->rtm_flags & RTM_F_CLONED))
                return MNL_CB_OK;
        if (rtm->rtm_type != RTN_UNICAST && rtm->rtm_type != RTN_BLACKHOLE &&
            rtm->rtm_type != RTN_UNREACHABLE && rtm->rtm_type != RTN_PROHIBIT)
                return MNL_CB_OK;
        mnl_attr_parse(nlh, sizeof *rtm, route_attr, &ra);
        uint32_t table = ra.has_table ? ra.table : rtm->rtm_table;
        if (table == RT_TABLE_LOCAL)
                return MNL_CB_OK;
        if (json_array_size(d->routes) >= NETINFO_MAX_ROUTES) {
                d->truncated = true;
                return MNL_CB_OK;
        }
        if (rtm->rtm_dst_len == 0)
                snprintf(dst, sizeof dst, "default");
        else {
                char a[INET6_ADDRSTRLEN] = "?";
                if (ra.dst)
                        inet_ntop(rtm->rtm_family, ra.dst, a, sizeof a);
                snprintf(dst, sizeof dst, "%s/%u", a, rtm->rtm_dst_len);
        }
        if (ra.gateway && !inet_ntop(rtm->rtm_family, ra.gateway, gw, sizeof gw))
                ra.gateway = NULL;
        snprintf(key, sizeof key, "%u", ra.oif);
        if (ra.has_oif)
                ifname = json_string_value(json_object_get(json_object_get(d->links, key), "name"));
        json_t *o = json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:s, s:s, s:o}", "family",
                              rtm->rtm_family == AF_INET ? "ipv4" : "ipv6", "destination", dst,
                              "gateway", ra.gateway ? gw : NULL, "interface", ifname, "metric",
                              (json_int_t)(ra.has_priority ? ra.priority : 0), "protocol",
                              protocol_name(rtm->rtm_protocol, pbuf, sizeof pbuf), "scope",
                              scope_name(rtm->rtm_scope, sbuf, sizeof sbuf), "table",
                              table_json(table));
        if (o && !ra.gateway)
                json_object_set_new(o, "gateway", json_null());
        if (o && !ifname)
                json_object_set_new(o, "interface", json_null());
        if (o && rtm->rtm_type != RTN_UNICAST)
                json_object_set_new(o, "type",
                                    json_string(rtm->rtm_type == RTN_BLACKHOLE     ? "blackhole"
                                                : rtm->rtm_type == RTN_UNREACHABLE ? "unreachable"
                                                                                   : "prohibit"));
        json_array_append_new(d->routes, o);
        return MNL_CB_OK;
}

/* ---- names and the resolver -------------------------------------------------------- */

static json_t *fqdn_json(const char *host) {
        struct addrinfo hints = {.ai_flags = AI_CANONNAME}, *res = NULL;
        json_t *j = json_null();

        if (!host[0] || getaddrinfo(host, NULL, &hints, &res) != 0)
                return j;
        if (res && res->ai_canonname && strchr(res->ai_canonname, '.') &&
            strlen(res->ai_canonname) <= 253 &&
            utf8_valid(res->ai_canonname, strlen(res->ai_canonname)))
                j = json_string(res->ai_canonname);
        freeaddrinfo(res);
        return j ? j : json_null();
}

static json_t *dns_json(void) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0;

        if (read_file(RESOLV_CONF_PATH, RESOLV_CONF_MAX, &text, &n) < 0)
                return resolv_conf_parse("", 0, RESOLV_CONF_PATH);
        return resolv_conf_parse(text, n, RESOLV_CONF_PATH);
}

/* ---- the route ----------------------------------------------------------------------- */

static int dumps_run(struct dump *d) {
        struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
        int r;

        if (!nl)
                return -errno;
        r = mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ? -errno : 0;
        if (r >= 0)
                r = dump_run(nl, RTM_GETLINK, AF_UNSPEC, link_cb, d);
        if (r >= 0)
                r = dump_run(nl, RTM_GETADDR, AF_UNSPEC, addr_cb, d);
        if (r >= 0)
                r = dump_run(nl, RTM_GETROUTE, AF_INET, route_cb, d);
        if (r >= 0)
                r = dump_run(nl, RTM_GETROUTE, AF_INET6, route_cb, d);
        mnl_socket_close(nl);
        return r;
}

/* The module's status: running while a link other than the loopback is up
 * and a default route and a DNS server exist; degraded, with the reason,
 * otherwise (what a troubleshooter looks at first). */
int netinfo_status(json_t **ret, struct module_error *err) {
        struct dump d = {.links = json_object(), .list = json_array(), .routes = json_array()};
        size_t up = 0, defaults = 0, i;
        json_t *v, *dns = NULL;
        const char *reason = NULL;
        int r = d.links && d.list && d.routes ? dumps_run(&d) : -ENOMEM;

        json_decref(d.links);
        if (r >= 0) {
                json_array_foreach(
                        d.list, i,
                        v) if (!STREQ(json_string_value(json_object_get(v, "type")) ?: "",
                                      "loopback") &&
                               STREQ(json_string_value(json_object_get(v, "state")) ?: "", "up"))
                        up++;
                json_array_foreach(
                        d.routes, i,
                        v) if (STREQ(json_string_value(json_object_get(v, "destination")) ?: "",
                                     "default")) defaults++;
                dns = dns_json();
        }
        json_decref(d.list);
        json_decref(d.routes);
        if (r < 0 || !dns) {
                json_decref(dns);
                module_error_set(err, 500, "internal", NULL, "cannot read the interfaces: %s",
                                 strerror(r < 0 ? -r : ENOMEM));
                return r < 0 ? r : -ENOMEM;
        }
        size_t servers = json_array_size(json_object_get(dns, "servers"));
        json_decref(dns);
        if (up == 0)
                reason = "no interface is up but the loopback";
        else if (defaults == 0)
                reason = "no default route: only the networks routed explicitly are reachable";
        else if (servers == 0)
                reason = "no DNS server in /etc/resolv.conf";
        *ret = json_pack("{s:s, s:I, s:I, s:I}", "state", reason ? "degraded" : "running",
                         "interfaces_up", (json_int_t)up, "default_routes", (json_int_t)defaults,
                         "dns_servers", (json_int_t)servers);
        if (*ret && reason)
                json_object_set_new(*ret, "reason", json_string(reason));
        return *ret ? 0 : -ENOMEM;
}

int netinfo_route(const struct module_ctx *ctx, char **params, json_t **ret,
                  struct module_error *err) {
        struct dump d = {.links = json_object(), .list = json_array(), .routes = json_array()};
        char host[256] = "";
        int r;

        (void)ctx;
        (void)params;
        if (!d.links || !d.list || !d.routes)
                r = -ENOMEM;
        else
                r = dumps_run(&d);
        json_decref(d.links);
        if (r < 0) {
                json_decref(d.list);
                json_decref(d.routes);
                module_error_set(err, 500, "internal", NULL, "cannot read the interfaces: %s",
                                 strerror(-r));
                return r;
        }
        if (gethostname(host, sizeof host - 1) < 0 || !utf8_valid(host, strlen(host)))
                host[0] = '\0';
        *ret = json_pack("{s:s, s:o, s:o, s:o, s:o, s:b}", "hostname", host, "fqdn",
                         fqdn_json(host), "interfaces", d.list, "routes", d.routes, "dns",
                         dns_json(), "truncated", d.truncated);
        return *ret ? 0 : -ENOMEM;
}

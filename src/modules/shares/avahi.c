/* avahi.c — the mDNS advertisement of Time Machine destinations.
 *
 * smbd registers _smb._tcp and _adisk._tcp with Avahi once, when it starts,
 * so a Time Machine share made while it runs would stay unseen by Macs.
 * Steward owns /etc/avahi/services/steward-timemachine.service instead,
 * which avahi-daemon watches and publishes at once: _smb._tcp on 445, a
 * _device-info._tcp model (the icon Finder shows), and _adisk._tcp with one
 * "dkN=adVN=SHARE,adVF=0x82" TXT record per destination — the record macOS
 * looks for.  Share names are XML-escaped; the grammar already keeps ',' and
 * '=' (TXT syntax) out of them. */
#include "modules/shares/avahi.h"

#include <errno.h>
#include <string.h>

#include "util.h"

static int put_escaped(struct buf *b, const char *s) {
        int r = 0;

        for (; *s && r >= 0; s++)
                switch (*s) {
                case '&': r = buf_puts(b, "&amp;"); break;
                case '<': r = buf_puts(b, "&lt;"); break;
                case '>': r = buf_puts(b, "&gt;"); break;
                case '"': r = buf_puts(b, "&quot;"); break;
                case '\'': r = buf_puts(b, "&apos;"); break;
                default: r = buf_append(b, s, 1);
                }
        return r;
}

int avahi_render(json_t *shares, char **ret) {
        struct buf b;
        size_t i, n = 0;
        json_t *s;
        int r;

        *ret = NULL;
        buf_init(&b, 256 * 1024);
        r = buf_puts(&b, "<?xml version=\"1.0\" standalone='no'?>\n"
                         "<!DOCTYPE service-group SYSTEM \"avahi-service.dtd\">\n"
                         "<!-- Managed by Steward: Time Machine destinations "
                         "(steward shares list). -->\n"
                         "<service-group>\n"
                         "  <name replace-wildcards=\"yes\">%h</name>\n"
                         "  <service>\n    <type>_smb._tcp</type>\n    <port>445</port>\n"
                         "  </service>\n"
                         "  <service>\n    <type>_device-info._tcp</type>\n    <port>9</port>\n"
                         "    <txt-record>model=TimeCapsule8,119</txt-record>\n  </service>\n"
                         "  <service>\n    <type>_adisk._tcp</type>\n    <port>9</port>\n"
                         "    <txt-record>sys=waMa=0,adVF=0x100</txt-record>\n");
        json_array_foreach(shares, i, s) {
                json_t *smb = json_object_get(s, "smb");
                if (!json_is_true(json_object_get(smb, "enabled")) ||
                    !json_is_true(json_object_get(smb, "time_machine")))
                        continue;
                if (r >= 0)
                        r = buf_printf(&b, "    <txt-record>dk%zu=adVN=", n++);
                if (r >= 0)
                        r = put_escaped(&b, json_string_value(json_object_get(s, "name")));
                if (r >= 0)
                        r = buf_puts(&b, ",adVF=0x82</txt-record>\n");
        }
        if (r >= 0)
                r = buf_puts(&b, "  </service>\n</service-group>\n");
        if (r < 0 || n == 0) {
                buf_free(&b);
                return r < 0 ? r : 0;
        }
        if (buf_append(&b, "", 1) < 0) {
                buf_free(&b);
                return -E2BIG;
        }
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

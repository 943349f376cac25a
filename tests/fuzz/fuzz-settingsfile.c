/* fuzz-settingsfile.c — libFuzzer target for a settings file
 * (src/modules/settingsfile.c) over the daemon's own rows (common/config.c).
 *
 * Any input may be rejected, but never with a crash, a leak or undefined
 * behaviour.  What settings_file_parse() accepts must survive two round
 * trips: the struct printed as a file parses back to the same settings, and
 * the in-place rewrite of the input with every key set to its parsed value
 * (the path of every change through the API) still parses, to the same
 * settings.  A broken property aborts, which the fuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "kv.h"
#include "registry.h"
#include "settingsfile.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses text and returns its settings as a tree, or NULL if refused. */
static json_t *parsed_tree(const char *text, size_t size) {
        struct steward_config c;
        char err[512];

        if (steward_config_parse(text, size, "fuzz", &c, err, sizeof err) < 0)
                return NULL;
        return settings_file_tree(&steward_config_file, &c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *printed = NULL, *rewritten = NULL;
        struct module_error e = {0};
        json_t *tree, *back, *flat = NULL;

        if (size > 256 * 1024)
                return 0;
        tree = parsed_tree((const char *)data, size);
        if (!tree)
                return 0;

        if (kv_format(NULL, tree, &printed) < 0)
                abort();
        back = parsed_tree(printed, strlen(printed));
        if (!back || !json_equal(tree, back))
                abort();
        json_decref(back);

        if (settings_rows_flatten("stewardd", steward_config_file.rows, steward_config_file.n_rows,
                                  tree, &flat, &e) < 0)
                abort();
        if (settings_text_rewrite((const char *)data, size, flat, &rewritten) < 0)
                abort();
        back = parsed_tree(rewritten, strlen(rewritten));
        if (!back || !json_equal(tree, back))
                abort();
        json_decref(back);
        json_decref(flat);
        json_decref(tree);
        return 0;
}

/*
 * plugin.c: the `plugin` reward: loads a user's shared library with dlopen
 * and scores through the GrpoRewardPlugin it exports (reward_plugin.h).
 * Config: {"name": "plugin", "library": "path/to/lib.so", "symbol":
 * "grpo_reward_plugin", "token_ids": false, ...params passed to the
 * plugin's create()}. Plugins built before score_items existed (a smaller
 * struct_size) are called through score() with the first fields only.
 * Not for: out-of-process rewards (external.c).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "reward.h"
#include "reward_plugin.h"

/* Each item's diagnostics buffer, in bytes. */
#define DIAG_CAP 4096

_Static_assert(sizeof(int) == sizeof(int32_t), "token ids are passed to plugins as int32_t");

typedef struct {
    void *handle;
    const GrpoRewardPlugin *api;
    void *state;
    int items;        /* call score_items (else the first ABI's score) */
    int token_ids;    /* pass the completion's token ids */
    char library[512];
} Plugin;

/* The size of the first GrpoRewardPlugin, before score_items. */
#define PLUGIN_V1_SIZE offsetof(GrpoRewardPlugin, score_items)
#define PLUGIN_ITEMS_SIZE (offsetof(GrpoRewardPlugin, item_size) + sizeof(uint32_t))

/* Checks the exported object; sets pl->items. */
static int check_api(Plugin *pl, const GrpoRewardPlugin *api, const char *path, const char *lib, const char *sym) {
    if (api->abi_version != GRPO_REWARD_ABI_VERSION)
        return ERR("%s.library: '%s' was built for reward plugin ABI version %u, this grpo speaks version %d; "
                   "rebuild the plugin against this grpo's <grpo/reward/reward_plugin.h>",
                   path, lib, (unsigned)api->abi_version, GRPO_REWARD_ABI_VERSION);
    if (api->struct_size < PLUGIN_V1_SIZE)
        return ERR("%s.library: '%s': symbol '%s' is not a valid GrpoRewardPlugin (struct_size %u, expected at "
                   "least %zu)",
                   path, lib, sym, (unsigned)api->struct_size, PLUGIN_V1_SIZE);
    if (api->struct_size > sizeof(GrpoRewardPlugin))
        return ERR("%s.library: '%s' was built for a newer grpo (struct_size %u, this grpo knows %zu); rebuild it "
                   "against this grpo's <grpo/reward/reward_plugin.h> or update grpo",
                   path, lib, (unsigned)api->struct_size, sizeof(GrpoRewardPlugin));
    pl->items = api->struct_size >= PLUGIN_ITEMS_SIZE && api->score_items;
    if (pl->items && api->item_size != sizeof(GrpoRewardItem))
        return ERR("%s.library: '%s': item_size is %u, this grpo's GrpoRewardItem has %zu bytes; %s", path, lib,
                   (unsigned)api->item_size, sizeof(GrpoRewardItem),
                   api->item_size > sizeof(GrpoRewardItem)
                       ? "the plugin was built for a newer grpo: rebuild it or update grpo"
                       : "set .item_size = sizeof(GrpoRewardItem) (GRPO_REWARD_PLUGIN_SIZES does)");
    if (!pl->items && !api->score)
        return ERR("%s.library: '%s': symbol '%s' is not a valid GrpoRewardPlugin: neither score_items nor score "
                   "is set",
                   path, lib, sym);
    return 0;
}

static void plugin_destroy(void *p) {
    Plugin *pl = p;
    if (!pl) return;
    if (pl->api && pl->api->destroy) pl->api->destroy(pl->state);
    if (pl->handle) dlclose(pl->handle);
    free(pl);
}

static int plugin_create(const cJSON *params, const char *path, void **state) {
    const char *lib = NULL, *sym = GRPO_REWARD_PLUGIN_SYMBOL;
    int token_ids = 0;
    if (json_get_string(params, path, "library", &lib) || json_get_string(params, path, "symbol", &sym) ||
        json_get_bool(params, path, "token_ids", &token_ids))
        return -1;
    if (!lib || !lib[0])
        return ERR("%s.library: required: the path of the plugin's shared library (e.g. \"./libmy_reward.so\")", path);
    Plugin *pl = xcalloc(1, sizeof(*pl));
    snprintf(pl->library, sizeof(pl->library), "%s", lib);
    pl->token_ids = token_ids;
    dlerror();
    pl->handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!pl->handle) {
        const char *why = dlerror();
        ERR("%s.library: cannot load '%s': %s (a path with '/' is used as given, relative to the config file's "
            "folder; a bare name is searched like any shared library)",
            path, lib, why ? why : "unknown error");
        free(pl);
        return -1;
    }
    dlerror();
    const GrpoRewardPlugin *api = dlsym(pl->handle, sym);
    const char *why = dlerror();
    if (why || !api) {
        ERR("%s.symbol: '%s' has no symbol '%s' (%s); export a 'const GrpoRewardPlugin %s' (see "
            "reward_plugin.h) or set \"symbol\"",
            path, lib, sym, why ? why : "NULL", sym);
        plugin_destroy(pl);
        return -1;
    }
    if (check_api(pl, api, path, lib, sym)) {
        plugin_destroy(pl);
        return -1;
    }
    cJSON *own = cJSON_Duplicate(params, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(own, "library");
    cJSON_DeleteItemFromObjectCaseSensitive(own, "symbol");
    cJSON_DeleteItemFromObjectCaseSensitive(own, "token_ids");
    if (!api->create) {
        int extra = cJSON_GetArraySize(own);
        cJSON_Delete(own);
        if (extra) {
            ERR("%s: plugin '%s' takes no parameters (it has no create function); remove the extra keys", path,
                api->name ? api->name : sym);
            plugin_destroy(pl);
            return -1;
        }
    } else {
        char *json = cJSON_PrintUnformatted(own);
        cJSON_Delete(own);
        char err[1024] = {0};
        int rc = api->create(json, &pl->state, err, sizeof(err));
        free(json);
        if (rc) {
            err[sizeof(err) - 1] = '\0';
            ERR("%s: plugin '%s' rejected its parameters: %s", path, api->name ? api->name : sym,
                err[0] ? err : "(no message)");
            plugin_destroy(pl); /* pl->api is not set yet: the plugin's destroy is not called */
            return -1;
        }
    }
    pl->api = api;
    *state = pl;
    return 0;
}

/* Scores items [i, i + n): through score_items, or the first ABI's score. */
static int call(Plugin *pl, const GrpoRewardInput *pin, GrpoRewardItem *it, size_t i, size_t n,
                GrpoRewardOutput *out, char *err, size_t cap) {
    if (pl->items) return pl->api->score_items(pl->state, it + i, n, out + i, err, cap);
    return pl->api->score(pl->state, pin + i, n, out + i, err, cap);
}

/* Scores all n items: in one call, or one item per call on several
 * threads when the plugin is thread-safe (the lowest failing item's
 * message is kept, whatever the timing). Non-zero on failure. */
static int score_all(Plugin *pl, const GrpoRewardInput *pin, GrpoRewardItem *it, size_t n, GrpoRewardOutput *out,
                     char *err, size_t cap) {
    if (!pl->api->thread_safe || n <= 1) return call(pl, pin, it, 0, n, out, err, cap) != 0;
    long bad = -1;
#pragma omp parallel for schedule(dynamic, 1)
    for (long i = 0; i < (long)n; i++) {
        char e[1024] = {0};
        if (call(pl, pin, it, (size_t)i, 1, out, e, sizeof(e)) == 0) continue;
        e[sizeof(e) - 1] = '\0';
#pragma omp critical(reward_plugin_err)
        {
            if (bad < 0 || i < bad) {
                bad = i;
                snprintf(err, cap, "%s", e);
            }
        }
    }
    return bad >= 0;
}

static int plugin_score(void *state, const RewardInput *in, size_t n, RewardResult *out) {
    Plugin *pl = state;
    GrpoRewardItem *it = xcalloc(n ? n : 1, sizeof(*it));
    GrpoRewardInput *pin = pl->items ? NULL : xcalloc(n ? n : 1, sizeof(*pin));
    GrpoRewardOutput *pout = xcalloc(n ? n : 1, sizeof(*pout));
    char *diag = pl->items ? xcalloc(n ? n : 1, DIAG_CAP) : NULL;
    char **ex = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        ex[i] = in[i].example ? cJSON_PrintUnformatted(in[i].example) : NULL;
        GrpoRewardInput *g = pl->items ? &it[i].input : &pin[i];
        g->prompt = in[i].prompt ? in[i].prompt : "";
        g->completion = in[i].completion;
        g->example_json = ex[i] ? ex[i] : "null";
        g->n_tokens = in[i].n_tokens;
        g->finish_reason = (int)in[i].finish;
        it[i].group = in[i].has_group ? in[i].group : -1;
        it[i].index = in[i].has_group ? in[i].index : -1;
        it[i].step = in[i].step;
        it[i].n_token_ids = -1;
        if (pl->token_ids && in[i].token_ids) {
            it[i].token_ids = (const int32_t *)in[i].token_ids;
            it[i].n_token_ids = in[i].n_token_ids;
        }
        if (diag) {
            it[i].diagnostics = diag + i * DIAG_CAP;
            it[i].diagnostics_cap = DIAG_CAP;
        }
    }
    char err[1024] = {0};
    int rc = score_all(pl, pin, it, n, pout, err, sizeof(err));
    err[sizeof(err) - 1] = '\0';
    for (size_t i = 0; i < n; i++) {
        out[i].has_score = pout[i].has_score != 0;
        out[i].score = pout[i].score;
        free(ex[i]);
        char *d = diag ? diag + i * DIAG_CAP : NULL;
        if (rc || !d || !d[0]) continue;
        if (memchr(d, '\0', DIAG_CAP) == NULL) {
            d[DIAG_CAP - 1] = '\0';
            out[i].error = xstrdup("the plugin wrote diagnostics longer than diagnostics_cap (no NUL)");
        } else if (!(out[i].diag = cJSON_Parse(d))) {
            char m[200];
            snprintf(m, sizeof(m), "the plugin wrote diagnostics that are not JSON: \"%.100s\"", d);
            out[i].error = xstrdup(m);
        }
        if (out[i].error) out[i].has_score = 0;
    }
    free(ex);
    free(it);
    free(pin);
    free(pout);
    free(diag);
    if (rc)
        return ERR("plugin '%s' (%s) failed: %s", pl->api->name ? pl->api->name : "?", pl->library,
                   err[0] ? err : "(no message)");
    return 0;
}

static const char *plugin_label(const void *state) {
    const Plugin *pl = state;
    return pl->api->name;
}

const RewardKind reward_kind_plugin = {
    .name = "plugin",
    .pure = 0, /* parallel inside plugin_score when the plugin says it is thread-safe */
    .create = plugin_create,
    .score = plugin_score,
    .destroy = plugin_destroy,
    .label = plugin_label,
};

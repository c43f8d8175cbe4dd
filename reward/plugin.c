/*
 * plugin.c: the `plugin` reward: loads a user's shared library with dlopen
 * and scores through the GrpoRewardPlugin it exports (reward_plugin.h).
 * Config: {"name": "plugin", "library": "path/to/lib.so", "symbol":
 * "grpo_reward_plugin", ...params passed to the plugin's create()}.
 * Not for: out-of-process rewards (external.c).
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "reward.h"
#include "reward_plugin.h"

typedef struct {
    void *handle;
    const GrpoRewardPlugin *api;
    void *state;
    char library[512];
} Plugin;

static void plugin_destroy(void *p) {
    Plugin *pl = p;
    if (!pl) return;
    if (pl->api && pl->api->destroy) pl->api->destroy(pl->state);
    if (pl->handle) dlclose(pl->handle);
    free(pl);
}

static int plugin_create(const cJSON *params, const char *path, void **state) {
    const char *lib = NULL, *sym = GRPO_REWARD_PLUGIN_SYMBOL;
    if (json_get_string(params, path, "library", &lib) || json_get_string(params, path, "symbol", &sym)) return -1;
    if (!lib || !lib[0])
        return ERR("%s.library: required: the path of the plugin's shared library (e.g. \"./libmy_reward.so\")", path);
    Plugin *pl = xcalloc(1, sizeof(*pl));
    snprintf(pl->library, sizeof(pl->library), "%s", lib);
    dlerror();
    pl->handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!pl->handle) {
        const char *why = dlerror();
        ERR("%s.library: cannot load '%s': %s (a path with '/' is used as given, relative to the current "
            "directory; a bare name is searched like any shared library)",
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
    if (api->abi_version != GRPO_REWARD_ABI_VERSION) {
        ERR("%s.library: '%s' was built for reward plugin ABI version %u, this grpo speaks version %d; rebuild "
            "the plugin against this grpo's reward/reward_plugin.h",
            path, lib, (unsigned)api->abi_version, GRPO_REWARD_ABI_VERSION);
        plugin_destroy(pl);
        return -1;
    }
    if (api->struct_size < sizeof(GrpoRewardPlugin) || !api->score) {
        ERR("%s.library: '%s': symbol '%s' is not a valid GrpoRewardPlugin (struct_size %u, expected %zu; score "
            "%s)",
            path, lib, sym, (unsigned)api->struct_size, sizeof(GrpoRewardPlugin), api->score ? "set" : "NULL");
        plugin_destroy(pl);
        return -1;
    }
    cJSON *own = cJSON_Duplicate(params, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(own, "library");
    cJSON_DeleteItemFromObjectCaseSensitive(own, "symbol");
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

static int plugin_score(void *state, const RewardInput *in, size_t n, RewardResult *out) {
    Plugin *pl = state;
    GrpoRewardInput *pin = xcalloc(n ? n : 1, sizeof(*pin));
    GrpoRewardOutput *pout = xcalloc(n ? n : 1, sizeof(*pout));
    char **ex = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        ex[i] = in[i].example ? cJSON_PrintUnformatted(in[i].example) : NULL;
        pin[i].prompt = in[i].prompt ? in[i].prompt : "";
        pin[i].completion = in[i].completion;
        pin[i].example_json = ex[i] ? ex[i] : "null";
        pin[i].n_tokens = in[i].n_tokens;
        pin[i].finish_reason = (int)in[i].finish;
    }
    int rc = 0;
    char err[1024] = {0};
    if (pl->api->thread_safe && n > 1) {
        long bad = -1;
#pragma omp parallel for schedule(dynamic, 1)
        for (long i = 0; i < (long)n; i++) {
            char e[1024] = {0};
            if (pl->api->score(pl->state, &pin[i], 1, &pout[i], e, sizeof(e)) == 0) continue;
            e[sizeof(e) - 1] = '\0';
#pragma omp critical(reward_plugin_err)
            {
                if (bad < 0 || i < bad) {
                    bad = i;
                    memcpy(err, e, sizeof(err));
                }
            }
        }
        rc = bad >= 0;
    } else {
        rc = pl->api->score(pl->state, pin, n, pout, err, sizeof(err)) != 0;
        err[sizeof(err) - 1] = '\0';
    }
    for (size_t i = 0; i < n; i++) {
        out[i].has_score = pout[i].has_score != 0;
        out[i].score = pout[i].score;
        free(ex[i]);
    }
    free(ex);
    free(pin);
    free(pout);
    if (rc)
        return ERR("plugin '%s' (%s) failed: %s", pl->api->name ? pl->api->name : "?", pl->library,
                   err[0] ? err : "(no message)");
    return 0;
}

const RewardKind reward_kind_plugin = {
    .name = "plugin",
    .pure = 0, /* parallel inside plugin_score when the plugin says it is thread-safe */
    .create = plugin_create,
    .score = plugin_score,
    .destroy = plugin_destroy,
};

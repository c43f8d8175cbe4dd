/*
 * keyword_reward.c: an example reward plugin for grpo (reward_plugin.h).
 * Scores the share of required keywords that a completion contains. The
 * keywords come from the config ("keywords": [...]) and, per example, from
 * the dataset line's "keywords" array; with none at all the completion
 * gets "no score". Matching is case-insensitive unless "case_sensitive" is
 * true. Its diagnostics say how many keywords were found, of how many.
 *
 * Build against an installed grpo (PREFIX is /usr/local by default) or the
 * source tree (the tests build it with CMake):
 *     cc -O2 -shared -fPIC -I$PREFIX/include keyword_reward.c -lcjson -o libkeyword_reward.so
 *     cc -O2 -shared -fPIC -I/path/to/grpo.c/include keyword_reward.c -lcjson -o libkeyword_reward.so
 * Config (a relative "library" starts at the config file's folder):
 *     {"name": "plugin", "library": "./libkeyword_reward.so", "weight": 0.2,
 *      "keywords": ["therefore"], "case_sensitive": false}
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpo/reward/reward_plugin.h>

typedef struct {
    char **words;
    int n;
    int case_sensitive;
} Keywords;

static void kw_destroy(void *state) {
    Keywords *k = state;
    if (!k) return;
    for (int i = 0; i < k->n; i++) free(k->words[i]);
    free(k->words);
    free(k);
}

static int kw_create(const char *params_json, void **state, char *err, size_t err_cap) {
    cJSON *p = cJSON_Parse(params_json);
    if (!p) {
        snprintf(err, err_cap, "parameters are not valid JSON");
        return 1;
    }
    Keywords *k = calloc(1, sizeof(*k));
    int rc = 0;
    for (const cJSON *it = p->child; it && !rc; it = it->next) {
        if (!strcmp(it->string, "case_sensitive")) {
            if (!cJSON_IsBool(it)) rc = snprintf(err, err_cap, "case_sensitive: expected true or false") > 0;
            k->case_sensitive = cJSON_IsTrue(it);
        } else if (!strcmp(it->string, "keywords")) {
            if (!cJSON_IsArray(it)) {
                rc = snprintf(err, err_cap, "keywords: expected an array of strings") > 0;
                break;
            }
            k->words = calloc((size_t)cJSON_GetArraySize(it) + 1, sizeof(char *));
            for (const cJSON *w = it->child; w; w = w->next) {
                if (!cJSON_IsString(w) || !w->valuestring[0]) {
                    rc = snprintf(err, err_cap, "keywords[%d]: expected a non-empty string", k->n) > 0;
                    break;
                }
                k->words[k->n++] = strdup(w->valuestring);
            }
        } else {
            rc = snprintf(err, err_cap, "%s: unknown parameter; valid: keywords, case_sensitive", it->string) > 0;
        }
    }
    cJSON_Delete(p);
    if (rc) {
        kw_destroy(k);
        return 1;
    }
    *state = k;
    return 0;
}

static int contains(const char *hay, const char *needle, int case_sensitive) {
    if (case_sensitive) return strstr(hay, needle) != NULL;
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return 0;
}

static int kw_score(void *state, GrpoRewardItem *items, size_t n, GrpoRewardOutput *out, char *err,
                    size_t err_cap) {
    const Keywords *k = state;
    for (size_t i = 0; i < n; i++) {
        const GrpoRewardInput *in = &items[i].input;
        int total = 0, found = 0;
        for (int w = 0; k && w < k->n; w++) {
            total++;
            found += contains(in->completion, k->words[w], k ? k->case_sensitive : 0);
        }
        cJSON *ex = cJSON_Parse(in->example_json);
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(ex, "keywords");
        for (const cJSON *w = cJSON_IsArray(list) ? list->child : NULL; w; w = w->next) {
            if (!cJSON_IsString(w)) continue;
            total++;
            found += contains(in->completion, w->valuestring, k ? k->case_sensitive : 0);
        }
        cJSON_Delete(ex);
        if (total == 0) continue; /* nothing to look for: no score */
        out[i].has_score = 1;
        out[i].score = (double)found / total;
        snprintf(items[i].diagnostics, items[i].diagnostics_cap, "{\"found\": %d, \"of\": %d}", found, total);
    }
    (void)err;
    (void)err_cap;
    return 0;
}

GRPO_REWARD_EXPORT const GrpoRewardPlugin grpo_reward_plugin = {
    GRPO_REWARD_PLUGIN_SIZES, /* abi_version, struct_size, item_size */
    .name = "keywords",       /* its label in logs unless the config gives one */
    .thread_safe = 1,
    .create = kw_create,
    .score_items = kw_score,
    .destroy = kw_destroy,
};

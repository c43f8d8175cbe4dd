/*
 * config.c: the architecture config (ModelConfig) to and from HF
 * config.json. Refuses what the model does not implement, naming the field.
 * Not for: the job config (trainer/).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "common/json.h"
#include "model.h"

typedef struct {
    const char *architecture;
    const char *model_type;
} ArchName;

static const ArchName known_archs[] = {
    {"LlamaForCausalLM", "llama"},
    {"Qwen2ForCausalLM", "qwen2"},
    {"Qwen3ForCausalLM", "qwen3"},
    {"MistralForCausalLM", "mistral"},
};
#define N_ARCHS (sizeof(known_archs) / sizeof(known_archs[0]))

static int get_int_field(const cJSON *j, const char *what, const char *key, int required, int def, int *out) {
    long v = def;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, key);
    if ((!it || cJSON_IsNull(it)) && required)
        return ERR("%s: missing required field '%s' (an HF config.json needs it)", what, key);
    if (it && !cJSON_IsNull(it) && json_get_int(j, what, key, 0, 1L << 30, &v) != 0) return -1;
    *out = (int)v;
    return 0;
}

static int get_double_field(const cJSON *j, const char *what, const char *key, double def, double *out) {
    double v = def;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, key);
    if (it && !cJSON_IsNull(it) && json_get_double(j, what, key, -INFINITY, INFINITY, &v) != 0) return -1;
    *out = v;
    return 0;
}

static int parse_rope_scaling(ModelConfig *cfg, const cJSON *rs, const char *what) {
    if (!rs || cJSON_IsNull(rs)) return 0;
    if (!cJSON_IsObject(rs)) return ERR("%s: rope_scaling must be an object or null", what);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
    if (!type) type = cJSON_GetObjectItemCaseSensitive(rs, "type");
    if (!cJSON_IsString(type)) return ERR("%s: rope_scaling has no 'rope_type'", what);
    const char *t = type->valuestring;
    if (!strcmp(t, "default")) return 0;
    char path[256];
    snprintf(path, sizeof(path), "%s: rope_scaling", what);
    if (!strcmp(t, "linear")) {
        snprintf(cfg->rope_scaling_type, sizeof(cfg->rope_scaling_type), "linear");
        cfg->rope_factor = 1.0;
        if (json_get_double(rs, path, "factor", 1e-6, 1e6, &cfg->rope_factor) != 0) return -1;
        return 0;
    }
    if (!strcmp(t, "llama3")) {
        snprintf(cfg->rope_scaling_type, sizeof(cfg->rope_scaling_type), "llama3");
        cfg->rope_factor = 8.0;
        cfg->rope_low_freq_factor = 1.0;
        cfg->rope_high_freq_factor = 4.0;
        long orig = 8192;
        if (json_get_double(rs, path, "factor", 1e-6, 1e6, &cfg->rope_factor) != 0 ||
            json_get_double(rs, path, "low_freq_factor", 1e-6, 1e6, &cfg->rope_low_freq_factor) != 0 ||
            json_get_double(rs, path, "high_freq_factor", 1e-6, 1e6, &cfg->rope_high_freq_factor) != 0 ||
            json_get_int(rs, path, "original_max_position_embeddings", 1, 1L << 30, &orig) != 0)
            return -1;
        if (cfg->rope_high_freq_factor <= cfg->rope_low_freq_factor)
            return ERR("%s: high_freq_factor must exceed low_freq_factor", path);
        cfg->rope_original_max_pos = (int)orig;
        return 0;
    }
    return ERR("%s: rope_scaling type '%s' is not supported (supported: default, linear, llama3)", what, t);
}

int model_config_from_json(ModelConfig *cfg, const cJSON *j, const char *what) {
    memset(cfg, 0, sizeof(*cfg));
    if (!cJSON_IsObject(j)) return ERR("%s: expected a JSON object (an HF config.json)", what);

    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(j, "architectures");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "model_type");
    const char *arch = NULL;
    if (cJSON_IsArray(archs) && cJSON_GetArraySize(archs) > 0) {
        const cJSON *a0 = cJSON_GetArrayItem(archs, 0);
        if (cJSON_IsString(a0)) arch = a0->valuestring;
    }
    const char *model_type = cJSON_IsString(mt) ? mt->valuestring : NULL;
    const ArchName *found = NULL;
    for (size_t i = 0; i < N_ARCHS && !found; i++) {
        if (arch && !strcmp(arch, known_archs[i].architecture)) found = &known_archs[i];
        if (!arch && model_type && !strcmp(model_type, known_archs[i].model_type)) found = &known_archs[i];
    }
    if (!found)
        return ERR("%s: architecture '%s' (model_type '%s') is not supported; supported: LlamaForCausalLM, "
                   "Qwen2ForCausalLM, Qwen3ForCausalLM, MistralForCausalLM",
                   what, arch ? arch : "?", model_type ? model_type : "?");
    snprintf(cfg->architecture, sizeof(cfg->architecture), "%s", found->architecture);
    snprintf(cfg->model_type, sizeof(cfg->model_type), "%s", found->model_type);

    if (get_int_field(j, what, "vocab_size", 1, 0, &cfg->vocab_size) ||
        get_int_field(j, what, "hidden_size", 1, 0, &cfg->hidden_size) ||
        get_int_field(j, what, "num_hidden_layers", 1, 0, &cfg->num_hidden_layers) ||
        get_int_field(j, what, "num_attention_heads", 1, 0, &cfg->num_attention_heads) ||
        get_int_field(j, what, "intermediate_size", 1, 0, &cfg->intermediate_size) ||
        get_int_field(j, what, "num_key_value_heads", 0, cfg->num_attention_heads, &cfg->num_key_value_heads) ||
        get_int_field(j, what, "max_position_embeddings", 0, 2048, &cfg->max_position_embeddings))
        return -1;
    int hd_def = cfg->num_attention_heads > 0 ? cfg->hidden_size / cfg->num_attention_heads : 0;
    if (get_int_field(j, what, "head_dim", 0, hd_def, &cfg->head_dim)) return -1;
    if (get_double_field(j, what, "rope_theta", 10000.0, &cfg->rope_theta) ||
        get_double_field(j, what, "rms_norm_eps", 1e-6, &cfg->rms_norm_eps) ||
        get_double_field(j, what, "initializer_range", 0.02, &cfg->initializer_range))
        return -1;

    int tie = 0;
    if (json_get_bool(j, what, "tie_word_embeddings", &tie)) return -1;
    cfg->tie_word_embeddings = tie;
    /* Qwen2 always has q/k/v biases; Llama/Mistral/Qwen3 have them iff attention_bias. */
    int bias = !strcmp(cfg->model_type, "qwen2");
    if (strcmp(cfg->model_type, "qwen2") && json_get_bool(j, what, "attention_bias", &bias)) return -1;
    cfg->attention_bias = bias;
    cfg->qk_norm = !strcmp(cfg->model_type, "qwen3");

    const cJSON *act = cJSON_GetObjectItemCaseSensitive(j, "hidden_act");
    if (act && !(cJSON_IsString(act) && !strcmp(act->valuestring, "silu")))
        return ERR("%s: hidden_act '%s' is not supported (only 'silu')", what,
                   cJSON_IsString(act) ? act->valuestring : "?");
    if (parse_rope_scaling(cfg, cJSON_GetObjectItemCaseSensitive(j, "rope_scaling"), what)) return -1;

    int use_sw = 0;
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(j, "sliding_window");
    if (json_get_bool(j, what, "use_sliding_window", &use_sw)) return -1;
    if (!strcmp(cfg->model_type, "mistral") && cJSON_IsNumber(sw) &&
        sw->valuedouble < cfg->max_position_embeddings)
        use_sw = 1;
    if (use_sw)
        return ERR("%s: sliding-window attention is not supported (sliding_window=%g); only full causal "
                   "attention is implemented",
                   what, cJSON_IsNumber(sw) ? sw->valuedouble : 0.0);
    static const char *moe_keys[] = {"num_experts", "num_local_experts", "n_routed_experts"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, moe_keys[i]);
        if (cJSON_IsNumber(e) && e->valuedouble > 0)
            return ERR("%s: mixture-of-experts models (%s=%g) are not supported", what, moe_keys[i], e->valuedouble);
    }

    cfg->bos_token_id = -1;
    const cJSON *bos = cJSON_GetObjectItemCaseSensitive(j, "bos_token_id");
    if (cJSON_IsNumber(bos)) cfg->bos_token_id = bos->valueint;
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(j, "eos_token_id");
    if (cJSON_IsNumber(eos)) {
        cfg->eos_token_ids[cfg->n_eos++] = eos->valueint;
    } else if (cJSON_IsArray(eos)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, eos) {
            if (!cJSON_IsNumber(e)) return ERR("%s: eos_token_id must hold integers", what);
            if (cfg->n_eos < MODEL_MAX_EOS) cfg->eos_token_ids[cfg->n_eos++] = e->valueint;
        }
    }
    return model_config_validate(cfg, what);
}

int model_config_validate(const ModelConfig *c, const char *what) {
    if (c->vocab_size <= 0 || c->hidden_size <= 0 || c->num_hidden_layers <= 0 || c->num_attention_heads <= 0 ||
        c->num_key_value_heads <= 0 || c->head_dim <= 0 || c->intermediate_size <= 0)
        return ERR("%s: vocab_size, hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, "
                   "head_dim and intermediate_size must all be positive",
                   what);
    if (c->num_attention_heads % c->num_key_value_heads != 0)
        return ERR("%s: num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)", what,
                   c->num_attention_heads, c->num_key_value_heads);
    if (c->head_dim % 2 != 0) return ERR("%s: head_dim (%d) must be even for RoPE", what, c->head_dim);
    if (!(c->rms_norm_eps > 0)) return ERR("%s: rms_norm_eps must be positive", what);
    if (!(c->rope_theta > 0)) return ERR("%s: rope_theta must be positive", what);
    if (c->max_position_embeddings <= 0) return ERR("%s: max_position_embeddings must be positive", what);
    size_t n_params;
    if (model_param_count_checked(c, what, &n_params)) return -1;
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_token_ids[i] < 0 || c->eos_token_ids[i] >= c->vocab_size)
            return ERR("%s: eos_token_id %d is outside the vocabulary (size %d)", what, c->eos_token_ids[i],
                       c->vocab_size);
    return 0;
}

cJSON *model_config_to_json(const ModelConfig *c) {
    cJSON *j = cJSON_CreateObject();
    cJSON *archs = cJSON_AddArrayToObject(j, "architectures");
    cJSON_AddItemToArray(archs, cJSON_CreateString(c->architecture));
    cJSON_AddStringToObject(j, "model_type", c->model_type);
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(j, "hidden_size", c->hidden_size);
    cJSON_AddNumberToObject(j, "num_hidden_layers", c->num_hidden_layers);
    cJSON_AddNumberToObject(j, "num_attention_heads", c->num_attention_heads);
    cJSON_AddNumberToObject(j, "num_key_value_heads", c->num_key_value_heads);
    cJSON_AddNumberToObject(j, "head_dim", c->head_dim);
    cJSON_AddNumberToObject(j, "intermediate_size", c->intermediate_size);
    cJSON_AddNumberToObject(j, "max_position_embeddings", c->max_position_embeddings);
    cJSON_AddNumberToObject(j, "rope_theta", c->rope_theta);
    if (c->rope_scaling_type[0]) {
        cJSON *rs = cJSON_AddObjectToObject(j, "rope_scaling");
        cJSON_AddStringToObject(rs, "rope_type", c->rope_scaling_type);
        cJSON_AddNumberToObject(rs, "factor", c->rope_factor);
        if (!strcmp(c->rope_scaling_type, "llama3")) {
            cJSON_AddNumberToObject(rs, "low_freq_factor", c->rope_low_freq_factor);
            cJSON_AddNumberToObject(rs, "high_freq_factor", c->rope_high_freq_factor);
            cJSON_AddNumberToObject(rs, "original_max_position_embeddings", c->rope_original_max_pos);
        }
    } else {
        cJSON_AddNullToObject(j, "rope_scaling");
    }
    cJSON_AddNumberToObject(j, "rms_norm_eps", c->rms_norm_eps);
    cJSON_AddBoolToObject(j, "tie_word_embeddings", c->tie_word_embeddings);
    if (strcmp(c->model_type, "qwen2")) cJSON_AddBoolToObject(j, "attention_bias", c->attention_bias);
    cJSON_AddStringToObject(j, "hidden_act", "silu");
    cJSON_AddNumberToObject(j, "initializer_range", c->initializer_range);
    if (c->bos_token_id >= 0) cJSON_AddNumberToObject(j, "bos_token_id", c->bos_token_id);
    if (c->n_eos == 1) {
        cJSON_AddNumberToObject(j, "eos_token_id", c->eos_token_ids[0]);
    } else if (c->n_eos > 1) {
        cJSON *e = cJSON_AddArrayToObject(j, "eos_token_id");
        for (int i = 0; i < c->n_eos; i++) cJSON_AddItemToArray(e, cJSON_CreateNumber(c->eos_token_ids[i]));
    }
    cJSON_AddStringToObject(j, "torch_dtype", "float32");
    return j;
}

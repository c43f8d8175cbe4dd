/*
 * memory.c: a training job's memory per rank, estimated before the big
 * allocations, and the check against what the node offers (memory.h).
 * The sizes follow the trainers' allocations: the model's blocks
 * (model.c), the workspace (acts_size, the same table acts_init
 * allocates), the KV store (kvstore_bytes) and the rollout's layout
 * (rollout.c: every prompt of a rank's round in one store).
 * Not for: allocating, or deciding anything but "fits or not".
 */
#define _GNU_SOURCE
#include "memory.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "common/json.h"
#include "model/forward.h"
#include "model/io/checkpoint.h"
#include "model/io/hf.h"
#include "model/io/loader.h"

/* The rollout's logits buffer limit (rollout.c LOGITS_BYTES). */
#define ROLLOUT_LOGITS_BYTES ((double)(256 << 20))
/* The rollout prefills prompts in forwards of at least this many tokens (rollout.c PREFILL_TOKENS). */
#define ROLLOUT_PREFILL 2048.0
/* A JSONL file in memory: the text, its parsed objects and its tokens, per byte of file. */
#define DATA_FACTOR 3.0

static void add(MemEstimate *e, const char *what, double bytes, const char *key) {
    ASSERT(e->n < MEMORY_MAX_ITEMS);
    e->item[e->n++] = (MemItem){what, bytes, key};
}

static double file_bytes(const char *path) {
    struct stat sb;
    return path && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? (double)sb.st_size : 0.0;
}

/* ---- what the node offers ---- */

/* A number of bytes with an optional K/M/G/T suffix (powers of 1024); -1 if not one. */
static double parse_bytes(const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0)) return -1;
    while (*end == ' ') end++;
    double mul = 1;
    switch (toupper((unsigned char)*end)) {
    case 'K': mul = 1024.0; end++; break;
    case 'M': mul = 1024.0 * 1024; end++; break;
    case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'I') end++;
    if (*end == 'B' || *end == 'b') end++;
    return *end ? -1 : v * mul;
}

/* The first line of a file as a byte count; -1 if missing or "max". */
static double read_limit_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[64] = {0};
    double v = -1;
    if (fgets(line, sizeof(line), f) && strncmp(line, "max", 3)) {
        char *end;
        unsigned long long x = strtoull(line, &end, 10);
        if (end != line && x < (1ULL << 60)) v = (double)x; /* v1 says "no limit" with ~2^63 */
    }
    fclose(f);
    return v;
}

/* This process's cgroup memory limit (v2, else v1), or -1. */
static double cgroup_limit(void) {
    char v2[512] = "", v1[512] = "";
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\n")] = '\0';
            if (!strncmp(line, "0::", 3)) snprintf(v2, sizeof(v2), "%s", line + 3);
            char *mem = strstr(line, ":memory:");
            if (mem) snprintf(v1, sizeof(v1), "%s", mem + 8);
        }
        fclose(f);
    }
    char path[700];
    double lim = -1;
    if (v2[0]) {
        snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", strcmp(v2, "/") ? v2 : "");
        lim = read_limit_file(path);
    }
    if (lim < 0) lim = read_limit_file("/sys/fs/cgroup/memory.max");
    if (lim < 0 && v1[0]) {
        snprintf(path, sizeof(path), "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", strcmp(v1, "/") ? v1 : "");
        lim = read_limit_file(path);
    }
    if (lim < 0) lim = read_limit_file("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    return lim;
}

double memory_node_limit(const char **from) {
    const char *env = getenv("GRPO_MAX_MEMORY");
    if (env && *env) {
        double v = parse_bytes(env);
        if (v >= 0) {
            *from = "GRPO_MAX_MEMORY";
            return v;
        }
        log_warn("GRPO_MAX_MEMORY='%s' is not a size (e.g. 64G, or 0 for no check); ignored", env);
    }
    double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGE_SIZE);
    double cg = cgroup_limit();
    if (cg > 0 && (cg < phys || !(phys > 0))) {
        *from = "the cgroup's memory limit";
        return cg;
    }
    *from = "physical memory";
    return phys > 0 ? phys : 0;
}

/* ---- the estimate ---- */

int memory_estimate(const JobConfig *job, const ModelConfig *cfg, int world, int ranks_per_node, long seq_tokens,
                    MemEstimate *e) {
    memset(e, 0, sizeof(*e));
    if (world < 1) world = 1;
    if (ranks_per_node < 1) ranks_per_node = 1;
    const int train = job->kind == JOB_TRAIN;
    const int nt = omp_get_max_threads();
    size_t n_params;
    if (model_param_count_checked(cfg, "model", &n_params)) return -1;
    const double P4 = (double)n_params * sizeof(float);
    const double mbs = (double)job->micro_batch_size;

    /* tokens per sequence and per micro-batch */
    double seq;
    if (!train) {
        seq = (double)job->max_length;
        e->seq_from = "data.max_length";
        if (seq_tokens > 0 && (double)seq_tokens < seq) {
            seq = (double)seq_tokens;
            e->seq_from = "the longest tokenized example";
        }
    } else {
        seq = (double)job->max_prompt_length + (double)job->max_completion_length;
        e->seq_from = "data.max_prompt_length + rollout.max_completion_length";
    }
    const double max_tokens = mbs * seq;
    if (max_tokens > INT_MAX || seq > INT_MAX)
        return ERR("train.micro_batch_size: %ld sequences of up to %.0f tokens (%s) make %.3g tokens per "
                   "micro-batch; the workspace holds at most %d: lower train.micro_batch_size%s",
                   job->micro_batch_size, seq, e->seq_from, max_tokens, INT_MAX,
                   train ? " (or data.max_prompt_length, rollout.max_completion_length)" : " (or data.max_length)");
    e->seq_tokens = (long)seq;
    e->max_tokens = (long)max_tokens;

    add(e, "parameters", P4, NULL);
    add(e, "gradients", P4, NULL);
    add(e, "AdamW moments (m and v)", 2 * P4, NULL);
    double blocks = 4 * P4;
    if (train && job->beta > 0) {
        add(e, "reference policy (algorithm.beta > 0)", P4, "algorithm.beta");
        blocks += P4;
    }
    size_t acts = 0;
    if (acts_size(cfg, (int)max_tokens, (int)seq, 1, job->gradient_checkpointing, nt, &acts))
        return err_prefix("train.micro_batch_size");
    const char *act_key = train ? "train.micro_batch_size or rollout.max_completion_length"
                                : "train.micro_batch_size or data.max_length";
    add(e, job->gradient_checkpointing ? "activations of a micro-batch (gradient checkpointing)"
                                       : "activations of a micro-batch",
        (double)acts, act_key);
    /* trainer scratch per token: SFT log-probs and the packed micro-batch;
     * GRPO's seven float and two double arrays besides */
    add(e, "per-token scratch of a micro-batch", max_tokens * (train ? 68.0 : 24.0), "train.micro_batch_size");

    double data = DATA_FACTOR * (file_bytes(job->train_file) + file_bytes(job->eval_file));
    if (!train) {
        add(e, "the step's list of sequences", (double)job->batch_size * sizeof(size_t), "train.batch_size");
    } else {
        const double G = (double)job->num_generations;
        const double P = job->batch_size > 0 ? floor((double)job->batch_size / G) : (double)job->prompts_per_step;
        const double P_local = ceil(P / world);
        const char *pkey = job->batch_size > 0 ? "train.batch_size" : "train.prompts_per_step";
        const double maxpos = cfg->max_position_embeddings, MP = (double)job->max_prompt_length;
        const double MC = fmin((double)job->max_completion_length, fmax(maxpos - 1, 1));
        /* every prompt of the rank's round in one KV store: its prompt, then G completions */
        const double rows = P_local * (MP + G * MC);
        if (rows > INT_MAX || P_local * G > INT_MAX)
            return ERR("%s: %.3g prompts per rank x rollout.num_generations %.0f completions of up to %.0f tokens need "
                       "%.3g KV-cache rows in one rollout; the rollout holds at most %d: lower %s",
                       pkey, P_local, G, MC, rows, INT_MAX, pkey);
        size_t kv = 0;
        if (kvstore_bytes(cfg, (size_t)rows, &kv)) return err_prefix("%s", pkey);
        add(e, "KV cache of a rollout (the rank's prompts x num_generations)", (double)kv, pkey);
        const double NS = P_local * G;
        double chunk = fmax(fmin(MP, maxpos), ROLLOUT_PREFILL);
        if (chunk > P_local * MP) chunk = P_local * MP;
        const double rtok = fmax(chunk, NS), rkeys = fmin(MP + MC, maxpos);
        size_t racts = 0;
        if (rtok > INT_MAX || acts_size(cfg, (int)rtok, (int)fmax(rkeys, 1), 0, 0, nt, &racts))
            return ERR("%s: a rollout step of %.3g sequences is too large; lower %s", pkey, NS, pkey);
        const double V4 = (double)cfg->vocab_size * sizeof(float);
        const double logits = fmin(NS, fmax(floor(ROLLOUT_LOGITS_BYTES / V4), 8)) * V4;
        add(e, "rollout workspace and logits", (double)racts + logits, pkey);
        /* each completion: ids, two log-prob arrays, text, reference log-probs, advantages */
        add(e, "the step's completions", NS * MC * 24.0, pkey);
        if (!job->train_file) data = 0;
    }
    if (data > 0) add(e, "training data (the file parsed and tokenized; about)", data, "data.train_file");

    double steady = 0;
    for (int i = 0; i < e->n; i++) steady += e->item[i].bytes;
    /* Resuming reads the moments (and any extra block) of the checkpoint
     * before the optimizer exists: the policy, its copies and both sets of
     * moments at once, before the workspace is allocated. */
    double resume_peak = 0;
    if (job->resume && strcmp(job->resume, "never")) resume_peak = blocks + 2 * P4 + data;
    e->total = fmax(steady, resume_peak);
    if (resume_peak > steady) add(e, "(peak while resuming: the checkpoint's moments beside the optimizer's)", 0, NULL);
    e->ranks_per_node = ranks_per_node;
    e->node_limit = memory_node_limit(&e->limit_from);
    e->rank_limit = e->node_limit / ranks_per_node;
    return 0;
}

int memory_fits(const MemEstimate *e) {
    if (e->node_limit <= 0 || e->total <= e->rank_limit) return 0;
    const MemItem *big = &e->item[0];
    double model = 0;
    for (int i = 0; i < e->n; i++) {
        if (!e->item[i].key) model += e->item[i].bytes;
        if (e->item[i].bytes > big->bytes) big = &e->item[i];
    }
    char ranks[96] = "";
    if (e->ranks_per_node > 1)
        snprintf(ranks, sizeof(ranks), " (%s for the %d ranks on this node)",
                 format_bytes(e->total * e->ranks_per_node).s, e->ranks_per_node);
    char advice[400];
    if (!big->key || model >= big->bytes)
        snprintf(advice, sizeof(advice),
                 "the model's parameters, gradients and AdamW moments alone need %s: use a smaller model, or more "
                 "memory per rank (fewer ranks per node)",
                 format_bytes(model).s);
    else
        snprintf(advice, sizeof(advice), "the largest part is %s (%s): lower %s%s", big->what,
                 format_bytes(big->bytes).s, big->key,
                 big == &e->item[3 + (e->item[3].key && !strcmp(e->item[3].key, "algorithm.beta"))] &&
                         strstr(big->what, "activations") && !strstr(big->what, "checkpointing")
                     ? ", or set train.gradient_checkpointing=true"
                     : "");
    return ERR("memory: this job needs about %s per rank%s but %s is %s%s; %s. `--dry-run` prints the whole "
               "estimate; GRPO_MAX_MEMORY overrides the limit",
               format_bytes(e->total).s, ranks, e->limit_from, format_bytes(e->node_limit).s,
               e->ranks_per_node > 1 ? " for the node" : "", advice);
}

void memory_print(const MemEstimate *e, FILE *f) {
    fprintf(f, "memory per rank (estimate; %ld tokens per sequence from %s, %ld per micro-batch):\n", e->seq_tokens,
            e->seq_from, e->max_tokens);
    for (int i = 0; i < e->n; i++) {
        if (e->item[i].bytes == 0 && e->item[i].what[0] == '(') {
            fprintf(f, "  %s\n", e->item[i].what);
            continue;
        }
        fprintf(f, "  %-62s %12s%s%s\n", e->item[i].what, format_bytes(e->item[i].bytes).s,
                e->item[i].key ? "  " : "", e->item[i].key ? e->item[i].key : "");
    }
    fprintf(f, "  %-62s %12s\n", "total", format_bytes(e->total).s);
    if (e->node_limit > 0)
        fprintf(f, "available: %s (%s)%s%s%s -> %s\n", format_bytes(e->node_limit).s, e->limit_from,
                e->ranks_per_node > 1 ? " / " : "", e->ranks_per_node > 1 ? "ranks on this node" : "",
                e->ranks_per_node > 1 ? "" : "", e->total <= e->rank_limit ? "fits" : "does NOT fit");
    else
        fprintf(f, "available: not checked (%s)\n", e->limit_from);
}

int memory_model_config(const JobConfig *job, ModelConfig *cfg) {
    if (!job->model_path) {
        if (!job->model_init)
            return ERR("config: set model.path (an HF directory or .h5 checkpoint) or model.init (an HF config.json "
                       "object for a new model)");
        return model_config_from_json(cfg, job->model_init, "model.init");
    }
    ModelPathKind kind;
    if (model_path_kind(job->model_path, &kind)) return err_prefix("model.path");
    if (kind == MODEL_PATH_HF) return hf_load_config(job->model_path, cfg);
    ModelFiles files = {0};
    int rc = checkpoint_load_files(job->model_path, &files);
    size_t len = 0;
    const char *text = rc ? NULL : model_files_get(&files, "config.json", &len);
    if (!rc && !text) rc = ERR("%s: no model config", job->model_path);
    if (!rc) {
        cJSON *j = json_parse_named(text, len, job->model_path);
        rc = j ? model_config_from_json(cfg, j, job->model_path) : -1;
        cJSON_Delete(j);
    }
    model_files_free(&files);
    return rc;
}

int memory_check(const JobConfig *job, const ModelConfig *cfg, const Dist *d, long seq_tokens) {
    MemEstimate e;
    int rc = memory_estimate(job, cfg, d->world, dist_local_size(d), seq_tokens, &e);
    if (rc == 0) rc = memory_fits(&e);
    if (!dist_all_ok(d, rc == 0)) return rc ? -1 : ERR("memory: the job does not fit on another rank's node");
    return 0;
}

int memory_check_job(const JobConfig *job, const Dist *d) {
    ModelConfig cfg;
    int rc = memory_model_config(job, &cfg);
    if (!dist_all_ok(d, rc == 0)) return rc ? -1 : ERR("reading the model's config failed on another rank");
    return memory_check(job, &cfg, d, 0);
}

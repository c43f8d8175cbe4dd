/*
 * prompts.c: prompt sources for grpo train and grpo eval (prompts.h).
 */
#include "prompts.h"

#include <string.h>

#include "common/common.h"
#include "common/json.h"

/* data.generator: {"task": kind, params...}; the job's seed unless params
 * set one. */
static int open_generator(PromptSource *p, const JobConfig *job) {
    const cJSON *spec = job->generator;
    if (!cJSON_IsObject(spec)) return ERR("data.generator: expected an object such as {\"task\": \"arith\"}");
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(spec, "task");
    if (!cJSON_IsString(task)) {
        size_t n = 0;
        while (taskgen_kind_names[n]) n++;
        char list[256];
        join_words(list, sizeof(list), taskgen_kind_names, n);
        return ERR("data.generator.task: missing; choices: %s", list);
    }
    cJSON *params = cJSON_Duplicate(spec, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(params, "task");
    if (!cJSON_GetObjectItemCaseSensitive(params, "seed"))
        cJSON_AddNumberToObject(params, "seed", (double)job->seed);
    int rc = taskgen_init(&p->gen, task->valuestring, params, "data.generator");
    cJSON_Delete(params);
    if (rc) return -1;
    p->have_gen = 1;
    return 0;
}

int prompts_open(PromptSource *p, const JobConfig *job, int eval) {
    memset(p, 0, sizeof(*p));
    const char *file = eval ? job->eval_file : job->train_file;
    p->split = eval ? TASK_EVAL : TASK_TRAIN;
    if (file) {
        if (dataset_load_prompts(&p->file, file, job->prompt_field, job->answer_field)) {
            dataset_free(&p->file); /* what was read before the bad line */
            return err_prefix(eval ? "data.eval_file" : "data.train_file");
        }
        p->have_file = 1;
        p->n = p->file.n;
        if (eval && job->eval_size > 0 && (size_t)job->eval_size < p->n) p->n = (size_t)job->eval_size;
        return 0;
    }
    if (!job->generator)
        return ERR(eval ? "no evaluation prompts: set data.eval_file (JSONL) or data.generator (a built-in task, "
                          "whose held-out split is used)"
                        : "no training prompts: set data.train_file (JSONL) or data.generator (a built-in task)");
    if (open_generator(p, job)) return -1;
    if (eval) {
        if (job->eval_size <= 0) return ERR("data.eval_size: set how many held-out %s tasks to evaluate on",
                                            taskgen_kind_names[p->gen.kind]);
        p->n = (size_t)job->eval_size;
    }
    return 0;
}

void prompts_close(PromptSource *p) {
    if (p->have_file) dataset_free(&p->file);
    memset(p, 0, sizeof(*p));
}

int prompts_get(const PromptSource *p, uint64_t i, cJSON **example) {
    *example = NULL;
    if (p->have_gen) return taskgen_example(&p->gen, p->split, i, example);
    ASSERT(i < p->file.n);
    const Example *ex = &p->file.ex[i];
    cJSON *j = cJSON_Duplicate(ex->json, 1);
    if (!cJSON_GetObjectItemCaseSensitive(j, "prompt")) cJSON_AddItemToObject(j, "prompt", cJSON_CreateString(ex->prompt));
    *example = j;
    return 0;
}

const char *prompts_name(const PromptSource *p) {
    if (p->have_file) return p->file.path;
    return p->have_gen ? taskgen_kind_names[p->gen.kind] : "(none)";
}

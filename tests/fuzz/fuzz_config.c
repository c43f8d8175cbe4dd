/*
 * fuzz_config.c: the config binder with the real job schema. The input is
 * a config file's text; after a 0x01 byte, each further 0x01-separated
 * piece is a --set override. The config is bound for sft, train and eval
 * (chosen by the first byte); its effective config is printed, and a
 * model.init in it goes through model_config_from_json and the memory
 * estimate (sizes from a config must never wrap). Rewards are not built:
 * that would load plugins and start programs the input names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "trainer/jobconfig.h"
#include "trainer/memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    const char *sets[8];
    size_t n_sets = 0;
    for (char *p = memchr(text, 1, size); p && n_sets < 8; p = strchr(p + 1, 1)) {
        *p = '\0';
        sets[n_sets++] = p + 1;
    }
    static const JobKind kinds[] = {JOB_SFT, JOB_TRAIN, JOB_EVAL};
    JobConfig job;
    memset(&job, 0, sizeof(job));
    job.kind = kinds[size ? data[0] % 3 : 0];
    if (config_load(&job, jobconfig_schema(), (unsigned)job.kind, NULL, text, sets, n_sets) == 0) {
        cJSON *eff = jobconfig_to_json(&job);
        char *printed = cJSON_PrintUnformatted(eff);
        free(printed);
        cJSON_Delete(eff);
        ModelConfig cfg;
        if (job.model_init && model_config_from_json(&cfg, job.model_init, "model.init") == 0) {
            MemEstimate e;
            if (memory_estimate(&job, &cfg, 1 + (int)(size % 4), 1, (long)(size % 1000), &e) == 0) memory_fits(&e);
        }
    }
    config_free(&job, jobconfig_schema());
    free(text);
    return 0;
}

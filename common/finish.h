/*
 * finish.h: why a sampled completion ended. Shared by rollout/ (which
 * produces it) and reward/ (length and truncation rewards read it), neither
 * of which may include the other.
 */
#ifndef GRPO_FINISH_H
#define GRPO_FINISH_H

#include <string.h>

typedef enum {
    FINISH_EOS = 0,    /* an end-of-sequence token was sampled */
    FINISH_STOP = 1,   /* a stop string was produced (kept in the text) */
    FINISH_LENGTH = 2, /* max_completion_length reached: truncated */
} FinishReason;

/* "eos", "stop", "length" (the JSON spelling); NULL for an invalid value. */
static inline const char *finish_reason_name(FinishReason r) {
    switch (r) {
    case FINISH_EOS: return "eos";
    case FINISH_STOP: return "stop";
    case FINISH_LENGTH: return "length";
    }
    return 0;
}

/* The reason spelled name ("eos", "stop", "length"): 0, or -1 if unknown. */
static inline int finish_reason_parse(const char *name, FinishReason *out) {
    static const FinishReason all[] = {FINISH_EOS, FINISH_STOP, FINISH_LENGTH};
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, finish_reason_name(all[i]))) {
            *out = all[i];
            return 0;
        }
    return -1;
}

#endif

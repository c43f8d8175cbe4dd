/*
 * advantage.c: group-relative advantages (advantage.h).
 */
#include "advantage.h"

#include <math.h>
#include <string.h>

int scale_rewards_parse(const char *name) {
    if (!strcmp(name, "group")) return SCALE_GROUP;
    if (!strcmp(name, "batch")) return SCALE_BATCH;
    if (!strcmp(name, "none")) return SCALE_NONE;
    return -1;
}

void advantage_batch_moments(const double *r, size_t n, double out[2]) {
    out[0] = out[1] = 0.0;
    for (size_t i = 0; i < n; i++) {
        out[0] += r[i];
        out[1] += r[i] * r[i];
    }
}

double advantage_std(double sum, double sumsq, double n) {
    if (n < 2) return 0.0;
    double var = (sumsq - sum * sum / n) / (n - 1);
    return var > 0 ? sqrt(var) : 0.0;
}

int advantage_group_flat(const double *r, size_t G) {
    for (size_t j = 1; j < G; j++)
        if (r[j] != r[0]) return 0;
    return 1;
}

size_t advantage_compute(const double *r, size_t n_groups, size_t G, ScaleRewards scale, double batch_std,
                         float *adv) {
    size_t flat = 0;
    for (size_t g = 0; g < n_groups; g++) {
        const double *x = r + g * G;
        float *a = adv + g * G;
        if (advantage_group_flat(x, G)) {
            flat++;
            for (size_t j = 0; j < G; j++) a[j] = 0.0f;
            continue;
        }
        /* two-pass mean and variance of the group, in a fixed order */
        double mean = 0.0;
        for (size_t j = 0; j < G; j++) mean += x[j];
        mean /= (double)G;
        double ss = 0.0;
        for (size_t j = 0; j < G; j++) ss += (x[j] - mean) * (x[j] - mean);
        double std = sqrt(ss / (double)(G - 1));
        double div = scale == SCALE_GROUP ? std + ADVANTAGE_STD_EPS
                     : scale == SCALE_BATCH ? batch_std + ADVANTAGE_STD_EPS
                                            : 1.0;
        for (size_t j = 0; j < G; j++) a[j] = (float)((x[j] - mean) / div);
    }
    return flat;
}

/*
 * fixture_h5.h: reading the PyTorch reference fixtures (HDF5 files written
 * by scripts/make_*_fixture*.py; docs/fixtures.md) in the C tests. Every
 * failure is fatal with the dataset's name: a broken fixture is a broken
 * test, not a result.
 * Not for: grpo's own checkpoints (model/io/checkpoint.h).
 */
#ifndef GRPO_FIXTURE_H5_H
#define GRPO_FIXTURE_H5_H

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "model/model.h"

static hid_t g_file; /* the open fixture */

/* The whole dataset `name` converted to memtype (elem bytes per value). */
static inline void *read_dataset(const char *name, hid_t memtype, size_t elem, size_t *n_out) {
    hid_t ds = H5Dopen2(g_file, name, H5P_DEFAULT);
    if (ds < 0) FATAL("fixture lacks dataset %s", name);
    hid_t sp = H5Dget_space(ds);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    void *buf = xmalloc((size_t)(n > 0 ? n : 1) * elem);
    if (H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) FATAL("cannot read %s", name);
    H5Sclose(sp);
    H5Dclose(ds);
    if (n_out) *n_out = (size_t)n;
    return buf;
}

static inline double *read_doubles(const char *name, size_t *n_out) {
    return read_dataset(name, H5T_NATIVE_DOUBLE, sizeof(double), n_out);
}

static inline int *read_ints(const char *name, size_t *n_out) { return read_dataset(name, H5T_NATIVE_INT, sizeof(int), n_out); }

static inline double read_scalar(const char *name) {
    double *v = read_doubles(name, NULL);
    double x = v[0];
    free(v);
    return x;
}

static inline char *read_config_attr(void) {
    hid_t at = H5Aopen(g_file, "config", H5P_DEFAULT);
    if (at < 0) FATAL("fixture lacks the config attribute");
    hid_t ty = H5Aget_type(at);
    char *text = NULL;
    if (H5Tis_variable_str(ty) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        char *p = NULL;
        H5Aread(at, mt, &p);
        text = xstrdup(p);
        H5free_memory(p);
        H5Tclose(mt);
    } else {
        size_t sz = H5Tget_size(ty);
        text = xcalloc(sz + 1, 1);
        H5Aread(at, ty, text);
    }
    H5Tclose(ty);
    H5Aclose(at);
    return text;
}

/* Loads every tensor under group/<name> into the block described by t. */
static inline void load_tensors(const char *group, TensorRef *t, size_t nt, float *dst_block, const float *params) {
    for (size_t i = 0; i < nt; i++) {
        char name[256];
        snprintf(name, sizeof(name), "%s/%s", group, t[i].name);
        size_t n;
        double *v = read_doubles(name, &n);
        if (n != t[i].numel) FATAL("%s has %zu values, expected %zu", name, n, t[i].numel);
        float *dst = dst_block + (t[i].data - params);
        for (size_t k = 0; k < n; k++) dst[k] = (float)v[k];
        free(v);
    }
}

#endif

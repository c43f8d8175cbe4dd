/*
 * atomic_file.h: writing a large file so that readers only ever see the old
 * file or the complete new one: data goes to "<path>.tmp.<pid>" in the same
 * directory, is fsynced, renamed over path, and the directory is fsynced.
 * Used by the safetensors writer, the HDF5 checkpoint and the HF exporter.
 * Not for: small whole-buffer writes (common.h's file_write_atomic does
 * those).
 *
 *     AtomicFile f;
 *     if (atomic_open(&f, path)) return -1;
 *     if (atomic_write(&f, buf, n)) { atomic_abort(&f); return -1; }
 *     return atomic_commit(&f);      // aborts by itself on failure
 */
#ifndef GRPO_ATOMIC_FILE_H
#define GRPO_ATOMIC_FILE_H

#include <stddef.h>

typedef struct {
    int fd;     /* open for writing, -1 after close */
    char *path; /* final name */
    char *tmp;  /* temporary name */
} AtomicFile;

/* Creates the temporary file (mode 0644). */
int atomic_open(AtomicFile *f, const char *path);
/* Writes all n bytes (retrying short writes and EINTR). */
int atomic_write(AtomicFile *f, const void *buf, size_t n);
/* fsync, close, rename to the final name, fsync the directory. On failure
 * the temporary file is removed and the final name is untouched. Frees f's
 * strings either way. */
int atomic_commit(AtomicFile *f);
/* Closes and removes the temporary file; frees f's strings. */
void atomic_abort(AtomicFile *f);

/* "<path>.tmp.<pid>" (caller frees). */
char *atomic_tmp_name(const char *path);
/* fsyncs the directory holding path (so a rename in it is durable). */
int fsync_parent_dir(const char *path);

#endif

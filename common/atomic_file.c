/*
 * atomic_file.c: temporary-name + fsync + rename file writing (see
 * atomic_file.h for the contracts).
 */
#define _GNU_SOURCE
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"

char *atomic_tmp_name(const char *path) {
    size_t n = strlen(path) + 32;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    return tmp;
}

int fsync_parent_dir(const char *path) {
    char *copy = xstrdup(path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        err_set("cannot open directory %s to sync it: %s", dir, strerror(errno));
        free(copy);
        return -1;
    }
    /* Some file systems refuse fsync on directories (EINVAL); that is not a
     * failure of the write itself. */
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL && e != EROFS) {
        err_set("cannot sync directory %s: %s", dir, strerror(e));
        free(copy);
        return -1;
    }
    free(copy);
    return 0;
}

int atomic_open(AtomicFile *f, const char *path) {
    f->path = xstrdup(path);
    f->tmp = atomic_tmp_name(path);
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        err_set("cannot create %s: %s", f->tmp, strerror(errno));
        free(f->path);
        free(f->tmp);
        f->path = f->tmp = NULL;
        return -1;
    }
    return 0;
}

int atomic_write(AtomicFile *f, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return ERR("writing %s: %s", f->tmp, strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

void atomic_abort(AtomicFile *f) {
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    if (f->tmp) unlink(f->tmp);
    free(f->tmp);
    free(f->path);
    f->tmp = f->path = NULL;
}

int atomic_commit(AtomicFile *f) {
    if (fsync(f->fd) != 0) {
        err_set("flushing %s: %s", f->tmp, strerror(errno));
        atomic_abort(f);
        return -1;
    }
    int rc = close(f->fd);
    f->fd = -1;
    if (rc != 0) {
        err_set("closing %s: %s", f->tmp, strerror(errno));
        atomic_abort(f);
        return -1;
    }
    if (rename(f->tmp, f->path) != 0) {
        err_set("renaming %s to %s: %s", f->tmp, f->path, strerror(errno));
        atomic_abort(f);
        return -1;
    }
    rc = fsync_parent_dir(f->path);
    free(f->tmp);
    free(f->path);
    f->tmp = f->path = NULL;
    return rc;
}

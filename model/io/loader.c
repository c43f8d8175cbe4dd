/*
 * loader.c: opening a model and its tokenizer, whichever format it is in
 * (loader.h).
 * Not for: the formats themselves (hf.c, checkpoint.c).
 */
#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "model/io/checkpoint.h"
#include "model/io/hf.h"

int model_path_kind(const char *path, ModelPathKind *kind) {
    struct stat sb;
    if (stat(path, &sb) != 0)
        return ERR("%s: %s (expected an HF model directory or a grpo .h5 checkpoint)", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        char *cfg = path_join(path, "config.json");
        int ok = is_regular_file(cfg);
        free(cfg);
        if (!ok)
            return ERR("%s: a directory without config.json; an HF model directory holds config.json and "
                       "model.safetensors (or model.safetensors.index.json and its shards)",
                       path);
        *kind = MODEL_PATH_HF;
        return 0;
    }
    if (!S_ISREG(sb.st_mode)) return ERR("%s: not a file or directory", path);
    if (checkpoint_probe(path)) {
        *kind = MODEL_PATH_CHECKPOINT;
        return 0;
    }
    unsigned char head[8] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, head, 8) : -1;
    if (fd >= 0) close(fd);
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (got == 8 && !memcmp(head, sig, 8))
        return ERR("%s: an HDF5 file, but not a grpo checkpoint (it has no grpo checkpoint header)", path);
    if (str_ends_with(path, ".safetensors"))
        return ERR("%s: a lone safetensors file; pass the directory that holds it with its config.json", path);
    if (str_ends_with(path, ".json"))
        return ERR("%s: a JSON file; pass the model directory that holds config.json and the weights", path);
    return ERR("%s: neither an HF model directory nor a grpo HDF5 checkpoint", path);
}

int model_load(const char *path, Model *m, ModelFiles *files) {
    memset(m, 0, sizeof(*m));
    ModelPathKind kind;
    if (model_path_kind(path, &kind)) return -1;
    if (kind == MODEL_PATH_HF) return hf_load(path, m, files);
    return checkpoint_load(path, m, NULL, NULL, NULL, files);
}

int model_load_files(const char *path, ModelFiles *files) {
    ModelPathKind kind;
    if (model_path_kind(path, &kind)) return -1;
    if (kind == MODEL_PATH_HF) return model_files_read_dir(path, files);
    return checkpoint_load_files(path, files);
}

int model_tokenizer_open(const ModelFiles *files, const char *what, int vocab_size, Tokenizer **tok) {
    *tok = NULL;
    size_t len = 0;
    const char *text = model_files_get(files, "tokenizer.json", &len);
    if (!text)
        return ERR("%s has no tokenizer.json; copy it from the model's Hub repository, or name a tokenizer.json "
                   "file to use instead (model.tokenizer in a job config)",
                   what);
    int rc = tokenizer_load_from_string(tok, text, len, what);
    if (rc) return -1;
    if (vocab_size > 0 && tokenizer_vocab_size(*tok) > vocab_size) {
        rc = ERR("%s: the tokenizer has %d ids but the model's vocab_size is %d", what, tokenizer_vocab_size(*tok),
                 vocab_size);
        tokenizer_free(*tok);
        *tok = NULL;
    }
    return rc;
}

int model_open(const char *path, Model *m, ModelFiles *files, Tokenizer **tok) {
    *tok = NULL;
    ModelFiles own = {0}, *f = files ? files : &own;
    int rc = model_load(path, m, f);
    if (rc == 0) rc = model_tokenizer_open(f, path, m->cfg.vocab_size, tok);
    if (rc && m->params) model_free(m);
    model_files_free(&own);
    if (rc && files) model_files_free(files);
    return rc;
}

int model_open_tokenizer(const char *path, Tokenizer **tok) {
    *tok = NULL;
    if (is_regular_file(path) && str_ends_with(path, ".json")) return tokenizer_load(tok, path);
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        /* Any directory with a tokenizer.json will do (a tokenizer's own
         * repository has no config.json). */
        char *tj = path_join(path, "tokenizer.json");
        int rc = is_regular_file(tj) ? tokenizer_load(tok, tj)
                                     : ERR("%s: no tokenizer.json in this directory; copy it from the model's Hub "
                                           "repository",
                                           path);
        free(tj);
        return rc;
    }
    ModelPathKind kind;
    if (model_path_kind(path, &kind)) {
        /* Say what else would have been accepted here. */
        char why[1024];
        snprintf(why, sizeof(why), "%s", err_msg());
        return ERR("%s; a tokenizer can also come from a tokenizer.json file", why);
    }
    ModelFiles files = {0};
    int rc = model_load_files(path, &files);
    if (rc == 0) rc = model_tokenizer_open(&files, path, 0, tok);
    model_files_free(&files);
    return rc;
}

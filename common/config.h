/*
 * config.h: binds a JSON job config to a typed struct through a schema
 * table: defaults, `--set a.b=value` overrides, and errors for unknown keys,
 * wrong types, out-of-range values, duplicate keys and keys the running
 * command does not use, each naming the key path and what is accepted
 * (with a "did you mean" for typos); and the effective config written back
 * as JSON.
 * Not for: the meaning of any key (trainer/jobconfig.c owns the schema).
 *
 * One schema serves several commands (grpo sft, grpo train, grpo eval):
 * each field says which of them read it (a bit mask over the schema's
 * `users`), and a command refuses a key or a whole section it does not
 * read rather than ignoring it silently.
 *
 *     typedef struct { double lr; char *sched; } Job;
 *     static const CfgField fields[] = {
 *         {"optim.learning_rate", CF_DOUBLE, CFG_OFFSET(Job, lr, double), "1e-6", NULL, 0, 0, 1, NULL,
 *          "peak learning rate"},
 *         {"optim.lr_scheduler_type", CF_ENUM, CFG_OFFSET(Job, sched, char *), "\"constant\"", NULL, 0, 0, 0,
 *          "constant|linear|cosine", "learning-rate schedule"},
 *     };
 *     static const char *const users[] = {"grpo train"};
 *     const CfgSchema schema = {fields, 2, users, 1};
 *     Job job;
 *     if (config_load(&job, &schema, 1, "job.json", NULL, sets, n_sets)) die(err_msg());
 */
#ifndef GRPO_CONFIG_H
#define GRPO_CONFIG_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    CF_INT,    /* long */
    CF_DOUBLE, /* double; a "null" default makes it nullable (NAN when null) */
    CF_BOOL,   /* int (0/1) */
    CF_STRING, /* char * (owned); null only where the default is null */
    CF_ENUM,   /* char * (owned), one of `choices` ("a|b|c") */
    CF_JSON,   /* cJSON * (owned deep copy; not walked: its owner validates it) */
} CfgType;

/* The offset of member m of struct T, which must have C type `ctype`: a
 * schema entry whose type does not match its member does not compile. */
#define CFG_OFFSET(T, m, ctype)                                                                               \
    (offsetof(T, m) + 0 * sizeof(struct {                                                                     \
         _Static_assert(__builtin_types_compatible_p(__typeof__(((T *)0)->m), ctype), "config member " #m     \
                                                                                      " is not " #ctype);     \
         int unused_;                                                                                         \
     }))

typedef struct {
    const char *path;    /* dotted key path, e.g. "rollout.temperature" */
    CfgType type;
    size_t offset;       /* of the member in the target struct (CFG_OFFSET) */
    const char *def;     /* default as JSON text; NULL means required */
    const char *def_alt; /* another default for the users in alt_users (NULL: none) */
    unsigned alt_users;
    unsigned users;      /* bit k set: users[k] reads this key; 0 = every user */
    double min, max;     /* inclusive range for CF_INT / CF_DOUBLE */
    const char *choices; /* CF_ENUM: "a|b|c" */
    const char *help;    /* one line for docs and errors */
} CfgField;

typedef struct {
    const CfgField *fields;
    size_t n;
    const char *const *users; /* users[k]: who bit k stands for, e.g. "grpo sft" */
    size_t n_users;
    /* also_accepts[k] (nullable): users whose keys user k accepts in a file
     * without binding them, e.g. `grpo eval` reading a `grpo train` config */
    const unsigned *also_accepts;
} CfgSchema;

/* Fills `out` for user bit `user` (one bit) from defaults, then the JSON
 * file at `path` (NULL: defaults only, or `text` when given), then each
 * "a.b=value" in sets (value parsed as JSON when it parses, else taken as
 * a string). Fails, naming the file (or the --set) and the key path, on:
 * a key not in the schema, a key or section this user does not read, a
 * dotted key inside the file ({"train.steps": 1}), a key given twice, a
 * wrong type, a value out of range (the bound printed as it is), null for
 * a key that cannot be null, and a missing required key. `out` must be
 * zero-filled before the call and released with config_free afterwards,
 * also after a failure. */
int config_load(void *out, const CfgSchema *schema, unsigned user, const char *path, const char *text,
                const char *const *sets, size_t n_sets);

/* Removes from root every key and section `user` neither reads nor
 * accepts, keeping the rest (for shared defaults that several users take
 * their part of). A key no user of the schema knows is an error naming
 * origin and the key path, with the valid keys there. */
int config_prune(cJSON *root, const CfgSchema *schema, unsigned user, const char *origin);

/* The effective config of `user` (every key it reads, defaults included)
 * as JSON (caller deletes). */
cJSON *config_to_json(const void *in, const CfgSchema *schema, unsigned user);

/* Frees owned strings and JSON members. */
void config_free(void *out, const CfgSchema *schema);

/* Writes a Markdown table of the schema (path, type, default, range or
 * choices, users, help) to f: the config reference in docs/ is generated by
 * this. */
void config_write_reference(FILE *f, const CfgSchema *schema);

/* The shortest decimal text of v that reads back as exactly v (for ranges
 * in messages: 0.999999999 stays 0.999999999, never "1"); integers below
 * 1e16 in full. */
typedef struct {
    char s[32];
} CfgNumber;
CfgNumber config_format_number(double v);

#endif

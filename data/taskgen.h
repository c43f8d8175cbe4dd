/*
 * taskgen.h: the built-in task generators: multi-step integer arithmetic,
 * Countdown (TinyZero's number game) and a pretraining corpus of worked
 * arithmetic in R1's <think>/<answer> format, each with a train and an
 * eval split.
 * Not for: reading datasets from files (dataset.h), prompt templates
 * (template.h; prompts here are the raw question), scoring (reward/).
 *
 *     TaskGen g;
 *     if (taskgen_init(&g, "countdown", params, "data.generator")) return -1;
 *     cJSON *ex;
 *     if (taskgen_example(&g, TASK_EVAL, 17, &ex)) return -1;
 *     ... cJSON_GetObjectItem(ex, "prompt") ...
 *     cJSON_Delete(ex);
 *
 * Determinism. Example i of a split is a pure function of (seed, kind,
 * parameters, split, i): it is drawn from its own counter-based stream
 * rng_init(seed, RNG_STEP_TASK_<KIND>, i, split) (common/rng.h), so
 * examples can be made in any order, on any rank.
 *
 * The held-out rule. A problem belongs to the eval split when a hash of its
 * canonical text (the expression for arithmetic, the sorted numbers and the
 * target for Countdown), mapped to [0, 1), is below eval_fraction; to the
 * train split otherwise. The seed and the index play no part, so train and
 * eval never share a problem, whatever seeds and counts they were made with.
 * Raising eval_fraction only moves problems from train to eval. The corpus
 * uses the arithmetic problems and their split, so a corpus made from the
 * train split never contains an arithmetic eval problem (with the same
 * eval_fraction).
 *
 * Examples (JSON objects):
 *   arith      {"prompt": "What is (3 + 4) * 2 - 5?", "answer": "9",
 *               "solution": "3 + 4 = 7, 7 * 2 = 14, 14 - 5 = 9"}
 *   countdown  {"prompt": "...", "nums": [44, 19, 35], "target": 98,
 *               "answer": "44 + 19 + 35"}
 *   corpus     {"prompt": "What is ...?", "completion": " <think> ... </think>
 *               <answer> 9 </answer>", "answer": "9", "style": "think"}
 *              with style "think", "slip" (a wrong step carried through:
 *              the completion's answer is wrong) or "direct" (no <think>).
 * Arithmetic is evaluated left to right by default; the question then puts
 * parentheses around the part done so far wherever ordinary precedence
 * would read it differently ("(3 + 4) * 2"), so it is never ambiguous.
 * With "order": "precedence", * binds tighter and the question has no
 * parentheses. docs/data.md lists every parameter.
 */
#ifndef GRPO_TASKGEN_H
#define GRPO_TASKGEN_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { TASK_ARITH = 0, TASK_COUNTDOWN = 1, TASK_CORPUS = 2 } TaskKind;
typedef enum { TASK_TRAIN = 0, TASK_EVAL = 1 } TaskSplit;

enum { TASKGEN_MAX_TERMS = 12, TASKGEN_MAX_NUMS = 5 };

typedef struct {
    int min_terms, max_terms;      /* operands per problem, 2..TASKGEN_MAX_TERMS */
    long min_operand, max_operand; /* operand range, 0 <= min <= max <= 1e6 */
    long min_result, max_result;   /* bounds on every intermediate and the final result, |.| <= 1e9 */
    char ops[4];                   /* the operators in use: a non-empty subset of "+-*" */
    int precedence;                /* 0: left to right (default); 1: * before + and - */
    int compact;                   /* 1: no spaces in questions, steps and tags ("5+6=11,11*2=22") */
    int pad_steps;                 /* 1: step results zero-padded to the widest result's width in solutions */
} ArithParams;

typedef struct {
    int min_nums, max_nums;        /* numbers per problem, 2..TASKGEN_MAX_NUMS */
    long min_number, max_number;   /* 1 <= min <= max <= 1000 */
    long min_target, max_target;   /* 1 <= min <= max <= 1e6, max - min < 1e5 */
} CountdownParams;

typedef struct {
    double think_fraction; /* share of lines with worked solutions; the rest answer directly */
    double slip_rate;      /* share of worked solutions with a slip carried to a wrong answer */
} CorpusParams;

/* A configured generator: plain data, owns no memory (no _free needed). */
typedef struct {
    TaskKind kind;
    uint64_t seed;
    double eval_fraction; /* share of the problem space held out for eval, in (0, 1) */
    ArithParams arith;    /* arith and corpus */
    CountdownParams countdown;
    CorpusParams corpus;
} TaskGen;

/* The generator names ("arith", "countdown", "corpus"), NULL-terminated. */
extern const char *const taskgen_kind_names[];

/* Configures g for the generator named kind from params (a JSON object of
 * the kind's parameters, see docs/data.md; NULL means all defaults). path
 * names params in messages (e.g. "data.generator"). Unknown keys, values of
 * the wrong type or out of range and inconsistent ranges (min above max)
 * fail with the key path and the valid choices. Returns 0 or -1 with ERR. */
int taskgen_init(TaskGen *g, const char *kind, const cJSON *params, const char *path);

/* Example `index` (< 2^32) of split into *out (a new object; the caller
 * frees it with cJSON_Delete). Fails (-1 with ERR, *out NULL) only when the
 * parameters admit so few problems that none of the split was found in
 * TASKGEN_MAX_DRAWS draws; the message says which parameters to widen. A
 * small problem space may repeat problems within a split. */
int taskgen_example(const TaskGen *g, TaskSplit split, uint64_t index, cJSON **out);
enum { TASKGEN_MAX_DRAWS = 100000 };

/* The split a problem with this canonical text belongs to (the held-out
 * rule above). Exposed for tests and tools that check data against it. */
TaskSplit taskgen_split_of(const TaskGen *g, const char *canonical);

/* The canonical text of an example made by g (the expression of an
 * arith or corpus example, "countdown:<sorted nums>=<target>" for
 * Countdown), written to buf (cap bytes). Returns -1 with ERR when the
 * example lacks the fields it needs. */
int taskgen_canonical(const TaskGen *g, const cJSON *example, char *buf, size_t cap);

/* The effective parameters of g (every key, defaults included) as a new
 * JSON object, in the form taskgen_init reads; caller frees. */
cJSON *taskgen_params_json(const TaskGen *g);

#endif

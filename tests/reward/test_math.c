/*
 * test_math.c: the math grader's table of hand-written cases: (ground truth,
 * completion, expected verdict), grouped by rule, positive and negative.
 * Each completion goes through the default extraction and the equivalence
 * rules, exactly as the math_accuracy reward does; the older extract array
 * and the anchored setting are checked too. Prints the pass count per
 * group; fails if any case fails. Then random answers (no crash, every
 * answer equals itself) and adversarial 1 MB lines (bounded, near-linear
 * time in every mode). test_math_verify.c holds the cases labelled with
 * Math-Verify's verdicts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "common/rng.h"
#include "reward/math_extract.h"
#include "reward/math_grade.h"
#include "test.h"

typedef struct {
    const char *truth;
    const char *completion;
    int expect; /* 1 correct, 0 wrong or no answer */
} Case;

typedef struct {
    const char *rule;
    const Case *cases;
    size_t n;
} Group;

#define B(x) "The final answer is $\\boxed{" x "}$."

static const Case extraction[] = {
    {"42", "Thus \\boxed{42}", 1},
    {"42", "\\boxed{41} wait, actually \\boxed{42}", 0}, /* close boxes join: {41, 42} (Math-Verify) */
    {"42", "\\boxed{41}. Wait, that is wrong; let me redo the whole computation from the start again. \\boxed{42}", 1},
    {"42", "\\boxed{42} hmm no, \\boxed{43}", 0},
    {"42", "So the result is \\fbox{42}.", 1},
    {"42", "<think>6*7</think><answer>42</answer>", 1},
    {"42", "<think>...</think><answer> The answer is \\boxed{42} </answer>", 1},
    {"42", "<answer>41</answer> then <answer>42</answer>", 1},
    {"42", "Therefore, the answer is 42.", 1},
    {"42", "The answer is: 42", 1},
    {"42", "The final answer is $42$. I hope it is correct.", 1},
    {"42", "Answer: 42", 1},
    {"42", "Natalia sold 48/2 = 24 clips in May.\n#### 42", 1},
    {"72", "Natalia sold 48/2 = 24 clips in May. 48+24 = 72\n#### 72", 1},
    {"42", "I think it is 42 but I am not sure", 1},          /* the last number (0 when anchors are required) */
    {"42", "\\boxed{42", 0},                                   /* unclosed box */
    {"42", "\\boxed{}", 0},                                    /* empty box */
    {"42", "<answer></answer>", 0},
    {"42", "", 0},
    {"3.5", "The answer is 3.5. Done.", 1},
    {"\\frac{1}{2}", "The answer is \\boxed{\\frac{1}{2}}", 1},
    {"\\{1,2\\}", "\\boxed{\\{1, 2\\}}", 1},                  /* escaped braces inside the box */
    {"Natalia sold 48/2 = 24 clips.\n#### 72", B("72"), 1},  /* GSM8K solution as ground truth */
    {"The sum is $\\boxed{10}$.", B("10"), 1},                /* MATH solution as ground truth */
    {"The sum is $\\boxed{10}$.", B("11"), 0},
    {"7", "\\boxed 7", 1},
};

static const Case integers[] = {
    {"1000", B("1,000"), 1},
    {"1000", B("1{,}000"), 1},
    {"1000", B("1\\,000"), 1},
    {"1234567", B("1,234,567"), 1},
    {"1,234,567", B("1234567"), 1},
    {"1000", B("1 000"), 1},
    {"1000", B("100"), 0},
    {"12", B("012"), 1},
    {"12", B("12.0"), 1},
    {"12", B("12.00"), 1},
    {"12", B("13"), 0},
    {"0", B("0"), 1},
    {"0", B("-0"), 1},
    {"1000", B("1,000.5"), 0},
    {"1000000", B("1000001"), 0},                  /* integers are exact, whatever the tolerance */
    {"123456789012", B("123456789013"), 0},
    {"1000000", B("10^6"), 1},
};

static const Case decimals[] = {
    {"0.5", B("0.50"), 1},
    {"0.5", B(".5"), 1},
    {"0.5", B("\\frac{1}{2}"), 1},
    {"3.14", B("3.14"), 1},
    {"3.14", B("3.141"), 0},
    {"3.14", B("\\pi"), 0},
    {"0.333", B("\\frac{1}{3}"), 0},
    {"2.5", B("2\\frac{1}{2}"), 1},
    {"1234.5", B("1,234.5"), 1},
    {"0.1", B("0.10000001"), 1},                 /* within the 1e-6 relative tolerance */
    {"0.1", B("0.1001"), 0},
};

static const Case fractions[] = {
    {"\\frac{1}{2}", B("1/2"), 1},
    {"\\frac{1}{2}", B("\\dfrac{1}{2}"), 1},
    {"\\frac{1}{2}", B("\\tfrac{1}{2}"), 1},
    {"\\frac{1}{2}", B("\\frac12"), 1},
    {"\\frac{1}{2}", B("\\frac{2}{4}"), 1},
    {"\\frac{1}{2}", B("\\frac{1}{3}"), 0},
    {"\\frac{3}{4}", B("0.75"), 1},
    {"\\frac{7}{3}", B("2\\frac{1}{3}"), 1},     /* mixed number */
    {"\\frac{7}{3}", B("2 1/3"), 1},
    {"-\\frac{7}{3}", B("-2\\frac{1}{3}"), 1},
    {"\\frac{7}{3}", B("2\\frac{1}{4}"), 0},
    {"\\frac{\\sqrt{3}}{2}", B("\\frac{\\sqrt3}{2}"), 1},
    {"\\frac{\\sqrt{3}}{2}", B("\\sqrt{3}/2"), 1},
    {"\\frac{1}{\\sqrt{2}}", B("\\frac{\\sqrt{2}}{2}"), 1},
    {"\\frac{a}{b}", B("a/b"), 1},
    {"\\frac{a}{b}", B("b/a"), 0},
    {"-\\frac{1}{2}", B("\\frac{-1}{2}"), 1},
    {"-\\frac{1}{2}", B("\\frac{1}{-2}"), 1},
    {"-\\frac{1}{2}", B("\\frac{1}{2}"), 0},
};

static const Case percents[] = {
    {"50\\%", B("50\\%"), 1},
    {"50\\%", B("50%"), 1},
    {"50\\%", B("50"), 1},
    {"50\\%", B("0.5"), 1},
    {"50", B("50\\%"), 1},
    {"0.5", B("50\\%"), 1},
    {"50\\%", B("5"), 0},
    {"12.5\\%", B("\\frac{1}{8}"), 1},
    {"25\\%", B("30\\%"), 0},
};

static const Case scientific[] = {
    {"1500", B("1.5 \\times 10^{3}"), 1},
    {"1500", B("1.5\\cdot10^3"), 1},
    {"1500", B("1.5e3"), 1},
    {"1500", B("1.5E+3"), 1},
    {"0.00015", B("1.5 \\times 10^{-4}"), 1},
    {"1.5 \\times 10^{-4}", B("1.5e-4"), 1},
    {"1500", B("1.5 \\times 10^{4}"), 0},
    {"6.02 \\times 10^{23}", B("6.02e23"), 1},
};

static const Case signs[] = {
    {"-5", B("-5"), 1},
    {"-5", "The answer is \xe2\x88\x92" "5.", 1},      /* U+2212 minus */
    {"-5", B("- 5"), 1},
    {"-5", B("(-5)"), 1},
    {"-5", B("5"), 0},
    {"5", B("-5"), 0},
    {"-3", B("\xe2\x80\x93" "3"), 1},                  /* en dash as minus */
    {"-0.25", B("-\\frac{1}{4}"), 1},
};

static const Case units[] = {
    {"5", B("5 \\text{ cm}"), 1},
    {"5", B("5\\text{cm}"), 1},
    {"5", B("5 cm"), 1},
    {"5", B("5cm"), 1},
    {"12", B("12 \\mbox{ apples}"), 1},
    {"12", "The answer is 12 apples.", 1},
    {"18", B("\\$18"), 1},
    {"18", B("\\$18.00"), 1},
    {"18", "#### $18", 1},
    {"30", B("30^\\circ"), 1},
    {"30", B("30^{\\circ}"), 1},
    {"30", B("30\xc2\xb0"), 1},
    {"25", B("25 \\text{ square units}"), 1},
    {"25", B("25 square feet"), 1},
    {"20", B("20 \\text{ m/s}"), 1},
    {"20", B("20 km/h"), 1},
    {"7", B("7 \\text{ cm}^2"), 1},
    {"7", B("7 cm^2"), 1},
    {"5", B("6 \\text{ cm}"), 0},
    {"\\text{Monday}", B("Monday"), 1},
    {"\\text{Monday}", B("\\text{Tuesday}"), 0},
    {"\\text{(B)}", B("B"), 1},
};

static const Case latex_spacing[] = {
    {"(1,2)", B("\\left( 1, 2 \\right)"), 1},
    {"2\\sqrt{2}", B("2 \\sqrt {2}"), 1},
    {"2\\sqrt{2}", B("2\\,\\sqrt{2}"), 1},
    {"x^2+1", B("x^{2} + 1"), 1},
    {"x^2+1", B("\\displaystyle x^2+1"), 1},
    {"\\frac{1}{2}", B("\\left.\\frac{1}{2}\\right."), 1}, /* "\left." is an empty delimiter */
    {"x", B("\\left. x \\right|_{0}"), 0},
    {"|x|", B("\\left| x \\right|"), 1},
    {"|x|", B("\\lvert x\\rvert"), 1},
    {"10", "The answer is $\\mathbf{10}$.", 1},
    {"10", "The answer is **10**.", 1},
    {"10", B("\\textbf{10}"), 1},
    {"10", "\\[ \\boxed{10} \\]", 1},
};

static const Case tuples[] = {
    {"(1,2)", B("(1, 2)"), 1},
    {"(1,2)", B("(2, 1)"), 0},
    {"(1,2)", B("(1, 2, 3)"), 0},
    {"(1,2)", B("[1, 2]"), 0},
    {"(1,2)", B("1, 2"), 1},                          /* bare list against a tuple: in order */
    {"(1,2)", B("2, 1"), 0},
    {"(\\frac{1}{2}, -3)", B("(0.5, -3)"), 1},
    {"(3, \\sqrt{2})", B("\\left(3,\\sqrt2\\right)"), 1},
    {"(1,(2,3))", B("(1, (2, 3))"), 1},
    {"(1,(2,3))", B("(1, (3, 2))"), 0},
    {"(x, y) = (1, 2)", B("(1,2)"), 1},                 /* an assignment's right side */
};

static const Case sets[] = {
    {"\\{1,2,3\\}", B("\\{3, 2, 1\\}"), 1},
    {"\\{1,2,3\\}", B("\\{1, 2\\}"), 0},
    {"\\{1,2,3\\}", B("\\{1, 2, 4\\}"), 0},
    {"\\{1,2\\}", B("\\lbrace 2, 1\\rbrace"), 1},
    {"\\{1,2\\}", B("(1, 2)"), 1},                     /* a gold set takes a tuple in any order (Math-Verify) */
    {"\\{-1, \\frac{1}{2}\\}", B("\\{0.5, -1\\}"), 1},
    {"\\{1, 2\\}", B("2, 1"), 1},                     /* bare list against a set: any order */
    {"\\{5\\}", B("5"), 1},
};

static const Case intervals[] = {
    {"[1,2)", B("[1, 2)"), 1},
    {"[1,2)", B("(1, 2]"), 0},
    {"[1,2)", B("[1, 2]"), 0},
    {"(-\\infty, 3]", B("(-\\infty, 3]"), 1},
    {"(-\\infty, 3]", B("(-\\infty,3)"), 0},
    {"(-\\infty, 3]", "The answer is (-\xe2\x88\x9e, 3].", 1},
    {"(-\\infty, -1) \\cup (1, \\infty)", B("(1, \\infty) \\cup (-\\infty, -1)"), 1},
    {"(-\\infty, -1) \\cup (1, \\infty)", B("(-\\infty, -1) \\cup [1, \\infty)"), 0},
    {"[0, \\frac{1}{2}]", B("[0, 0.5]"), 1},
    {"(0, \\infty)", B("x \\in (0, \\infty)"), 1},
    {"(0, \\infty)", B("x > 0"), 0},
};

static const Case multiple[] = {
    {"2, 3", B("3, 2"), 1},
    {"2, 3", B("2, 3, 4"), 0},
    {"2, 3", B("x = 2 \\text{ or } x = 3"), 1},
    {"2, 3", B("x=3 or x=2"), 1},
    {"2, 3", B("x = 2, x = 3"), 1},
    {"2, 3", B("2"), 0},
    {"1 \\pm \\sqrt{2}", B("1+\\sqrt{2}, 1-\\sqrt{2}"), 1},
    {"1+\\sqrt{2}, 1-\\sqrt{2}", B("1 \\pm \\sqrt{2}"), 1},
    {"1 \\pm \\sqrt{2}", B("1+\\sqrt{2}"), 0},
    {"-2, 2", B("\\pm 2"), 1},
    {"2; 3", B("3; 2"), 1},
    {"2 \\text{ and } 3", B("3, 2"), 1},
};

static const Case equations[] = {
    {"5", B("x = 5"), 1},
    {"x=5", B("5"), 1},
    {"x=5", B("x=5"), 1},
    {"x = 5", B("y = 6"), 0},
    {"5", B("x = 6"), 0},
    {"y = 2x + 3", B("y=3+2x"), 1},
    {"y = 2x + 3", B("2x+3"), 1},
    {"y = 2x + 3", B("y = 2x - 3"), 0},
    {"x^2 + y^2 = 1", B("y^2 + x^2 = 1"), 1},
    {"x^2 + y^2 = 1", B("2x^2 + 2y^2 = 2"), 1},     /* same equation scaled */
    {"x^2 + y^2 = 1", B("x^2 + y^2 = 2"), 0},
    {"2x - 4 = 0", B("x - 2 = 0"), 1},
    {"a_1 = 3", B("3"), 1},
    {"f(x) = x^2", B("x^2"), 1},
    {"\\theta = \\frac{\\pi}{4}", B("\\frac{\\pi}{4}"), 1},
    {"x > 5", B("5 < x"), 1},
    {"x \\ge 5", B("x \\geq 5"), 1},
    {"x \\le 5", B("x < 5"), 0},
};

static const Case choices[] = {
    {"C", B("C"), 1},
    {"C", B("(C)"), 1},
    {"C", B("\\text{(C)}"), 1},
    {"C", "The answer is (C).", 1},
    {"C", "The answer is C) 42", 1},
    {"C", B("c"), 1},
    {"C", B("D"), 0},
    {"(B)", B("B"), 1},
    {"B", "<answer>Option B</answer>", 1},
    {"B", "<answer>(A)</answer>", 0},
    {"B", B("Because"), 0},
    {"A", B("A"), 1},
    {"A", B("A or B"), 0},                         /* hedging over options */
    {"A", B("(A), (C)"), 0},
};

static const Case symbolic[] = {
    {"2\\sqrt{3}", B("\\sqrt{12}"), 1},
    {"2\\sqrt{3}", B("3\\sqrt{2}"), 0},
    {"\\frac{x+1}{2}", B("\\frac{1}{2}x + \\frac{1}{2}"), 1},
    {"\\frac{x+1}{2}", B("(x+1)/2"), 1},
    {"\\frac{x+1}{2}", B("x/2 + 1"), 0},
    {"x^2 - 1", B("(x-1)(x+1)"), 1},
    {"x^2 - 1", B("(x-1)^2"), 0},
    {"(x+1)^2", B("x^2+2x+1"), 1},
    {"2x", B("2 \\cdot x"), 1},
    {"2x", B("x \\times 2"), 1},
    {"2x", B("x+x"), 1},
    {"2x", B("x^2"), 0},
    {"\\pi", B("\\pi"), 1},
    {"2\\pi", B("2 \\pi"), 1},
    {"2\\pi", B("6.283185307"), 1},
    {"2\\pi", B("6.28"), 0},
    {"\\frac{\\pi}{2}", B("\\pi/2"), 1},
    {"e^2", B("e \\cdot e"), 1},
    {"e^{x}", B("exp(x)"), 1},
    {"\\sin^2 x + \\cos^2 x", B("1"), 1},
    {"\\sin(2x)", B("2\\sin x \\cos x"), 1},
    {"\\sin(2x)", B("2\\sin x"), 0},
    {"\\tan x", B("\\frac{\\sin x}{\\cos x}"), 1},
    {"\\ln(xy)", B("\\ln x + \\ln y"), 1},
    {"\\ln 8", B("3\\ln 2"), 1},
    {"\\log_2 8", B("3"), 1},
    {"\\log 100", B("2"), 1},
    {"\\sqrt[3]{8}", B("2"), 1},
    {"\\sqrt[3]{-8}", B("-2"), 1},
    {"\\binom{5}{2}", B("10"), 1},
    {"5!", B("120"), 1},
    {"\\arcsin 1", B("\\frac{\\pi}{2}"), 1},
    {"\\sin^{-1}(1)", B("\\pi/2"), 1},
    {"a^2 b", B("b a^2"), 1},
    {"ab + c", B("c + ba"), 1},
    {"x_1 + x_2", B("x_{2} + x_{1}"), 1},
    {"x_1 + x_2", B("x_1 + x_3"), 0},
    {"\\alpha + \\beta", B("\\beta+\\alpha"), 1},
    {"2^{10}", B("1024"), 1},
    {"2^3^2", B("512"), 1},
    {"-x^2", B("-(x^2)"), 1},
    {"-x^2", B("(-x)^2"), 0},
    {"\\frac{1}{x}", B("x^{-1}"), 1},
    {"\\sqrt{x^2}", B("|x|"), 1},
    {"3+4i", B("4i+3"), 1},
    {"3+4i", B("3-4i"), 0},
    {"\\frac{\\sqrt{2}}{2}", B("\\cos \\frac{\\pi}{4}"), 1},
    {"(x+y)^2", B("x^2+y^2"), 0},
};

static const Case robustness[] = {
    {"5", B("\\frac{"), 0},
    {"5", B("((((((5"), 0},
    {"5", B(")5("), 0},
    {"5", B("\\undefinedmacro{5}"), 0},
    {"5", B("5/0"), 0},
    {"x", B("\\frac{x}{0}"), 0},
    {"5", B("5 + "), 0},
    {"5", B("^^^"), 0},
    {"\\frac{1}{2}", B("\\frac{1}{2"), 0},
    {"5", "\\boxed{\\boxed{\\boxed{5}}}", 1},
    {"5", B("(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((5))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))"), 0},
    {"1", B("1e999999"), 0},
    {"10", B("\\ln(-1)"), 0},
    {"2", B("\\sqrt{-4}"), 0},
    {"1000000", B("1000000!"), 0},
    {"\\text{no solution}", B("No solution"), 1},
    {"\\text{no solution}", B("no"), 0},
    {"\\infty", B("\\infty"), 1},
    {"\\infty", B("-\\infty"), 0},
    {"", B("5"), 0},
    {"5", "\xff\xfe\\boxed{5}", 1},                       /* invalid UTF-8 around the answer */
};

static const Group groups[] = {
#define G(name, arr) {name, arr, sizeof(arr) / sizeof(arr[0])}
    G("extraction", extraction),
    G("integers and thousands separators", integers),
    G("decimals", decimals),
    G("fractions and mixed numbers", fractions),
    G("percentages", percents),
    G("scientific notation", scientific),
    G("negative signs", signs),
    G("units and \\text{}", units),
    G("\\left/\\right and spacing", latex_spacing),
    G("tuples", tuples),
    G("sets", sets),
    G("intervals", intervals),
    G("multiple answers", multiple),
    G("equations", equations),
    G("multiple choice", choices),
    G("symbolic equivalence", symbolic),
    G("robustness (no crash, no match)", robustness),
#undef G
};

/* Grades a completion against a gold answer as math_accuracy does with the
 * extraction config c (NULL: the default). */
static int grade(const char *gold, const char *completion, const MathExtractConfig *c, MathExtracted *pred_out) {
    MathExtractConfig def;
    math_extract_config_default(&def);
    MathExtracted g = {0}, p = {0};
    int r = 0;
    if (math_extract_gold(gold, &g) && math_extract(completion, c ? c : &def, &p)) {
        MathRules rules = {.tol = 1e-6, .strict = 1};
        r = math_verify(g.norm, p.norm, &rules, NULL, 0);
    }
    math_extracted_free(&g);
    if (pred_out) *pred_out = p;
    else math_extracted_free(&p);
    return r;
}

/* Random strings of answer-like tokens: grading must not crash (run under
 * ASan/UBSan in the sanitizer build), and every answer equals itself unless
 * it normalises to nothing. */
static void fuzz(void) {
    static const char *const toks[] = {
        "\\frac", "{", "}", "(", ")", "[", "]", "\\{", "\\}", "1", "23", ".", ",", "x", "y", "^", "_", "-",
        "+", "*", "/", "\\sqrt", "\\pi", "e", "\\sin", "\\log", "=", "\\pm", "%", "\\%", "\\text{cm}",
        "\\boxed{", " ", "|", "!", "\\left", "\\right", " or ", "\\infty", "\\cup", "\\in", "$",
        "\xe2\x88\x92", "\xff", "\\", "A", "(B)", "\\le", "0", "9", "\\cdot", "\\,", "{,}", "####",
        "<answer>", "</answer>", "\\binom", "\\ln", "\\dfrac12", "^{", "\\circ", "\\mathrm{", "cm",
        "$$", "\\[", "\\]", "\\(", "\\)", " [", "] ", "answer", "Final Answer: ", " is ", "\\approx", "<",
        "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\\\", "\\ne", "!=", "\\fbox{", " and ", "\n", "**",
        "\\!", "\xe2\x82\xac", "\xc2\xb2", "percent", ":", ";", "\\begin{array}{cc}", "\\end{array}",
    };
    const size_t n_toks = sizeof(toks) / sizeof(toks[0]);
    MathExtractConfig modes[5];
    for (int m = 0; m < 4; m++) {
        math_extract_config_default(&modes[m]);
        modes[m].mode = (MathMode)m;
    }
    modes[4].mode = MATH_MODE_SOURCES;
    modes[4].n_order = 5;
    for (int k = 0; k < 5; k++) modes[4].order[k] = (MathSource)k;
    int reflexive_bad = 0, n = 20000;
    for (int i = 0; i < n; i++) {
        Rng r;
        rng_init(&r, 7, 0, (uint32_t)i, 0);
        char a[512] = {0}, t[512] = {0};
        for (int side = 0; side < 2; side++) {
            char *s = side ? t : a;
            int len = 1 + (int)rng_below(&r, 14);
            for (int k = 0; k < len; k++) strncat(s, toks[rng_below(&r, (uint32_t)n_toks)], 500 - strlen(s));
        }
        (void)math_equal(a, t, 1e-6);
        (void)grade(t, a, &modes[i % 5], NULL);
        char *norm = math_normalize(a);
        int self = math_equal(a, a, 1e-6);
        if (self != (norm[0] != '\0' && strlen(norm) <= MATH_MAX_ANSWER)) {
            if (reflexive_bad++ < 5) fprintf(stderr, "not reflexive: \"%s\" (normal form \"%s\")\n", a, norm);
        }
        free(norm);
    }
    TEST_CHECK(reflexive_bad == 0, "%d of %d random answers do not equal themselves", reflexive_bad, n);
    printf("fuzz: %d random answer pairs graded without a crash\n", n);
}

/* The sanitizer build does the same work several times slower, and its
 * allocator never reuses fresh memory, so bigger texts cost more per byte. */
#if defined(__SANITIZE_ADDRESS__)
#define SLOWDOWN 10.0
#define GROWTH 14.0
#else
#define SLOWDOWN 1.0
#define GROWTH 10.0
#endif

/* A text of about `bytes` bytes: `unit` repeated, then `tail`. xmalloc'd. */
static char *repeated(const char *unit, size_t bytes, const char *tail) {
    size_t k = strlen(unit), n = bytes / k;
    char *s = xmalloc(n * k + strlen(tail) + 1);
    for (size_t i = 0; i < n; i++) memcpy(s + i * k, unit, k);
    strcpy(s + n * k, tail);
    return s;
}

/* CPU seconds to grade the text once in each extraction mode, the best of
 * three tries (the first pays for fresh memory). */
static double grade_time(const char *text) {
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = test_cpu_seconds();
        for (int m = 0; m < MATH_MODE_SOURCES; m++) {
            MathExtractConfig c;
            math_extract_config_default(&c);
            c.mode = (MathMode)m;
            (void)grade("12", text, &c, NULL);
        }
        double t = test_cpu_seconds() - t0;
        if (t < best) best = t;
    }
    return best;
}

/* Adversarial megabyte lines: every one is graded in bounded time, and 4x
 * the text takes well under 16x the time (no quadratic scan per candidate). */
static void fuzz_big(void) {
    static const char *const pieces[] = {
        "$", "$$", "\\[", "\\(", " [", "\\boxed{", "\\boxed{1}", "$\\boxed{1}$, ", "$1$, ", "$x$ and ",
        "answer: ", "final answer is ", "Answer $", "1 ", "1 + ", "1,000 ", "-\\frac{1}{2}", "{", "}", "x = ",
        "<answer>", "####", "$5 and ", "\\begin{pmatrix}", "&", "\\\\", "(", "\\left(", "=1", "percent ",
        "12.5% ", "**", "\\fbox{", "$a$ or $b$, ", "\\{", "\\sqrt{", "^{", "0,", " is $1$", "\n$",
    };
    double worst = 0, worst_ratio = 0;
    const char *worst_unit = "";
    for (size_t u = 0; u < sizeof(pieces) / sizeof(pieces[0]); u++) {
        char *small = repeated(pieces[u], (size_t)1 << 18, "= 12.");
        char *big = repeated(pieces[u], (size_t)1 << 20, "= 12.");
        double ts = grade_time(small), tb = grade_time(big);
        double ratio = tb / (ts + 1e-3);
        TEST_CHECK(tb < 3.0 * SLOWDOWN, "1 MB of \"%s\": %.2f s for the four modes", pieces[u], tb);
        TEST_CHECK(tb < GROWTH * ts + 0.05, "\"%s\": 256 KB %.3f s, 1 MB %.3f s (quadratic?)", pieces[u], ts, tb);
        if (tb > worst) {
            worst = tb;
            worst_unit = pieces[u];
        }
        if (ratio > worst_ratio) worst_ratio = ratio;
        free(small);
        free(big);
    }
    printf("fuzz: %zu adversarial 1 MB lines, slowest %.3f CPU s (\"%s\", four modes), largest 4x-size time ratio %.1f\n",
           sizeof(pieces) / sizeof(pieces[0]), worst, worst_unit, worst_ratio);
}

int main(void) {
    fuzz();
    fuzz_big();
    size_t total = 0, passed = 0;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        size_t ok = 0;
        for (size_t i = 0; i < groups[g].n; i++) {
            const Case *c = &groups[g].cases[i];
            MathExtracted p = {0};
            int got = grade(c->truth, c->completion, NULL, &p);
            TEST_CHECK(got == c->expect, "[%s] truth \"%s\" completion \"%s\" (extracted \"%s\"): got %d want %d",
                       groups[g].rule, c->truth, c->completion, p.text ? p.text : "(none)", got, c->expect);
            ok += got == c->expect;
            math_extracted_free(&p);
        }
        printf("%-36s %3zu/%zu\n", groups[g].rule, ok, groups[g].n);
        total += groups[g].n;
        passed += ok;
    }
    printf("math grader table: %zu/%zu cases pass\n", passed, total);
    TEST_CHECK(total >= 200, "the table must hold at least 200 cases, has %zu", total);

    /* the older extract array still works: sources in order */
    MathExtractConfig src = {.mode = MATH_MODE_SOURCES, .n_order = 2, .order = {MATH_SRC_ANSWER_TAG, MATH_SRC_BOXED}};
    MathExtracted a = {0};
    TEST_CHECK(math_extract("\\boxed{1} <answer>2</answer>", &src, &a) && !strcmp(a.text, "2"), "tag first: %s",
               a.text ? a.text : "(null)");
    math_extracted_free(&a);
    src.order[0] = MATH_SRC_BOXED;
    src.order[1] = MATH_SRC_ANSWER_TAG;
    TEST_CHECK(math_extract("\\boxed{1} <answer>2</answer>", &src, &a) && !strcmp(a.text, "1"), "box first: %s",
               a.text ? a.text : "(null)");
    math_extracted_free(&a);
    src.order[0] = MATH_SRC_LAST_NUMBER;
    src.n_order = 1;
    TEST_CHECK(math_extract("so 3 apples and then -1,250.5 pears", &src, &a) && !strcmp(a.text, "-1,250.5"),
               "last number: %s", a.text ? a.text : "(null)");
    math_extracted_free(&a);
    TEST_CHECK(!math_extract("no digits here", &src, &a), "last number without numbers");

    /* without the anchor-less tier a stray number is no answer */
    MathExtractConfig anchored;
    math_extract_config_default(&anchored);
    anchored.without_anchor = 0;
    TEST_CHECK(!grade("42", "I think it is 42 but I am not sure", &anchored, NULL), "anchored: no answer");
    TEST_CHECK(grade("42", "I think the answer is 42", &anchored, NULL), "anchored: after \"answer\"");
    return test_summary();
}

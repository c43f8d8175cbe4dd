/*
 * test_math_verify.c: the math grader against Math-Verify's verdicts: a table
 * of (gold, completion) pairs written for this test, mostly the way models
 * answer (R1-style <think> traces, MATH- and GSM8K-style solutions, Minerva's
 * "Final Answer: ... I hope it is correct."), each labelled with the verdict
 * Math-Verify's documented rules give and with ours. The two differ only in
 * the cases docs/rewards.md lists as deliberate differences (marked D).
 *
 * Golds are written as a dataset's "answer" field; Math-Verify's verdict is
 * the one for the gold wrapped in "$...$" (unless it is a whole solution with
 * its own markers) and the completion parsed with LatexExtractionConfig(
 * boxed_match_priority=0) and ExprExtractionConfig(), the setting of
 * Math-Verify's own tests, then verify(gold, pred) with its defaults.
 *
 * Prints, per group, the cases passed and how many agree with Math-Verify;
 * then the agreement on the realistic groups, boxed and not boxed
 * separately, and every deliberate difference. Fails if any case fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/strbuf.h"
#include "reward/math_accuracy.h"
#include "reward/math_extract.h"
#include "reward/math_grade.h"
#include "test.h"

typedef struct {
    const char *gold;
    const char *completion;
    signed char mv;   /* Math-Verify's verdict (1 correct, 0 wrong or nothing extracted) */
    signed char ours; /* ours: equal to mv except for a deliberate difference */
} Case;

#define C(g, p, v) {g, p, v, v}
#define D(g, p, mv, ours) {g, p, mv, ours}

/* A realistic R1 trace around an answer. */
#define THINK "<think>\nLet me set up the problem carefully. We know two of the quantities, so we can solve for the third one and then check it.\n</think>\n"

/* ---- extraction from model outputs ---- */

static const Case boxed[] = {
    C("42", THINK "The product is $\\boxed{42}$.", 1),
    C("42", THINK "The product is $\\boxed{41}$.", 0),
    C("\\frac{3}{4}", "Simplifying, $\\frac{6}{8} = \\boxed{\\dfrac{3}{4}}$.", 1),
    C("\\frac{3}{4}", "So the probability is $\\boxed{0.75}$.", 1),
    C("\\frac{3}{4}", "So the probability is $\\boxed{\\frac{4}{3}}$.", 0),
    C("2\\sqrt{3}", "The side length is $\\boxed{2\\sqrt{2}}$.", 0),
    C("2\\sqrt{3}", "The side length is $\\boxed{\\sqrt{12}}$.", 1),
    C("(2,1)", "So the point is $\\boxed{(1,2)}$.", 0),
    C("(2,1)", "So the point is $\\boxed{(2, 1)}$.", 1),
    C("[1,3]", "The range is $\\boxed{[1,3)}$.", 0),
    C("[1,3]", "The range is $\\boxed{[1, 3]}$.", 1),
    /* the wrong one of two boxes: the last box is the answer when the boxes are far apart */
    C("5", "A first guess is \\boxed{4}. That ignores the carry, so let me redo the sum digit by digit: the total is \\boxed{5}.", 1),
    C("4", "A first guess is \\boxed{4}. That ignores the carry, so let me redo the sum digit by digit: the total is \\boxed{5}.", 0),
    C("4", "<think>\nSo the answer might be \\boxed{3}. Let me double-check the arithmetic once more before committing to it.\n</think>\n\nThe answer is \\boxed{4}.", 1),
    C("3", "<think>\nSo the answer might be \\boxed{3}. Let me double-check the arithmetic once more before committing to it.\n</think>\n\nThe answer is \\boxed{4}.", 0),
    /* boxes close together or joined by "and", "or", "," are one answer */
    C("1, -2", "The integers are \\boxed{-2} and \\boxed{1}.", 1),
    C("-2", "The integers are \\boxed{-2} and \\boxed{1}.", 0),
    C("1, 2", "$\\boxed{1}, \\boxed{2}$", 1),
    C("1, 2", "$\\boxed{1}\\boxed{2}$", 1),
    C("3", "So $\\boxed{3}$ $\\boxed{3}$", 1),
    C("41", "\\boxed{41} wait, actually \\boxed{42}", 0),
    C("7", "The number of ways is \\fbox{7}.", 1),
    C("7", "So we get \\boxed{\\boxed{7}}.", 1),
    C("\\text{Evelyn}", "Therefore, $\\boxed{\\text{Evelyn}}$ is our answer.", 1),
    C("\\text{Evelyn}", "Therefore, $\\boxed{\\text{Briana}}$ is our answer.", 0),
    C("12", "The area is $\\boxed{12 \\text{ cm}^2}$.", 1),
    C("3", "Solving gives $\\boxed{x = 3}$.", 1),
    C("3", "Solving gives $\\boxed{x = 4}$.", 0),
    C("18.5", "She pays $\\boxed{\\$18.50}$.", 1),
    C("18.50", "She pays $\\boxed{18.5}$ dollars.", 1),
    C("50\\%", "The discount is $\\boxed{50\\%}$.", 1),
    /* ours: a percentage without its sign (Math-Verify issue #67: "$28\\%$" against "28" is false) */
    C("50\\%", "The discount is $\\boxed{50}$ percent off.", 1),
    D("28\\%", "So the share is $\\boxed{28}$.", 0, 1),
    C("0.5", "The probability is $\\boxed{\\frac{1}{2}}$.", 1),
    C("0.33", "The probability is $\\boxed{\\frac{1}{3}}$.", 0),
    C("5", "The root is $\\boxed{-5}$.", 0),
    C("5", "The answer is 5. \\boxed{}", 1),
    C("5", "so \\boxed{5", 0),
    C("\\frac{\\pi}{4}", "\\[\\boxed{\\frac{\\pi}{4}}\\]", 1),
    C("3, 2", "The solutions are $\\boxed{2, 3}$.", 1),
    C("2", "The solutions are $\\boxed{2, 3}$.", 0),
    C("2, -2", "So $x = \\boxed{\\pm 2}$.", 1),
    C("(-\\infty,2)\\cup(3,\\infty)", "The domain is $\\boxed{(-\\infty, 2) \\cup (3, \\infty)}$.", 1),
    C("(0,1]", "Hence $\\boxed{x \\in (0, 1]}$.", 1),
    C("7", "\\boxed{7}. Note that the set \\{1\\} plays no role.", 1),
    C("189", "**Final Answer**\n\\boxed{189}\n</think>\n\nUsing the shoelace formula the area is \\(\\boxed{189}\\) square centimeters.", 1),
    C("189", "**Final Answer**\n\\boxed{189}\n</think>\n\nUsing the shoelace formula the area is \\(\\boxed{198}\\) square centimeters.", 0),
    C("-2, 1", "**Final Answer**\nThe integers are \\boxed{-2} and \\boxed{1}.\n</think>\n\nThus\n\\[ \\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}. \\]", 1),
    C("\\frac{14}{3}", "$f(-2)+f(-1)+f(0)=\\frac{-8}{-4}+\\frac{-5}{-3}+\\frac{-2}{-2}=2+\\frac{5}{3}+1=\\boxed{\\frac{14}{3}}$", 1),
    C("3\\sqrt{13}", "\\begin{align*} \\sqrt{6^2 + (-9)^2} &= \\sqrt{117} = \\boxed{3\\sqrt{13}}. \\end{align*}", 1),
    C("9", "Then, $129^{34}+96^{38} \\equiv \\boxed{9} \\pmod{11}.$", 1),
    C("204_5", "for a quotient of $\\boxed{204_5}$.", 1),
    C("204_5", "for a quotient of $\\boxed{214_5}$.", 0),
    C("(6,31,-1)", "Then solving the system, we find $(p,q,r) = \\boxed{(6,31,-1)}.$", 1),
    C("(6,31,-1)", "Then solving the system, we find $(p,q,r) = \\boxed{(6,-1,31)}.$", 0),
    C("1 \\pm \\sqrt{19}", "By the quadratic formula, $x = \\boxed{1 \\pm \\sqrt{19}}.$", 1),
    C("1 \\pm \\sqrt{19}", "By the quadratic formula, $x = \\boxed{1 \\pm \\sqrt{17}}.$", 0),
    C("2 \\sin b \\cos a", "By sum-to-product,\n\\[\\sin (a + b) - \\sin (a - b) = \\boxed{2 \\sin b \\cos a}.\\]", 1),
    C("2 \\sin b \\cos a", "By sum-to-product,\n\\[\\sin (a + b) - \\sin (a - b) = \\boxed{2 \\sin a \\cos b}.\\]", 0),
    C("\\frac{\\pi r}{h+r}", "The answer is $\\boxed{\\frac{\\pi r}{h+r}}$.", 1),
    C("\\frac{\\pi r}{h+r}", "The answer is $\\boxed{\\frac{\\pi r}{h-r}}$.", 0),
};

static const Case final_answer[] = {
    C("\\frac{1}{2}", "Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", 1),
    C("\\frac{1}{2}", "Final Answer: The final answer is $\\frac{1}{3}$. I hope it is correct.", 0),
    C("12", "Final Answer: The final answer is 12. I hope it is correct.", 1),
    C("12", "Final Answer: The final answer is 21. I hope it is correct.", 0),
    C("7", "Adding them up, the final answer is 7", 1),
    C("34", "Final Answer: The largest $n$ is 34.", 1),
    C("34", "Final Answer: The largest $n$ is 35.", 0),
    C("5", "The final answer is: $x = 5$", 1),
    C("28\\%", "Final Answer: The final answer is $28 \\%$. I hope it is correct.", 1),
    /* the model went on with another problem: the rightmost final answer counts */
    C("8", "Final Answer: The final answer is $8$. I hope it is correct.\n\nProblem: Compute $1+2$.\nSolution: Final Answer: The final answer is $3$. I hope it is correct.", 0),
    C("3", "Final Answer: The final answer is $8$. I hope it is correct.\n\nProblem: Compute $1+2$.\nSolution: Final Answer: The final answer is $3$. I hope it is correct.", 1),
    C("42", "Final answer: 42", 1),
    C("3", "So the final answer is 3 apples.", 1),
    C("3", "The final answer is $3$ apples per basket.", 1),
    C("14916", "Therefore the smallest is $14{,}922$. Final Answer: The smallest possible value of $N$ is $\\boxed{14{,}916}$. I hope it is correct.", 1),
    C("12000023", "$85 + (-67) + 12,\\!000,\\!003 + (-3) = 12,\\!000,\\!023$. Final Answer: The final answer is 12,000,023. I hope it is correct.", 1),
    C("16386.16", "So the investment is worth $\\boxed{16386.16}$ dollars. Final Answer: The final answer is 16386.16.", 1),
    C("7.78", "Price per pound = $10 and $\\frac{70}{9} \\approx 7.78$ So, Anna pays approximately $7.78 for her fudge. Final Answer: The final answer is 7.78.", 1),
    C("10455", "So Dr. Zaius has $10,200 + $255 = $10,455. Final Answer: The final answer is $10,455$. I hope it is correct.", 1),
    C("3", "So, Jane started growing Sphere 3 hours ago. Final Answer: Jane started growing Sphere 3 hours ago. I hope it is correct.", 1),
    C("19", "So the total is $1 + 2 \\times 9 = 19$ points. Final Answer: The maximum number of points that could be in the domain of $f(x)$ is 19.", 1),
    C("[0,1)", "the domain is the interval $(0, 1)$. Final Answer: The final answer is $(0, 1)$. I hope it is correct.", 0),
    C("[-3,2]", "which is $\\boxed{[-3, 2]}$. Final Answer: The final answer is $[-3, 2]$. I hope it is correct. On second thought the domain is outside the roots, $\\boxed{(-\\infty, -3] \\cup [2, \\infty)}$. Final Answer: The final answer is $(-\\infty, -3] \\cup [2, \\infty)$. I hope it is correct.", 0),
    C("x-2y+z-1=0", "$$-1(x-1)+2(y-1)+1(z-1)=0\\Rightarrow\\boxed{x-2y+z-1=0}.$$ Final Answer: The final answer is $x-2y+z-1=0$. I hope it is correct.", 1),
    C("100", "the new error is at least $100\\%$ of the original error. Final Answer: The final answer is $100$. I hope it is correct.", 1),
};

static const Case answer_anchor[] = {
    C("72", "Answer: 72", 1),
    C("72", "**Answer:** 72", 1),
    C("72", "The answer is 72.", 1),
    C("72", "The answer is 71.", 0),
    C("3.5", "The answer is $\\frac{7}{2}$.", 1),
    C("4", "So the answer is x=4.", 1),
    C("-1, 3", "Answer: $x = -1$ or $x = 3$", 1),
    C("-1, 3", "Answer: $x = -1$ or $x = 4$", 0),
    C("5", "The answer is 5, which is prime.", 1),
    C("4", "The answer to part (a) is 3 and to part (b) is 4.", 0),
    C("15", "Answer (in dollars): 15", 1),
    C("12", "ANSWER: 12", 1),
    C("3", "The answer is: \\[ 3 \\]", 1),
    C("12", "The answer: 3 \\times 4 = 12", 1),
    C("2/3", "P(A) = (1/2) / (3/4) = 2/3 Therefore, the probability that Alice wins the game is 2/3. <|im_start|>user", 1),
    C("12", "For each divisor $n$ there is one sequence. Therefore, there are 12 distinct arithmetic sequences that meet the three given conditions. I hope it is correct. <|im_start|>user", 1),
    C("(7,6)", "So, the ordered pair $(x, y)$ that solves the system is $(7, 6)$. <|im_start|>user", 1),
    C("(7,6)", "So, the ordered pair $(x, y)$ that solves the system is $(6, 7)$. <|im_start|>user", 0),
    C("120", "Therefore, the volume of rectangular prism $ABCDEFGH$ is $5 \\times 6 \\times 4 = 120$. Final Answer: The volume of $ABCDEFGH$ is 120. I hope it is correct.", 1),
    C("9", "Answer \\[ 9 \\]", 1),
    C("9", "Answer $ 9 $", 1),
    C("9", "Answer $$ 9 $$", 1),
    C("9", "Answer \\( 9 \\)", 1),
    C("10", "Answer \\( (9+1) \\)", 1),
    C("\\frac{10}{9}", "Answer $ \\frac{1}{2} \\$ = \\frac{10}{9} $", 1),
    C("\\frac{1}{3}", "The answer is $1/3.$", 1),
    C("1", "The answer is $1/3.$", 0),
    /* ours: the whole rest of the sentence when it is an answer and Math-Verify's pattern misses it */
    D("(-\\infty, 3]", "The answer is (-\xe2\x88\x9e, 3].", 0, 1),
    D("x = 2 \\text{ or } x = 3", "The answer is x = 2 or x = 3.", 0, 1),
    D("2x + 3", "The answer is 2x+3.", 0, 1),
    C("2x + 3", "The answer is 2x+5.", 0),
};

static const Case latex_env[] = {
    C("\\frac52", "Thus\n\\[ x = \\frac{5}{2} \\]", 1),
    C("\\frac52", "Thus\n\\[ x = \\frac{5}{3} \\]", 0),
    C("24", "Multiplying the base by the height, the area is $24$.", 1),
    C("24", "Multiplying the base by the height, the area is $24$ square units.", 1),
    C("24", "Multiplying the base by the height, the area is $42$ square units.", 0),
    C("\\frac{1}{2}", "$$\\frac{1}{2}$$", 1),
    C("2", "The solution is \\(x = 2\\).", 1),
    C("2", "The solution is \\(x = -2\\).", 0),
    C("5", "We get $x=2$ and $y=3$, so $x+y=5$.", 1),
    C("(2,3)", "Solving the system, $x=2$ and $y=3$.", 1),
    C("(3,2)", "Solving the system, $x=2$ and $y=3$.", 0),
    D("-1, 2, 3", "The roots are $-1$, $2$, and $3$.", 0, 1),
    C("-1, 2, 3", "The roots are $-1$, $2$ and $3$.", 1),
    C("-1, 2, 3", "The roots are $-1$, $2$ and $4$.", 0),
    C("\\pm 1", "The solutions are $x = 1$ or $x = -1$.", 1),
    C("6.2", "It costs $5 and the tax is $1.20, so the total is $6.20.", 1),
    C("\\frac{1}{3}", "$\\frac{1}{3}.$", 1),
    C("\\frac{1}{3}", "$$\\frac{1}{3}.$$", 1),
    C("\\frac{1}{3}", "\\[\\frac{1}{3}.\\]", 1),
    C("\\frac{1}{3}", "$\\frac{1}{3},$", 1),
    C("\\sqrt{2}", "$\\sqrt{2}.$", 1),
    C("(1,2)", "$(1,2).$", 1),
    C("2", "$2^{10}.$", 0),
    C("1, 2, 3", "$1, 2, 3, ...$", 0),
    C("\\frac{1}{3}", "$k = \\frac{1}{3}$", 1),
    C("\\frac{1}{3}", "$\\left( \\frac{1}{3} \\right)$", 1),
    C("\\frac{1}{3}", "$\\frac{1}{3} \\text{meters}$", 1),
    C("\\frac{1}{3}", "$\\frac13 $", 1),
    C("1", "$\\frac3{3} $", 1),
    C("\\sqrt{3}", "$\\sqrt3 $", 1),
    C("\\frac{1}{3}", "$\\cfrac{1}{3} $", 1),
    C("\\frac{1}{3}", "$ 1/3 $", 1),
    C("x > 5", "Therefore $x \\geq 5$ is the solution.", 0),
    C("x \\ge 5", "Therefore $x \\geq 5$ is the solution.", 1),
    C("1", "The value is \\frac{1}{2}", 0),
    C("0.5", "The value is \\frac{1}{2}", 1),
    C("2", "Here $x_2$ is the variable we wanted.", 0),
    C("(3, \\frac{\\pi}{2})", "Therefore, the polar coordinates are $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$", 1),
    C("(3, \\frac{\\pi}{2})", "Therefore, the polar coordinates are $\\left( 3, \\frac{\\pi}{3} \\right).$", 0),
};

static const Case plain_text[] = {
    C("72", "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.\n#### 72", 1),
    C("72", "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 71 clips altogether in April and May.\n#### 71", 0),
    C("17", "She pays 3 * $4 = $12 for the apples.\nShe pays $12 + $5 = $17 in total.\n#### 17", 1),
    C("1200", "He earns 40 * 30 = 1,200 dollars.\n#### 1,200", 1),
    C("18", "Janet makes 9 * 2 = 18 dollars every day.\n#### $18", 1),
    C("15", "Therefore, she has 15 apples left.", 1),
    C("15", "Therefore, she has 15 apples left. That is 3 more than yesterday.", 0),
    C("1234.5", "The total cost is $1,234.50.", 1),
    C("1234", "The total is 1 234 euros", 1),
    C("2.74", "Le prix est 2,74 euros.", 1),
    C("12.5\\%", "The rate is 12.5%.", 1),
    C("0.125", "The rate is 12.5 percent.", 1),
    C("32349", "The answer is 32, 349", 0),
    C("32349", "The answer is 32,349", 1),
    C("10", "He ran 5 km in 30 minutes, so his speed is 10 km/h.", 1),
    C("7", "So x = 7.", 1),
    C("\\frac34", "The result is 3/4.", 1),
    C("\\frac34", "The result is 4/3.", 0),
    C("\\frac{40}{9}", "The answer is 4 4/9.", 1),
    C("4", "The answer is 4 4/9.", 0),
    C("1000.99", "the number is not 10 which is 1,000.99\xe2\x82\xac", 1),
    C("1000.99", "so the number is 10 which is 1,000.99m\xc2\xb2", 1),
    C("1000.99", "$1,000.99", 1),
    C("7425000", "7,425,000", 1),
    C("1000", "1 000", 1),
    C("0.4", ".4", 1),
    C("0.111", "0,111", 1),
    C("1.22", "1,22", 1),
    C("2", "AZYUK2A", 0),
    C("100\\%", "Therefore, the minimum error in the measurement of the position increases by 100%.", 1),
    C("28\\%", "28 percent", 1),
    C("28\\%", "28 pct", 1),
    C("28\\%", "28 %", 1),
    C("0.28", "28", 0),
    C("28", "28/100", 0),
    C("21", "Roger has 5 balls. He buys 2 cans of 3 balls each: 5 + 2 * 3 = 11 balls.\nThe answer is 11.", 0),
    C("11", "Roger has 5 balls. He buys 2 cans of 3 balls each: 5 + 2 * 3 = 11 balls.\nThe answer is 11.", 1),
    C("6", "There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. The answer is 6.", 1),
    C("5", "There are 3 cars. 2 more arrive. 3 + 2 = 5. The answer is 5.", 1),
    C("39", "Leah had 32 chocolates and her sister had 42. In total they had 32 + 42 = 74. After eating 35, they had 74 - 35 = 39. The answer is 39.", 1),
    C("39", "Leah had 32 chocolates and her sister had 42. In total they had 32 + 42 = 74. After eating 35, they had 74 - 35 = 38. The answer is 38.", 0),
    C("8", "Jason had 20 lollipops. He gave Denny some. Now he has 12. So he gave 20 - 12 = 8.", 1),
    C("9", "He has 5 toys and got 2 each from mom and dad, so 5 + 4 = 9 toys.", 1),
    C("33", "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, he had 35 - 2 = 33 golf balls.", 1),
    C("33", "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, he had 35 - 2 = 33 golf balls, 2 fewer than on Tuesday.", 0),
};

static const Case think_traces[] = {
    C("6", "<think>\nWe need 3 + 5 = 8 apples, minus 2 eaten gives 6.\n</think>\n<answer>6</answer>", 1),
    C("6", "<think>\nMaybe 5? No: 2 * 3 = 6.\n</think>\n<answer>\n6\n</answer>", 1),
    C("7", THINK "The answer is $\\boxed{7}$.", 1),
    C("6", "<think>\nFirst try gives \\boxed{5}, but I forgot the last term; adding it back in changes the sum by exactly one.\n</think>\n**Final Answer**\n\\boxed{6}", 1),
    C("84", "<think>\nLet me compute 12 * 7 = 84, and then", 1),
    C("0.5", "<think>\nHalf of the cases.\n</think>\n<answer>\\frac{1}{2}</answer>", 1),
    /* ours: the answer tag of the R1-Zero template is the answer */
    D("13", "<think>\nThe first estimate gives 12.\n</think>\n<answer>13</answer>", 0, 1),
    D("12", "<think>\nThe first estimate gives 12.\n</think>\n<answer>13</answer>", 1, 0),
    D("x^2+1", "<think>\nExpanding the product gives the polynomial.\n</think>\n<answer>x^2+1</answer>", 0, 1),
    C("x^2+1", "<think>\nExpanding the product gives the polynomial.\n</think>\n<answer>$x^2+2$</answer>", 0),
    C("(1,2)", "<think>\nSubstituting back, x is 1 and y is 2.\n</think>\n<answer>$(1, 2)$</answer>", 1),
    C("(1,2)", "<think>\nSubstituting back, x is 2 and y is 1.\n</think>\n<answer>$(2, 1)$</answer>", 0),
    C("1, -2", "<think> So the solutions are $n = 1$ and $n = -2$. **Final Answer** The integers are \\boxed{-2} and \\boxed{1}. </think> Solving $n^2 + n - 2 = 0$ we find the roots: \\[ n = 1 \\quad \\text{and} \\quad n = -2. \\] Thus, the integers $n$ such that $f(n) = n$ are: \\[ \\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}. \\]", 1),
    C("1, -2", "<think> So the solutions are $n = 1$ and $n = 2$. **Final Answer** The integers are \\boxed{2} and \\boxed{1}. </think> Thus, the integers are: \\[ \\boxed{2} \\quad \\text{and} \\quad \\boxed{1}. \\]", 0),
    C("189", "9=189.\n\nTherefore, answer is 189.\n\nWait, in this case AD is vertical, length 9 cm, so the area is (15 +27)/2 *9=189.\n\n**Final Answer**\n\\boxed{189}\n</think>\n\nThe area of the trapezoid is \\(\\boxed{189}\\) square centimeters.", 1),
    C("3", "<think>\nOkay, so the question asks for the remainder. 17 = 2 * 7 + 3, so the remainder is 3.\n</think>\nThe remainder is **3**.", 1),
    C("3", "<think>\nOkay, so the question asks for the remainder. 17 = 2 * 7 + 3, so the remainder is 3.\n</think>\nThe remainder when 17 is divided by 7 is 3.", 1),
    C("2", "<think>\nOkay, so the question asks for the remainder. 17 = 2 * 7 + 3, so the remainder is 3.\n</think>\nThe remainder when 17 is divided by 7 is 3.", 0),
    C("\\frac{9}{4}\\pi", "<think>\nThe radius is 3/2, so the area is pi r^2.\n</think>\nTherefore $\\boxed{\\frac94\\pi}$.", 1),
    C("\\sqrt{2}+\\sqrt{5}", "<think>\nBoth radicals are already simplified.\n</think>\nThe answer is $\\boxed{\\sqrt 2+\\sqrt 5}$", 1),
    C("[-2, 7]", "<think>\nThe parabola opens upward, so it is non-positive between its roots.\n</think>\nThe solution in interval notation is:\n\n\\[ \\boxed{[-2, 7]} \\]", 1),
    C("[-2, 7]", "<think>\nThe parabola opens upward, so it is non-positive between its roots.\n</think>\nThe solution in interval notation is:\n\n\\[ \\boxed{(-2, 7)} \\]", 0),
};

/* ---- the equivalence rules ---- */

static const Case numbers[] = {
    C("1000", "$\\boxed{1{,}000}$", 1),
    C("11111", "is $\\boxed{11,\\! 111}$", 1),
    C("11111111100", "is $\\boxed{11,\\! 111,\\! 111,\\! 100}$", 1),
    C("32349", "is $\\boxed{32,\\! 349}$", 1),
    C("32349", "is $\\boxed{32, 349}$", 0),
    C("14916", "is $\\boxed{14 {, }916}$", 1),
    C("10000", "$\\boxed{10,000}$", 1),
    C("1000", "$\\boxed{1,000.5}$", 0),
    C("\\pi", "$\\boxed{3.14}$", 0),
    C("\\pi", "$\\boxed{3.1416}$", 0),
    C("\\pi", "$\\boxed{3.141593}$", 1),
    C("2\\pi", "$\\boxed{6.283185}$", 1),
    C("1500", "$\\boxed{1.5 \\times 10^{3}}$", 1),
    C("1500", "$\\boxed{1.5 \\times 10^{4}}$", 0),
    C("0", "$\\boxed{-0}$", 1),
    C("7", "$\\boxed{007}$", 1),
    C("12", "$\\boxed{12.0}$", 1),
    C("1000000", "$\\boxed{1000001}$", 0),
    C("2.5", "$\\boxed{2,5}$", 0),
    C("0.25", "$\\boxed{0,25}$", 0),
    C("0.111", "$\\boxed{0,111}$", 1),
    C("\\frac{1}{12}", "$0.0833333333333333$", 1),
    C("\\frac{1}{3}", "$\\boxed{0.333333}$", 1),
    C("\\frac{1}{3}", "$\\boxed{0.3333}$", 0),
    C("16386.20", "$\\boxed{16386.2}$", 1),
    C("16386.20", "$\\boxed{16386.17}$", 0),
    C("1234567.5", "$\\boxed{1234567.6}$", 0),
    C("-10/9", "$-\\frac{10}{9}$", 1),
    C("10/9", "$\\frac{10}{9}$", 1),
    C("\\frac{1}{2004}", "$\\boxed{\\frac{1}{2006}}$", 0),
    C("\\sqrt{17}", "$\\boxed{4.123106}$", 1),
    C("4", "$\\boxed{4\\sqrt{2}}$", 0),
    C("2", "$\\boxed{\\frac{1+\\sqrt{5}}{2}}$", 0),
    C("1\\sqrt{19}", "$\\boxed{1}$", 0),
};

static const Case expressions[] = {
    C("\\frac{x+1}{2}", "$\\boxed{\\frac{1}{2}x + \\frac{1}{2}}$", 1),
    C("x^2-1", "$\\boxed{(x-1)(x+1)}$", 1),
    C("x^2-1", "$\\boxed{(x-1)^2}$", 0),
    C("1", "$\\boxed{\\sin^2 x + \\cos^2 x}$", 1),
    C("\\frac{\\sqrt{3}}{2}", "$\\boxed{\\frac{1}{2}\\sqrt{3}}$", 1),
    C("\\frac{\\sqrt{3}}{3}", "$\\boxed{\\frac{1}{\\sqrt{3}}}$", 1),
    C("1024", "$\\boxed{2^{10}}$", 1),
    C("10", "$\\boxed{\\binom{5}{2}}$", 1),
    C("3", "$\\boxed{\\log_2 8}$", 1),
    C("\\ln 6", "$\\boxed{\\ln 2 + \\ln 3}$", 1),
    C("\\frac{2}{3}", "$\\boxed{\\frac{3}{2}}$", 0),
    C("x^2+2x+1", "$\\boxed{x^2+2x-1}$", 0),
    C("\\sqrt{2}", "$\\boxed{\\frac{\\sqrt{2}}{2}}$", 0),
    C("x^2", "$\\boxed{X^2}$", 1),
    C("ab", "$\\boxed{ba}$", 1),
    C("2x", "$\\boxed{2y}$", 0),
    C("\\frac{x+2}{7}", "$\\frac{x}{7}+\\frac{2}{7}$", 1),
    C("\\tan^2(y)+1", "$\\sec^2(y)$", 1),
    C("(a+5)(b+2)", "$(+5)(b+2)$", 0),
    C("x+2n+1", "$x+1$", 0),
    C("\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{15+2\\sqrt{33}}", "$\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{2\\sqrt{33}+15}$", 1),
    C("2-2p", "If $2-x=p$, then $x=2-p$. Thus $x-p=\\boxed{2-2p}$.", 1),
    C("2-2p", "If $2-x=p$, then $x=2-p$. Thus $x-p=\\boxed{2-p}$.", 0),
    C("1 - \\frac{1}{\\mathrm{e}}", "$1 - \\frac{1}{\\mathrm{e}}$", 1),
    C("1 - \\frac{1}{\\mathrm{e}}", "$1 + \\frac{1}{\\mathrm{e}}$", 0),
    C("\\frac{9}{4}\\pi", "$\\boxed{\\frac{9\\pi}{4}}$", 1),
    C("e^{2}", "$\\boxed{e \\cdot e}$", 1),
    C("\\sqrt[3]{2}", "$\\boxed{2^{1/3}}$", 1),
    C("\\sqrt[3]{2}", "$\\boxed{2^{1/2}}$", 0),
    C("5!", "$\\boxed{120}$", 1),
};

static const Case tuples_sets[] = {
    C("(1,2,3)", "$\\boxed{(1,2,3)}$", 1),
    C("(1,2,3)", "$\\boxed{(1,3,2)}$", 0),
    C("(1,2)", "$\\boxed{1, 2}$", 1),
    C("(1,2)", "$\\boxed{2, 1}$", 0),
    C("\\{1,2\\}", "$\\boxed{\\{2,1\\}}$", 1),
    C("\\{1,2\\}", "$\\boxed{\\{1,2,2\\}}$", 1),
    C("\\{1,2\\}", "$\\boxed{\\{1\\}}$", 0),
    C("\\{1,2,3\\}", "$\\boxed{(3,2,1)}$", 1),
    C("(1,2,3)", "$\\boxed{\\{3,2,1\\}}$", 0),
    C("(1,2,3)", "$\\boxed{\\{1,2,3\\}}$", 1),
    C("[0,1)", "$[0,1)$", 1),
    C("[0,9)", "$[0,1)$", 0),
    C("(0,9)", "$[0,9)$", 0),
    C("1", "$-[0,1)$", 0),
    C("(0,\\infty)", "$\\boxed{[0,\\infty)}$", 0),
    C("(-\\infty, 5]", "$\\boxed{(-\\infty,5]}$", 1),
    C("[2,5]", "$\\boxed{\\{2,5\\}}$", 0),
    C("(2,5)", "$\\boxed{\\{2,5\\}}$", 1),
    C("(5,2)", "$\\boxed{\\{2,5\\}}$", 0),
    C("\\{2,5\\}", "$\\boxed{[2,5]}$", 0),
    C("(-\\infty,-1)\\cup(1,\\infty)", "$\\boxed{(1,\\infty)\\cup(-\\infty,-1)}$", 1),
    C("(-\\infty,-1)\\cup(1,\\infty)", "$\\boxed{(-\\infty,-1)\\cup[1,\\infty)}$", 0),
    C("\\emptyset", "$\\boxed{\\varnothing}$", 1),
    C("\\emptyset", "$\\boxed{\\{\\}}$", 1),
    C("\\mathbb{R}", "$\\boxed{(-\\infty,\\infty)}$", 1),
    C("2, 3", "$\\boxed{\\{3, 2\\}}$", 1),
    C("(1,3)", "${1,3}$", 1),
    C("(3,1)", "${1,3}$", 0),
    C("(0, -3)", "$\\boxed{(0,-3)}$", 1),
    C("(0, -3)", "$\\boxed{(-3,0)}$", 0),
    C("(\\frac{1}{2}, -3)", "$\\boxed{(0.5, -3)}$", 1),
    D("(1,2,3)", "$\\boxed{\\langle 1, 2, 3 \\rangle}$", 0, 1), /* latex2sympy: \\langle x \\rangle takes one expression */
    C("(1,2,3)", "$\\boxed{\\langle 1, 3, 2 \\rangle}$", 0),
    C("(1,\\frac{9}{2})", "$(1,4.5)$", 1),
    C("\\pm 2021", "$2021$", 0),
    C("\\pm 2021", "${-2021, 2021}$", 1),
    C("19, 46, and 82", "$19, 46, \\text{ and } 82$", 1),
    C("19, 46, and 82", "$21, 36, and 82$", 0),
    C("\\{1\\pm\\sqrt{5},-2\\}", "the answer is $\\boxed{\\{1\\pm\\sqrt{5},-2\\}}.$", 1),
    C("\\{1\\pm\\sqrt{5},-2\\}", "the answer is $\\boxed{\\{1\\pm\\sqrt{5},2\\}}.$", 0),
    C("\\{-1\\} \\cup [0,7)", "x \\in \\boxed{\\{-1\\} \\cup [0,7)}.", 1),
    C("[-1, -\\frac{1}{2}) \\cup (-\\frac{1}{2}, 0) \\cup (0, 1) \\cup (1, \\infty)", "The solution set is $\\boxed{[-1, -\\tfrac12) \\cup (-\\tfrac12, 0) \\cup (0, 1) \\cup (1, \\infty)}.$", 1),
    C("(2, 12) \\cup (12, 102)", "Thus, the answer is $x \\in \\boxed{(2,12) \\cup (12,102)}$", 1),
    C("(2, 12) \\cup (12, 102)", "Thus, the answer is $x \\in \\boxed{(2,12) \\cup (12,101)}$", 0),
    C("(\\tfrac{27}{8},\\tfrac{15}{8})", "Therefore, the point is $\\boxed{(0, 0)}$. Final Answer: The final answer is $(0, 0)$. I hope it is correct.", 0),
};

static const Case equations[] = {
    C("x = 5", "$\\boxed{5}$", 1),
    C("x = 5", "$\\boxed{x=5}$", 1),
    C("x = 5", "$\\boxed{y=5}$", 0),
    C("5", "$\\boxed{y = 5}$", 1),
    C("(3,2)", "so $\\boxed{(p,q) = (3,2)}$", 1),
    C("(3,2)", "so $\\boxed{(p,q) = (2,3)}$", 0),
    C("8", "Hence $\\boxed{AB = 8}$.", 1),
    C("8", "Hence $\\boxed{|AB| = 8}$.", 1),
    C("\\frac{2}{3}", "The ratio is $\\boxed{A:B = 2:3}$.", 1),
    C("11", "$x = 5+5+1 = 11$", 1),
    C("11", "$x = 5+5+1 = 12$", 0),
    C("x = 11", "$x = 5+5+1 = 7 =11$", 1),
    C("x = 11", "$x = 5 + 6 = 12$", 0),
    C("3.14", "$x \\approx 3.14$", 1),
    C("\\frac{1}{3}", "$x = \\frac{1}{3} \\approx 0.33$", 1),
    C("\\frac{1}{3}", "$x \\approx 0.33$", 0),
    C("x = 1/3", "$x = 5+5+1 = 1/3 \\approx 11$", 1),
    C("11", "$x\\approx11$", 1),
    C("x=1, y=2", "$\\boxed{y = 2, x = 1}$", 1),
    C("x=1, y=2", "$\\boxed{x = 2, y = 1}$", 0),
    C("(1,2)", "$\\boxed{x = 1, y = 2}$", 1),
    C("(2,1)", "$\\boxed{x = 1, y = 2}$", 0),
    C("2x + 3y = 6", "$\\boxed{4x + 6y = 12}$", 1),
    C("2x + 3y = 6", "$\\boxed{4x + 6y = 6}$", 0),
    C("y = 2x + 3", "$\\boxed{2x - y + 3 = 0}$", 1),
    C("y = 2x + 3", "$\\boxed{y = 3x + 2}$", 0),
    C("x^2 + y^2 = 25", "$\\boxed{(x-0)^2 + (y-0)^2 = 5^2}$", 1),
    C("x^2 + y^2 = 25", "$\\boxed{x^2+y^2=5}$", 0),
    C("x - 2y + z - 1 = 0", "$\\boxed{-x + 2y - z + 1 = 0}$", 1),
    C("x - 2y + z - 1 = 0", "$\\boxed{x - 2y + z = 1}$", 1),
    C("7 = 11a + c", "$11a+c$", 0),
    C("a + 3z = 0", "$0$", 0),
    C("2x + z = 1", "$1$", 0),
    C("a^2 + b = 0", "$0$", 0),
    C("k = 1", "$1$", 1),
    C("1", "$k=1$", 1),
    C("z = 1 + 1 = 2", "$z = 3+3 = 2$", 1),
    C("2x+4y-3=0", "$y=-\\frac{1}{2}x+\\frac{3}{4}$", 1),
    C("x^2/4 + y^2/3 = 1", "$x^2/16 + y^2/12 = 1/4$", 1),
    C("34x+45y-20z+100=0", "$-34x-45y+20z-100=0$", 1),
    C("f(x) = x^2 + 1", "$\\boxed{x^2+1}$", 1),
    C("f(x) = x^2 + 1", "$\\boxed{g(x) = x^2+1}$", 0),
    C("n=1, 2, 3", "$n=1, 2, 3$", 1),
    C("n=2, 3, 4", "$n=1, 2, 3$", 0),
    C("D = (0, 1)", "$D = (0, 1)$", 1),
    C("D = (0, 1)", "$D = (0, 1.5)$", 0),
    C("(-6, 10)", "The solution is \\( x \\in (-6, 10) \\). Final Answer: The final answer is \\((-6, 10)\\). I hope it is correct.", 1),
};

static const Case inequalities[] = {
    C("x > 5", "$\\boxed{x > 5}$", 1),
    C("x > 5", "$\\boxed{5 < x}$", 1),
    C("x > 5", "$\\boxed{x \\ge 5}$", 0),
    C("x > 5", "$\\boxed{x < 5}$", 0),
    C("x >= 5", "Therefore $x \\geq 5$ is the solution.", 1),
    C("x < 3", "We find that $x \\lt 3$.", 1),
    C("x \\leq 2", "Thus $x <= 2$ is our answer.", 1),
    C("x > 5", "Therefore $x \\gt 5$ is the solution.", 1),
    C("x != 3", "We find that $x \\neq 3$.", 1),
    C("x \\neq 5", "The solution is $x != 5$", 1),
    C("x \\ne 3", "The solution is $x \\ne 4$", 0),
    C("x \\geq 5", "The solution is $x \\leq 5$", 0),
    C("x \\leq 5", "$5 \\geq x$", 1),
    C("x < 1", "$-x > -1$", 1),
    C("x < 1", "$x > -1$", 0),
    C("x <= 1", "$-x >= -1$", 1),
    C("x \\le 2", "$\\boxed{2x \\le 4}$", 1),
    C("x \\le 2", "$\\boxed{-2x \\ge -4}$", 1),
    C("x \\le 2", "$\\boxed{-2x \\le -4}$", 0),
    C("0 < y < 1", "$\\boxed{(0,1)}$", 1),
    C("0 < y < 1", "$\\boxed{[0,1)}$", 0),
    C("0 < y < 1", "$\\boxed{y \\in (0,1)}$", 1),
    C("-2 \\le x \\le 7", "$x \\in [-2,7]$", 1),
    C("-2 \\le x \\le 7", "$x \\in [-2,7)$", 0),
    C("x \\ge 3", "$\\boxed{[3, \\infty)}$", 1),
    C("x \\ge 3", "$\\boxed{(3, \\infty)}$", 0),
    C("x < 0", "$\\boxed{(-\\infty, 0)}$", 1),
    C("x \\ne 2", "$\\boxed{(-\\infty,2)\\cup(2,\\infty)}$", 1),
    C("[3, \\infty)", "$\\boxed{x \\ge 3}$", 0),
    C("x \\in [-2,7]", "$-2 \\le x \\le 7$", 0),
    C("1 < x < 5", "$\\boxed{1 < x < 5}$", 1),
    C("1 < x < 5", "$\\boxed{5 > x > 1}$", 0),
    C("f(2) < f(1) < f(4)", "Hence, $\\boxed{f(2) < f(1) < f(4)}.$", 1),
    C("f(2) < f(1) < f(4)", "Hence, $\\boxed{f(1) < f(2) < f(4)}.$", 0),
};

#define M22(a, b, c, d) "\\begin{pmatrix}" a " & " b " \\\\ " c " & " d "\\end{pmatrix}"
static const Case matrices[] = {
    C(M22("1", "0", "0", "1"), "The identity matrix is $ " M22("1", "0", "0", "1") " $.", 1),
    C("\\begin{bmatrix}0 & 0 \\\\0 & 0\\end{bmatrix}", "Here is a zero matrix: $ \\begin{pmatrix}0 & 0 \\\\0 & 0\\end{pmatrix} $", 1),
    C(M22("1", "2", "3", "4"), "Special matrix: $ \\left[\\begin{array}{cc}1 & 2 \\\\3 & 4\\end{array}\\right] $", 1),
    C(M22("\\frac{1}{2}", "\\frac{3}{4}", "\\frac{5}{6}", "\\frac{7}{8}"), "$ " M22("\\frac{1}{2}", "\\frac{3}{4}", "\\frac{5}{6}", "\\frac{7}{8}") " $", 1),
    C(M22("6", "8", "10", "12"), "The sum is $" M22("1", "2", "3", "4") " + " M22("5", "6", "7", "8") "$", 1),
    C(M22("6", "8", "10", "13"), "The sum is $" M22("1", "2", "3", "4") " + " M22("5", "6", "7", "8") "$", 0),
    C(M22("1", "0", "0", "1"), "When multiplying by identity: $" M22("1", "0", "0", "1") " " M22("1", "0", "0", "1") "$", 1),
    C(M22("1", "2", "3", "4"), "The matrix is $" M22("1", "2", "3", "5") "$", 0),
    C(M22("2", "4", "6", "8"), "$\\boxed{2" M22("1", "2", "3", "4") "}$", 1),
    C(M22("2", "4", "6", "8"), "$\\boxed{3" M22("1", "2", "3", "4") "}$", 0),
    C(M22("7", "10", "15", "22"), "$\\boxed{" M22("1", "2", "3", "4") M22("1", "2", "3", "4") "}$", 1),
    C(M22("7", "10", "15", "22"), "$\\boxed{" M22("1", "2", "3", "4") " + " M22("1", "2", "3", "4") "}$", 0),
    C("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "$\\boxed{\\begin{pmatrix} 1 & 2 \\end{pmatrix}}$", 0),
    C("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "$\\boxed{(1,2)}$", 0),
    C("\\begin{pmatrix} \\frac12 \\\\ 0.5 \\end{pmatrix}", "$\\boxed{\\begin{pmatrix} 0.5 \\\\ \\frac{1}{2} \\end{pmatrix}}$", 1),
    C("\\boxed{\n\\begin{pmatrix} 0 & 3 \\\\ 0 & -1 \\end{pmatrix}\n}.\n\\end{align*}", "\\boxed{\n\\begin{pmatrix} 0 & 3 \\\\ 0 & -1 \\end{pmatrix}\n}.\n\\end{align*}", 1),
    C("\\begin{pmatrix} -1 \\\\ 5 \\end{pmatrix}", "so the vector is\n\\[\\begin{pmatrix} -1 \\\\ 5 \\end{pmatrix}\\]", 1),
    C("\\begin{pmatrix} -1 \\\\ 5 \\end{pmatrix}", "so the vector is\n\\[\\begin{pmatrix} 5 \\\\ -1 \\end{pmatrix}\\]", 0),
    C("\\begin{pmatrix}1&2&3\\\\4&5&6\\\\7&8&9\\end{pmatrix}", "$\\boxed{\\begin{bmatrix}1&2&3\\\\4&5&6\\\\7&8&9\\end{bmatrix}}$", 1),
    C("\\begin{pmatrix}1&2&3\\\\4&5&6\\\\7&8&9\\end{pmatrix}", "$\\boxed{\\begin{bmatrix}1&4&7\\\\2&5&8\\\\3&6&9\\end{bmatrix}}$", 0),
    C("\\begin{pmatrix} \\frac{t}{2} \\\\ \\frac{t}{3} \\end{pmatrix}", "$\\boxed{\\frac{t}{6} \\begin{pmatrix} 3 \\\\ 2 \\end{pmatrix}}$", 1),
};

static const Case units_text[] = {
    C("125", "The distance is $\\boxed{125\\textnormal{ miles}}.$", 1),
    C("15", "so the area is $$\\frac{1}{2}\\times 3 \\times 10 = \\boxed{15\\mbox{ cm}^2}.$$", 1),
    C("5", "$\\boxed{5\\mathrm{~m}}$", 1),
    C("30", "The angle is $\\boxed{30^\\circ}$.", 1),
    C("30", "The angle is $\\boxed{30\xc2\xb0}$.", 1),
    C("90^\\circ", "Hence, the angle between the lines is $\\boxed{90^\\circ}.$", 1),
    C("90^\\circ", "Hence, the angle between the lines is $\\boxed{45^\\circ}.$", 0),
    C("42", "She paid $\\boxed{\\$42}$.", 1),
    C("42", "The price is 42 \xe2\x82\xac.", 1),
    C("42", "The price is \xe2\x82\xac" "42.", 1),
    C("20", "$\\boxed{20\\,\\text{m/s}}$", 1),
    C("9", "$\\boxed{9\\text{ square units}}$", 1),
    C("\\text{Monday}", "$\\boxed{\\text{Monday}}$", 1),
    C("\\text{Monday}", "$\\boxed{\\text{Tuesday}}$", 0),
    C("\\text{no solution}", "$\\boxed{\\text{No solution}}$", 1),
    C("\\text{E}", "$E$", 1),
    C("\\text{(C)}", "$\\boxed{\\textbf{(C)}}$", 1),
    C("\\\\frac{1}{2}", "$\\boxed{\\frac{1}{2}}$", 1),
    C("\\frac{3}{4}", "$\\boxed{\\\\frac{3}{4}}$", 1),
    C("\\frac{3}{4}", "$\\boxed{\\\\frac{4}{3}}$", 0),
    C("12 \\mbox{ cm}^2", "The area is $12\\text{ cm}^2$.", 1),
    C("1/3", "$\\frac{1}{3} \\textbf{meters}$", 1),
    C("28\\%", "$\\boxed{28 pct}", 1),
    C("28\\%", "$\\boxed{28 percent}", 1),
    C("28\\%", "$\\boxed{28 percentage}", 1),
    C("28\\%", "$28$ percent", 1),
    C("28\\%", "$\\boxed{28}$ pct", 1),
    D("-5", "The answer is \xe2\x88\x92" "5.", 0, 1),
    C("-5", "$\\boxed{\xe2\x88\x92" "5}$", 1), /* latex2sympy reads U+2212; the number pattern does not */
};

static const Case choices[] = {
    C("C", "$\\boxed{C}$", 1),
    C("C", "$\\boxed{D}$", 0),
    C("C", "$\\boxed{c}$", 1),
    C("C", "$\\boxed{(C)}$", 1),
    C("\\text{C}", "$\\boxed{\\text{(C)}}.$", 1),
    C("A", "$\\boxed{A \\text{ or } B}$", 0),
    C("B", "The answer is $\\boxed{\\textbf{(B)}}$.", 1),
    C("B", "The answer is $\\boxed{\\textbf{(D)}}$.", 0),
    /* ours: a letter after "answer is" */
    D("C", "The answer is (C).", 0, 1),
    C("C", "The answer is (D).", 0),
    C("E", THINK "So the correct option is $\\boxed{E}$.", 1),
};

static const Case no_answer[] = {
    C("5", "I don't know.", 0),
    C("5", "", 0),
    C("5", "The answer is AZYUK5A.", 0),
    C("0", "$\\sum_{k=0}^n\\bigl(k\\bigr)$", 0),
    C("5", "<think>\nThis is hard.\n</think>\n<answer></answer>", 0),
    C("5", "\\boxed{}", 0),
    C("12", "The answer is twelve.", 0),
    C("12", "The answer is 12.", 1),
    C("5", "The answer is $x$.", 0),
    C("5", "<think>\nThis is hard.\n</think>\n<answer>5</answer>", 1),
};

static const Case gold_forms[] = {
    C("The sum of the roots is $-b/a = 10$, so the answer is $\\boxed{10}$.", "$\\boxed{10}$", 1),
    C("The sum of the roots is $-b/a = 10$, so the answer is $\\boxed{10}$.", "$\\boxed{11}$", 0),
    C("Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether.\n#### 72", "The answer is 72", 1),
    C("Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether.\n#### 72", "The answer is 24", 0),
    C("$\\frac{1}{2}$", "0.5", 1),
    C("\\(\\boxed{C}\\).", "$\\boxed{\\text{(C)}}.$", 1),
    C("1,000", "$\\boxed{1000}$", 1),
    C("-2,1", "the only integer roots are $\\boxed{-2,1}.$", 1),
    C("-2,1", "the only integer roots are $\\boxed{-2.1}.$", 0),
    C("\\text{(B)}", "$\\boxed{B}$", 1),
    C("She has 12 apples left", "$\\boxed{12}$", 1),
    C("x \\in \\boxed{\\{-1\\} \\cup [0,7)}.$", "x \\in \\boxed{\\{-1\\} \\cup [0,7)}.$", 1),
    C("$less than or equal to zero between its roots.\n\n\\[ \\boxed{[-2, 7]} \\]$", "$x \\in [-2,7]$", 1),
    C("Factoring gives $A = -6$ and $B = 10$. Therefore, $(A, B) = \\boxed{(-6, 10)}.$", "Final Answer: The final answer is \\((-6, 10)\\). I hope it is correct.", 1),
    C("Let the percentage of children be $x$. Solving yields $x=1/5$, or $\\boxed{20}$ percent.", "So the percentage is $\\boxed{20 \\%}$.", 1),
    C("Let the percentage of children be $x$. Solving yields $x=1/5$, or $\\boxed{20}$ percent.", "So the percentage is $\\boxed{25 \\%}$.", 0),
    C(" So the answer is: \\[ \\boxed{11111111100} \\]", "is $\\boxed{11,\\! 111,\\! 111,\\! 100}$", 1),
    C("$1112112_3$", "Thus, the product is \\(\\boxed{1112122_3}\\).", 0),
    C("$\\left(\\frac{4}{5},\\frac{1}{5}\\right)$", "Thus, $(t,u) = \\boxed{\\left( \\frac{4}{5}, \\frac{1}{5} \\right)}.$", 1),
    C("$\\left( \\frac{4}{3}, -\\frac{1}{3} \\right)$", "Thus, $(t,u) = \\boxed{\\left( \\frac{4}{3}, -\\frac{1}{3} \\right)}.$", 1),
    C("$\\left( \\frac{4}{3}, -\\frac{1}{3} \\right)$", "Thus, $(t,u) = \\boxed{\\left( -\\frac{1}{3}, \\frac{4}{3} \\right)}.$", 0),
};

/* ---- extraction settings ---- */

/* A case graded with another setting: the extraction mode, whether the
 * anchor-less tier runs (Math-Verify's try_extract_without_anchor), strict. */
typedef struct {
    MathMode mode;
    int without_anchor, strict;
    Case c;
} SettingCase;

#define LATEX MATH_MODE_LATEX
#define EXPR MATH_MODE_EXPR
#define BOXED MATH_MODE_BOXED
#define BOTH MATH_MODE_LATEX_EXPR
static const SettingCase settings[] = {
    /* LatexExtractionConfig: $...$ and \(...\) stay on one line, $$...$$ and \[...\] do not */
    {LATEX, 1, 1, C("9", "Answer $ \n 9 \n $", 0)},
    {LATEX, 1, 1, C("9", "Answer \\( \n 9 \n \\)", 0)},
    {LATEX, 1, 1, C("9", "Answer \\[ \n 9 \n \\]", 1)},
    {LATEX, 1, 1, C("9", "Answer $$ \n 9 \n $$", 1)},
    {LATEX, 1, 1, C("9", "The answer is 9", 0)},
    {LATEX, 1, 1, C("9", "so the total is $9$", 1)},
    {LATEX, 1, 1, C("34", "Final Answer: The largest $n$ is 34.", 0)},
    /* TRL's and open-r1's accuracy_reward: LaTeX with an anchor or a box */
    {LATEX, 0, 1, C("9", "$9$", 0)},
    {LATEX, 0, 1, C("9", "Answer: $9$", 1)},
    {LATEX, 0, 1, C("9", THINK "\\boxed{9}", 1)},
    {LATEX, 0, 1, C("9", "So 9 is it", 0)},
    {LATEX, 0, 1, C("\\frac{1}{2}", THINK "The answer is $\\frac{1}{2}$.", 1)},
    {LATEX, 0, 1, C("84", "<think>\nLet me compute 12 * 7 = 84, and then", 0)},
    {BOTH, 0, 1, C("84", "<think>\nLet me compute 12 * 7 = 84, and then", 0)},
    {BOTH, 0, 1, C("84", "<think>\nLet me compute 12 * 7 = 84, so the answer is 84.", 1)},
    {BOTH, 0, 1, C("42", "I think it is 42 but I am not sure", 0)},
    /* ExprExtractionConfig: plain numbers and expressions only */
    {EXPR, 1, 1, C("9", "$\\boxed{9}$", 0)},
    {EXPR, 1, 1, C("9", "The answer is 9", 1)},
    {EXPR, 1, 1, C("9", "$9$", 1)},
    {EXPR, 1, 1, C("2", "AZYUK2A", 0)},
    {EXPR, 1, 1, C("7425000", "7,425,000", 1)},
    /* ours: boxes only */
    {BOXED, 1, 1, C("9", "The answer is $9$.", 0)},
    {BOXED, 1, 1, C("9", "The answer is $\\boxed{9}$.", 1)},
    {BOXED, 1, 1, C("9", "Final Answer: The final answer is $9$. I hope it is correct.", 0)},
    /* strict off: the left sides of assignments are not compared */
    {BOTH, 1, 0, C("x = 1", "$\\boxed{y = 1}$", 1)},
    {BOTH, 1, 1, C("x = 1", "$\\boxed{y = 1}$", 0)},
    {BOTH, 1, 0, C("x = 1", "$\\boxed{y = 2}$", 0)},
};

/* ---- groups ---- */

typedef struct {
    const char *name;
    int realistic;      /* counted in the agreement on model outputs */
    const Case *cases;
    size_t n;
} Group;

static const Group groups[] = {
#define G(name, realistic, arr) {name, realistic, arr, sizeof(arr) / sizeof(arr[0])}
    G("boxed answers", 1, boxed),
    G("\"final answer\" phrases", 1, final_answer),
    G("\"answer\" anchors", 1, answer_anchor),
    G("LaTeX environments", 1, latex_env),
    G("plain text and GSM8K", 1, plain_text),
    G("<think> traces", 1, think_traces),
    G("numbers", 0, numbers),
    G("expressions", 0, expressions),
    G("tuples, intervals, sets", 0, tuples_sets),
    G("equations and assignments", 0, equations),
    G("inequalities and relations", 0, inequalities),
    G("matrices", 0, matrices),
    G("units, text, unicode", 0, units_text),
    G("multiple choice", 0, choices),
    G("no answer", 1, no_answer),
    G("gold forms", 1, gold_forms),
#undef G
};

/* Grades as math_accuracy does with the extraction config c. */
static int grade(const char *gold, const char *completion, const MathExtractConfig *c, int strict, char *why,
                 size_t cap) {
    MathExtracted g = {0}, p = {0};
    int r = 0;
    snprintf(why, cap, "nothing extracted");
    if (!math_extract_gold(gold, &g)) snprintf(why, cap, "no gold");
    else if (math_extract(completion, c, &p)) {
        MathRules rules = {.tol = 0, .strict = strict};
        r = math_verify(g.norm, p.norm, &rules, why, cap);
    }
    math_extracted_free(&g);
    math_extracted_free(&p);
    return r;
}

static int is_boxed(const char *s) { return strstr(s, "\\boxed") || strstr(s, "\\fbox"); }

/* s on one line (newlines as "\n"), cut to 90 bytes, in buf. */
static const char *one_line(const char *s, char *buf, size_t cap) {
    size_t w = 0;
    for (const char *p = s; *p && w + 3 < cap && p - s < 90; p++) {
        if (*p == '\n') {
            buf[w++] = '\\';
            buf[w++] = 'n';
        } else {
            buf[w++] = *p;
        }
    }
    buf[w] = '\0';
    return buf;
}

/* The reward itself: scores, the no-answer policy, the explanation, config errors. */
static void reward_checks(void) {
    const RewardKind *k = &reward_kind_math_accuracy;
    cJSON *ex = cJSON_Parse("{\"answer\": \"(2,3)\"}");
    RewardInput in[3] = {
        {.completion = "so $(p,q) = (3,2)$", .example = ex, .n_tokens = -1},
        {.completion = "I have no idea", .example = ex, .n_tokens = -1},
        {.completion = "\\boxed{(2, 3)}", .example = ex, .n_tokens = -1},
    };
    static const char *const params[] = {"{}", "{\"no_answer_score\": null, \"correct_score\": 2}"};
    for (int p = 0; p < 2; p++) {
        cJSON *cfg = cJSON_Parse(params[p]);
        void *state = NULL;
        TEST_CHECK(k->create(cfg, "rewards[0]", &state) == 0, "create %s: %s", params[p], err_msg());
        RewardResult out[3] = {0};
        TEST_CHECK(k->score(state, in, 3, out) == 0, "score");
        TEST_CHECK(out[0].has_score && out[0].score == 0, "wrong answer scores 0");
        TEST_CHECK(out[1].has_score == !p && out[1].score == 0, "no answer: %s", p ? "no score" : "0");
        TEST_CHECK(out[2].has_score && out[2].score == (p ? 2 : 1), "correct answer");
        const cJSON *rule = cJSON_GetObjectItemCaseSensitive(out[0].diag, "rule");
        const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(out[1].diag, "verdict");
        TEST_CHECK(cJSON_IsString(rule) && strstr(rule->valuestring, "right side"), "explained: %s",
                   cJSON_IsString(rule) ? rule->valuestring : "(none)");
        TEST_CHECK(cJSON_IsString(verdict) && !strcmp(verdict->valuestring, "no answer"), "verdict");
        reward_results_clear(out, 3);
        k->destroy(state);
        cJSON_Delete(cfg);
    }
    static const struct {
        const char *params, *message;
    } bad[] = {
        {"{\"extract\": \"latx\"}", "did you mean 'latex'"},
        {"{\"extract\": 5}", "expected a mode name"},
        {"{\"extract\": [\"boxd\"]}", "did you mean 'boxed'"},
        {"{\"strict\": 1}", "expected true or false"},
        {"{\"tolerance\": 0.5}", "out of range"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *cfg = cJSON_Parse(bad[i].params);
        void *state = NULL;
        int rc = k->create(cfg, "rewards[0]", &state);
        TEST_CHECK(rc != 0 && strstr(err_msg(), bad[i].message), "%s: %s", bad[i].params, err_msg());
        if (rc == 0) k->destroy(state);
        cJSON_Delete(cfg);
    }
    cJSON_Delete(ex);
}

int main(void) {
    reward_checks();
    MathExtractConfig def;
    math_extract_config_default(&def);
    size_t total = 0, passed = 0, agree[2] = {0}, n_real[2] = {0}, lenient = 0, stricter = 0;
    for (size_t gi = 0; gi < sizeof(groups) / sizeof(groups[0]); gi++) {
        const Group *g = &groups[gi];
        size_t ok = 0, same = 0;
        for (size_t i = 0; i < g->n; i++) {
            const Case *c = &g->cases[i];
            char why[160];
            int got = grade(c->gold, c->completion, &def, 1, why, sizeof(why));
            TEST_CHECK(got == c->ours, "[%s] gold \"%s\" completion \"%.200s\": got %d want %d (%s)", g->name, c->gold,
                       c->completion, got, c->ours, why);
            ok += got == c->ours;
            same += c->mv == c->ours;
            if (c->mv != c->ours) {
                if (c->ours) lenient++;
                else stricter++;
                char line[200];
                printf("  difference (Math-Verify %d, ours %d): gold \"%s\" completion \"%s\"\n", c->mv, c->ours,
                       c->gold, one_line(c->completion, line, sizeof(line)));
            }
            if (g->realistic) {
                int b = is_boxed(c->completion) != 0;
                n_real[b]++;
                agree[b] += c->mv == got;
            }
        }
        printf("%-30s %3zu/%-3zu pass, %3zu agree with Math-Verify\n", g->name, ok, g->n, same);
        total += g->n;
        passed += ok;
    }
    size_t ok = 0, same = 0, n_settings = sizeof(settings) / sizeof(settings[0]);
    for (size_t i = 0; i < n_settings; i++) {
        const SettingCase *sc = &settings[i];
        MathExtractConfig cfg;
        math_extract_config_default(&cfg);
        cfg.mode = sc->mode;
        cfg.without_anchor = sc->without_anchor;
        char why[160];
        int got = grade(sc->c.gold, sc->c.completion, &cfg, sc->strict, why, sizeof(why));
        TEST_CHECK(got == sc->c.ours, "[settings %s, without_anchor %d, strict %d] gold \"%s\" completion \"%s\": got %d",
                   math_mode_name(sc->mode), sc->without_anchor, sc->strict, sc->c.gold, sc->c.completion, got);
        ok += got == sc->c.ours;
        same += sc->c.mv == sc->c.ours;
    }
    printf("%-30s %3zu/%-3zu pass, %3zu agree with Math-Verify\n", "extraction settings", ok, n_settings, same);
    total += n_settings;
    passed += ok;
    printf("Math-Verify table: %zu/%zu cases pass\n", passed, total);
    printf("agreement with Math-Verify on model outputs: boxed %zu/%zu (%.1f%%), not boxed %zu/%zu (%.1f%%)\n",
           agree[1], n_real[1], 100.0 * agree[1] / n_real[1], agree[0], n_real[0], 100.0 * agree[0] / n_real[0]);
    printf("deliberate differences: %zu accept what Math-Verify misses, %zu reject what it accepts\n", lenient,
           stricter);
    return test_summary();
}

/*
 * report_html.h: what the report's two files share (report.c builds the
 * page, report_plot.c draws the plots): HTML text helpers and line plots
 * drawn as inline SVG. Internal to trainer/; the public API is report.h.
 * Not for: reading run files (report.c).
 */
#ifndef GRPO_REPORT_HTML_H
#define GRPO_REPORT_HTML_H

#include <stddef.h>

#include "common/common.h"
#include "common/strbuf.h"

/* Appends printf-formatted text as is (no escaping). */
void html_printf(StrBuf *b, const char *fmt, ...) GRPO_PRINTF(2, 3);

/* Appends s escaped for HTML text and attribute values (& < > " '); bytes
 * that are not valid UTF-8 and control characters other than tab, newline
 * and carriage return become U+FFFD, so any model output is safe to show. */
void html_escape(StrBuf *b, const char *s);

/* A number for people: up to 4 significant digits, no "-0", exponents
 * without padding ("2e-6"). */
void html_number(char *buf, size_t cap, double v);

/* One drawn series. x ascending. */
typedef struct {
    const char *label;     /* legend text (escaped when written) */
    const double *x, *y;   /* n points */
    size_t n;
    const double *lo, *hi; /* optional band drawn around the line (both or neither) */
    int stack;             /* a stacked area: every stacked series of a plot shares x and n */
} PlotSeries;

typedef struct {
    const char *title;  /* the caption (escaped) */
    const char *y_unit; /* shown along the y axis, may be NULL */
    int unit_range;     /* y from 0 to 1 when every value fits */
    const PlotSeries *series;
    size_t n_series;
} Plot;

/* Appends <figure class="plot"><figcaption>title</figcaption><svg>...</svg>
 * </figure>: axes with tick labels, grid, a legend, one line per series
 * (a faint raw line under a moving average when there are many points,
 * dots when there are few), bands and stacked areas. A plot whose series
 * have no points is not drawn. */
void plot_svg(StrBuf *b, const Plot *p);

/* The colour of series i of a plot ("#rrggbb"). */
const char *plot_colour(size_t i);

#endif

/*
 * report_plot.c: HTML escaping and the report's line plots as inline SVG
 * (see report_html.h): nice axis ticks, a legend, smoothing of long noisy
 * series, bands and stacked areas; no JavaScript, no external resources.
 * Not for: deciding what to plot (report.c).
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "report_html.h"

void html_printf(StrBuf *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        strbuf_add(b, small, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    strbuf_add(b, big, (size_t)n);
    free(big);
}

void html_escape(StrBuf *b, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && !strchr("&<>\"'", p[run])) run++;
        if (run > i) {
            strbuf_add(b, p + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        const char *ent = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&quot;"
                        : c == '\'' ? "&#39;" : NULL;
        if (ent) {
            strbuf_cat(b, ent);
            i++;
        } else if (c == '\t' || c == '\n' || c == '\r') {
            strbuf_add(b, &c, 1);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            strbuf_cat(b, "\xef\xbf\xbd");
            i++;
        } else {
            size_t len = utf8_valid_len(p + i, n - i);
            if (len) strbuf_add(b, p + i, len);
            else strbuf_cat(b, "\xef\xbf\xbd");
            i += len ? len : 1;
        }
    }
}

void html_number(char *buf, size_t cap, double v) {
    if (!isfinite(v)) {
        snprintf(buf, cap, "%s", isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf");
        return;
    }
    if (v == 0) v = 0; /* no "-0" */
    snprintf(buf, cap, "%.4g", v);
    char *e = strchr(buf, 'e');
    if (!e) return;
    /* "2e-06" -> "2e-6", "1.5e+07" -> "1.5e7" */
    char *d = e + 1, *src = e + 1;
    if (*src == '+') src++;
    else if (*src == '-') *d++ = *src++;
    while (*src == '0' && src[1]) src++;
    memmove(d, src, strlen(src) + 1);
}

/* ---- geometry ---- */

enum { W = 560, H = 300, ML = 64, MR = 16, MB = 42, LEGEND_ROW = 18, MAX_POINTS = 800, SMOOTH_FROM = 60, DOTS_UP_TO = 40 };

static const char *const palette[] = {"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c",
                                      "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"};

const char *plot_colour(size_t i) { return palette[i % (sizeof palette / sizeof palette[0])]; }

typedef struct {
    double x0, x1, y0, y1;  /* data range */
    double top, bottom;     /* plot area in pixels */
} Frame;

static double px(const Frame *f, double x) { return ML + (x - f->x0) / (f->x1 - f->x0) * (W - ML - MR); }
static double py(const Frame *f, double y) { return f->bottom - (y - f->y0) / (f->y1 - f->y0) * (f->bottom - f->top); }

/* A step of 1, 2 or 5 times a power of ten giving about `ticks` intervals. */
static double nice_step(double range, int ticks) {
    double raw = range / ticks, mag = pow(10, floor(log10(raw))), norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/* A tick label: as many decimals as the step needs. */
static void tick_label(char *buf, size_t cap, double v, double step) {
    if (fabs(v) < step * 1e-9) {
        snprintf(buf, cap, "0");
        return;
    }
    double big = fabs(v);
    if (big >= 1e6 || (step < 1e-3 && v != 0)) {
        html_number(buf, cap, v);
        return;
    }
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, cap, "%.*f", dec, v);
}

static void widen(double *lo, double *hi) {
    if (*hi > *lo) return;
    double pad = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 1;
    *lo -= pad;
    *hi += pad;
}

/* ---- series helpers ---- */

/* Centered moving average over `win` points (shrinking at the ends). */
static void smooth(const double *y, size_t n, size_t win, double *out) {
    double *pre = xmalloc((n + 1) * sizeof(double));
    pre[0] = 0;
    for (size_t i = 0; i < n; i++) pre[i + 1] = pre[i] + y[i];
    size_t h = win / 2;
    for (size_t i = 0; i < n; i++) {
        size_t a = i >= h ? i - h : 0, z = i + h + 1 < n ? i + h + 1 : n;
        out[i] = (pre[z] - pre[a]) / (double)(z - a);
    }
    free(pre);
}

/* Appends "x,y x,y ..." for n points, averaged in buckets when there are
 * more than MAX_POINTS; `reverse` walks backwards (for polygons). */
static void points(StrBuf *b, const Frame *f, const double *x, const double *y, size_t n, int reverse) {
    size_t bucket = (n + MAX_POINTS - 1) / MAX_POINTS;
    if (bucket < 1) bucket = 1;
    size_t nb = (n + bucket - 1) / bucket;
    for (size_t k = 0; k < nb; k++) {
        size_t j = reverse ? nb - 1 - k : k;
        size_t a = j * bucket, z = a + bucket < n ? a + bucket : n;
        double sx = 0, sy = 0;
        for (size_t i = a; i < z; i++) sx += x[i], sy += y[i];
        html_printf(b, "%.1f,%.1f ", px(f, sx / (double)(z - a)), py(f, sy / (double)(z - a)));
    }
}

/* The data range of every drawn value; stacked series add up. */
static int data_range(const Plot *p, const double *stack_top, size_t n_stack, Frame *f) {
    int any = 0;
    f->x0 = f->y0 = INFINITY;
    f->x1 = f->y1 = -INFINITY;
    for (size_t s = 0; s < p->n_series; s++) {
        const PlotSeries *ps = &p->series[s];
        for (size_t i = 0; i < ps->n; i++) {
            double lo = ps->y[i], hi = ps->y[i];
            if (ps->stack) lo = 0, hi = stack_top[i < n_stack ? i : 0];
            if (ps->lo) lo = fmin(lo, ps->lo[i]), hi = fmax(hi, ps->hi[i]);
            f->x0 = fmin(f->x0, ps->x[i]);
            f->x1 = fmax(f->x1, ps->x[i]);
            f->y0 = fmin(f->y0, lo);
            f->y1 = fmax(f->y1, hi);
            any = 1;
        }
    }
    return any;
}

/* Legend items left to right, wrapping; returns the rows used. */
static int legend(StrBuf *b, const Plot *p, int draw) {
    double x = ML, y = 14;
    int rows = 1;
    for (size_t s = 0; s < p->n_series; s++) {
        if (p->series[s].n == 0) continue;
        double w = 22 + 7.0 * (double)strlen(p->series[s].label) + 14;
        if (x + w > W - MR && x > ML) {
            x = ML;
            y += LEGEND_ROW;
            rows++;
        }
        if (draw) {
            int stack = p->series[s].stack;
            html_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" height=\"%d\" rx=\"2\" fill=\"%s\"/>", x,
                        y - (stack ? 9 : 6), stack ? 10 : 4, plot_colour(s));
            html_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">", x + 22, y);
            html_escape(b, p->series[s].label);
            strbuf_cat(b, "</text>");
        }
        x += w;
    }
    return rows;
}

static void axes(StrBuf *b, const Plot *p, const Frame *f) {
    char lab[48];
    double ystep = nice_step(f->y1 - f->y0, 5);
    for (double v = ceil(f->y0 / ystep - 1e-9) * ystep; v <= f->y1 + ystep * 1e-9; v += ystep) {
        double y = py(f, v);
        tick_label(lab, sizeof lab, v, ystep);
        html_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"gl\"/>", ML, W - MR, y, y);
        html_printf(b, "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>", ML - 6, y + 4, lab);
    }
    double xstep = nice_step(f->x1 - f->x0, 6);
    if (xstep < 1) xstep = 1;
    for (double v = ceil(f->x0 / xstep - 1e-9) * xstep; v <= f->x1 + xstep * 1e-9; v += xstep) {
        double x = px(f, v);
        tick_label(lab, sizeof lab, v, xstep);
        html_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"gl\"/>", x, x, f->top, f->bottom);
        html_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">%s</text>", x,
                    f->bottom + 16, lab);
    }
    html_printf(b, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" class=\"frame\"/>", ML, f->top,
                W - ML - MR, f->bottom - f->top);
    html_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">step</text>",
                (ML + W - MR) / 2.0, H - 6);
    if (p->y_unit) {
        html_printf(b, "<text transform=\"translate(14 %.1f) rotate(-90)\" class=\"axis\" text-anchor=\"middle\">",
                    (f->top + f->bottom) / 2);
        html_escape(b, p->y_unit);
        strbuf_cat(b, "</text>");
    }
}

/* A hover title: "label: last value". */
static void hover(StrBuf *b, const PlotSeries *s) {
    char v[32];
    html_number(v, sizeof v, s->y[s->n - 1]);
    strbuf_cat(b, "<title>");
    html_escape(b, s->label);
    html_printf(b, ": %s at step %.0f</title>", v, s->x[s->n - 1]);
}

static void draw_line(StrBuf *b, const Frame *f, const PlotSeries *s, const char *colour) {
    if (s->lo) {
        html_printf(b, "<polygon fill=\"%s\" fill-opacity=\"0.15\" points=\"", colour);
        points(b, f, s->x, s->hi, s->n, 0);
        points(b, f, s->x, s->lo, s->n, 1);
        strbuf_cat(b, "\"/>");
    }
    const double *y = s->y;
    double *sm = NULL;
    if (s->n > SMOOTH_FROM) {
        sm = xmalloc(s->n * sizeof(double));
        smooth(s->y, s->n, s->n / 30 | 1, sm);
        html_printf(b, "<polyline class=\"raw\" stroke=\"%s\" points=\"", colour);
        points(b, f, s->x, s->y, s->n, 0);
        strbuf_cat(b, "\"/>");
        y = sm;
    }
    html_printf(b, "<polyline class=\"line\" stroke=\"%s\" points=\"", colour);
    points(b, f, s->x, y, s->n, 0);
    strbuf_cat(b, "\">");
    hover(b, s);
    strbuf_cat(b, "</polyline>");
    if (s->n <= DOTS_UP_TO)
        for (size_t i = 0; i < s->n; i++)
            html_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.8\" fill=\"%s\"/>", px(f, s->x[i]), py(f, s->y[i]),
                        colour);
    free(sm);
}

void plot_svg(StrBuf *b, const Plot *p) {
    /* cumulative tops of the stacked series (they share x) */
    size_t n_stack = 0;
    for (size_t s = 0; s < p->n_series; s++)
        if (p->series[s].stack && p->series[s].n) n_stack = p->series[s].n;
    double *top = xcalloc(n_stack ? n_stack : 1, sizeof(double));
    double *base = xcalloc(n_stack ? n_stack : 1, sizeof(double));
    for (size_t s = 0; s < p->n_series; s++)
        if (p->series[s].stack)
            for (size_t i = 0; i < p->series[s].n && i < n_stack; i++) top[i] += p->series[s].y[i];
    Frame f;
    if (!data_range(p, top, n_stack, &f)) {
        free(top);
        free(base);
        return;
    }
    widen(&f.x0, &f.x1);
    widen(&f.y0, &f.y1);
    if (p->unit_range && f.y0 >= 0 && f.y1 <= 1) {
        f.y0 = 0, f.y1 = 1;
    } else { /* a little air so that a line at an extreme is not drawn on the frame; 0 stays the floor */
        double pad = 0.04 * (f.y1 - f.y0);
        f.y0 = f.y0 == 0 ? 0 : f.y0 - pad;
        f.y1 += pad;
    }
    double ystep = nice_step(f.y1 - f.y0, 5);
    f.y0 = floor(f.y0 / ystep + 1e-9) * ystep;
    f.y1 = ceil(f.y1 / ystep - 1e-9) * ystep;
    int rows = legend(b, p, 0);
    f.top = 8 + rows * LEGEND_ROW;
    f.bottom = H - MB;

    strbuf_cat(b, "<figure class=\"plot\"><figcaption>");
    html_escape(b, p->title);
    html_printf(b, "</figcaption><svg viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", W, H);
    html_escape(b, p->title);
    strbuf_cat(b, "\">");
    legend(b, p, 1);
    axes(b, p, &f);
    for (size_t s = 0; s < p->n_series; s++) {
        const PlotSeries *ps = &p->series[s];
        if (!ps->stack || ps->n != n_stack) continue;
        for (size_t i = 0; i < n_stack; i++) top[i] = base[i] + ps->y[i];
        html_printf(b, "<polygon fill=\"%s\" fill-opacity=\"0.8\" points=\"", plot_colour(s));
        points(b, &f, ps->x, top, n_stack, 0);
        points(b, &f, ps->x, base, n_stack, 1);
        strbuf_cat(b, "\">");
        hover(b, ps);
        strbuf_cat(b, "</polygon>");
        memcpy(base, top, n_stack * sizeof(double));
    }
    for (size_t s = 0; s < p->n_series; s++)
        if (!p->series[s].stack && p->series[s].n) draw_line(b, &f, &p->series[s], plot_colour(s));
    strbuf_cat(b, "</svg></figure>\n");
    free(top);
    free(base);
}

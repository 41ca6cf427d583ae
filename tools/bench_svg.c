/* A small SVG writer for benchmark plots: panels side by side, each with log-log axes
 * (ticks, labels, grid), one polyline with point markers per series, and a legend.
 * Written by hand so a plot needs nothing but ssmrt itself. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define SVG_PANEL_W 600
#define SVG_PANEL_H 440
#define SVG_TITLE_H 36
#define SVG_ML 84 /* margins inside a panel: room for tick labels and axis titles */
#define SVG_MR 24
#define SVG_MT 36
#define SVG_MB 56

static const char *const svg_palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                          "#9467bd", "#8c564b", "#e377c2", "#17becf"};
#define SVG_N_COLORS ((int)(sizeof svg_palette / sizeof svg_palette[0]))

/* Text content and attribute values: the XML specials escaped. */
static void svg_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            /* Control characters are not allowed in XML 1.0 text. */
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, f);
        }
    }
}

typedef struct svg_axis {
    double lo, hi;  /* data range shown (positive) */
    int pow2;       /* ticks at powers of two */
    bench_axis_unit unit;
} svg_axis;

static int svg_is_pow2(double v)
{
    if (!(v >= 1) || v > 9e15 || v != floor(v))
        return 0;
    uint64_t u = (uint64_t)v;
    return (u & (u - 1)) == 0;
}

/* The range of one axis over every series: whole decades, or whole powers of two for
 * counts that are all powers of two (sequence lengths that double). */
static int svg_axis_fit(svg_axis *a, const bench_panel *p, int use_y, bench_axis_unit unit)
{
    double lo = INFINITY, hi = -INFINITY;
    int all_pow2 = 1;
    for (int s = 0; s < p->n_series; s++)
        for (int i = 0; i < p->series[s].n; i++) {
            double v = use_y ? p->series[s].y[i] : p->series[s].x[i];
            double other = use_y ? p->series[s].x[i] : p->series[s].y[i];
            if (!(v > 0) || !isfinite(v) || !(other > 0) || !isfinite(other))
                continue;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            all_pow2 &= svg_is_pow2(v);
        }
    if (!(lo <= hi))
        return 0;
    a->unit = unit;
    a->pow2 = unit == BENCH_UNIT_COUNT && all_pow2;
    if (a->pow2) {
        a->lo = exp2(floor(log2(lo)));
        a->hi = exp2(ceil(log2(hi)));
        if (a->hi <= a->lo)
            a->hi = a->lo * 2;
    } else {
        a->lo = pow(10, floor(log10(lo)));
        a->hi = pow(10, ceil(log10(hi)));
        if (a->hi <= a->lo)
            a->hi = a->lo * 10;
    }
    return 1;
}

static double svg_map(const svg_axis *a, double v, double p0, double p1)
{
    double t = (log(v) - log(a->lo)) / (log(a->hi) - log(a->lo));
    return p0 + t * (p1 - p0);
}

static void svg_label(char *buf, size_t cap, double v, bench_axis_unit unit)
{
    switch (unit) {
    case BENCH_UNIT_MS:
        if (v < 1e-3)
            snprintf(buf, cap, "%g ns", v * 1e6);
        else if (v < 1)
            snprintf(buf, cap, "%g us", v * 1e3);
        else if (v < 1e3)
            snprintf(buf, cap, "%g ms", v);
        else
            snprintf(buf, cap, "%g s", v * 1e-3);
        return;
    case BENCH_UNIT_BYTES:
        if (v >= 1e12)
            snprintf(buf, cap, "%g TB", v * 1e-12);
        else if (v >= 1e9)
            snprintf(buf, cap, "%g GB", v * 1e-9);
        else if (v >= 1e6)
            snprintf(buf, cap, "%g MB", v * 1e-6);
        else if (v >= 1e3)
            snprintf(buf, cap, "%g kB", v * 1e-3);
        else
            snprintf(buf, cap, "%g B", v);
        return;
    case BENCH_UNIT_COUNT:
        if (svg_is_pow2(v) && v >= 1048576)
            snprintf(buf, cap, "%gM", v / 1048576);
        else if (svg_is_pow2(v) && v >= 1024)
            snprintf(buf, cap, "%gK", v / 1024);
        else if (v >= 1e6)
            snprintf(buf, cap, "%gM", v * 1e-6);
        else if (v >= 1e4)
            snprintf(buf, cap, "%gk", v * 1e-3);
        else
            snprintf(buf, cap, "%g", v);
        return;
    }
}

/* Ticks of an axis: powers of two (every k-th labelled so at most 9 labels), or
 * decades (with 2 and 5 in between when the range is at most two decades). */
static int svg_ticks(const svg_axis *a, double *t, int *major, int cap)
{
    int n = 0;
    if (a->pow2) {
        int e0 = (int)lround(log2(a->lo)), e1 = (int)lround(log2(a->hi));
        int step = (e1 - e0 + 8) / 9;
        step = step < 1 ? 1 : step;
        for (int e = e0; e <= e1 && n < cap; e++) {
            t[n] = exp2(e);
            major[n++] = (e - e0) % step == 0;
        }
        return n;
    }
    int d0 = (int)lround(log10(a->lo)), d1 = (int)lround(log10(a->hi));
    int fine = d1 - d0 <= 2;
    int step = (d1 - d0 + 8) / 9;
    step = step < 1 ? 1 : step;
    for (int d = d0; d <= d1 && n < cap; d++) {
        t[n] = pow(10, d);
        major[n++] = (d - d0) % step == 0;
        if (fine && d < d1)
            for (int m = 2; m <= 5 && n < cap; m += 3) {
                t[n] = m * pow(10, d);
                major[n++] = 1;
            }
    }
    return n;
}

static void svg_panel(FILE *f, const bench_panel *p, double ox, double oy)
{
    const double x0 = ox + SVG_ML, x1 = ox + SVG_PANEL_W - SVG_MR;
    const double y0 = oy + SVG_PANEL_H - SVG_MB, y1 = oy + SVG_MT; /* y grows downwards */
    char lab[48];

    fprintf(f, "<g>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"15\" "
               "font-weight=\"bold\">", (x0 + x1) / 2, oy + 22.0);
    svg_text(f, p->title);
    fputs("</text>\n", f);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"#333\"/>\n", x0, y1, x1 - x0, y0 - y1);

    svg_axis ax, ay;
    if (!svg_axis_fit(&ax, p, 0, p->xunit) || !svg_axis_fit(&ay, p, 1, p->yunit)) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">no data"
                   "</text>\n</g>\n", (x0 + x1) / 2, (y0 + y1) / 2);
        return;
    }
    double t[64];
    int major[64];
    int n = svg_ticks(&ax, t, major, 64);
    for (int i = 0; i < n; i++) {
        double x = svg_map(&ax, t[i], x0, x1);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x,
                y0, x, y1);
        if (major[i]) {
            svg_label(lab, sizeof lab, t[i], ax.unit);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">", x,
                    y0 + 16);
            svg_text(f, lab);
            fputs("</text>\n", f);
        }
    }
    n = svg_ticks(&ay, t, major, 64);
    for (int i = 0; i < n; i++) {
        double y = svg_map(&ay, t[i], y0, y1);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x0,
                y, x1, y);
        if (major[i]) {
            svg_label(lab, sizeof lab, t[i], ay.unit);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">", x0 - 6,
                    y + 4);
            svg_text(f, lab);
            fputs("</text>\n", f);
        }
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">",
            (x0 + x1) / 2, y0 + 40);
    svg_text(f, p->xlabel);
    fputs("</text>\n", f);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" "
               "transform=\"rotate(-90 %.1f %.1f)\">", ox + 18, (y0 + y1) / 2, ox + 18,
            (y0 + y1) / 2);
    svg_text(f, p->ylabel);
    fputs("</text>\n", f);

    for (int s = 0; s < p->n_series; s++) {
        const bench_series *se = &p->series[s];
        const char *color = svg_palette[s % SVG_N_COLORS];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", color,
                se->dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (int i = 0; i < se->n; i++)
            if (se->x[i] > 0 && se->y[i] > 0 && isfinite(se->x[i]) && isfinite(se->y[i]))
                fprintf(f, "%.1f,%.1f ", svg_map(&ax, se->x[i], x0, x1),
                        svg_map(&ay, se->y[i], y0, y1));
        fputs("\"/>\n", f);
        for (int i = 0; i < se->n; i++)
            if (se->x[i] > 0 && se->y[i] > 0 && isfinite(se->x[i]) && isfinite(se->y[i]))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                        svg_map(&ax, se->x[i], x0, x1), svg_map(&ay, se->y[i], y0, y1), color);
        /* Legend, top left inside the plot area. */
        double ly = y1 + 16 + 18.0 * s;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"2\"%s/>\n", x0 + 10, ly - 4, x0 + 34, ly - 4, color,
                se->dashed ? " stroke-dasharray=\"6 4\"" : "");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", x0 + 40, ly);
        svg_text(f, se->label);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
}

int bench_svg_write(const char *path, const char *title, const bench_panel *panels,
                    int n_panels)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        fprintf(stderr, "ssmrt bench: out of host memory writing %s\n", path);
        return 1;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "w");
    int bad = !f;
    if (f) {
        int w = SVG_PANEL_W * (n_panels > 0 ? n_panels : 1), h = SVG_PANEL_H + SVG_TITLE_H;
        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
                   "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n"
                   "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-size=\"17\">",
                w, h, w, h, w, h, w / 2);
        svg_text(f, title);
        fputs("</text>\n", f);
        for (int i = 0; i < n_panels; i++)
            svg_panel(f, &panels[i], (double)SVG_PANEL_W * i, SVG_TITLE_H);
        fputs("</svg>\n", f);
        bad = ferror(f);
        bad |= fclose(f) != 0;
    }
    if (!bad && rename(tmp, path) != 0)
        bad = 1;
    if (bad) {
        fprintf(stderr, "ssmrt bench: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return bad;
}

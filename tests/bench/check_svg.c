/* Checks that a `ssmrt bench scaling --plot` file is well-formed XML with an <svg> root
 * and holds enough drawn lines. A small checker of its own, so the test needs no XML
 * library: it walks the text and enforces what well-formedness requires of the markup
 * the plot uses (declaration, comments, elements, quoted attributes, entities):
 * balanced and properly nested tags, one root element, no stray '<' or '&'. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_check.h"

#define SVG_MAX_DEPTH 64

typedef struct svg_state {
    const char *p, *end;
    char stack[SVG_MAX_DEPTH][32];
    int depth;
    int roots;
    int polylines; /* <polyline> elements with at least two points */
    int texts;
    const char *error;
} svg_state;

static int svg_name_start(int c)
{
    return isalpha(c) || c == '_' || c == ':';
}

static int svg_name_char(int c)
{
    return isalnum(c) || c == '_' || c == ':' || c == '-' || c == '.';
}

/* An entity reference at s->p ('&'): one of the five predefined or a character
 * reference. */
static int svg_entity(svg_state *s)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (int i = 0; i < 5; i++) {
        size_t n = strlen(named[i]);
        if ((size_t)(s->end - s->p) >= n && !memcmp(s->p, named[i], n)) {
            s->p += n;
            return 1;
        }
    }
    const char *q = s->p + 1;
    if (q < s->end && *q == '#') {
        q++;
        int hex = q < s->end && *q == 'x';
        q += hex;
        const char *digits = q;
        while (q < s->end && (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q)))
            q++;
        if (q > digits && q < s->end && *q == ';') {
            s->p = q + 1;
            return 1;
        }
    }
    s->error = "'&' that does not start an entity";
    return 0;
}

static int svg_read_name(svg_state *s, char *out, size_t cap)
{
    const char *b = s->p;
    if (s->p >= s->end || !svg_name_start((unsigned char)*s->p)) {
        s->error = "expected a name";
        return 0;
    }
    while (s->p < s->end && svg_name_char((unsigned char)*s->p))
        s->p++;
    size_t n = (size_t)(s->p - b);
    if (n >= cap) {
        s->error = "name too long";
        return 0;
    }
    memcpy(out, b, n);
    out[n] = 0;
    return 1;
}

static void svg_skip_space(svg_state *s)
{
    while (s->p < s->end && isspace((unsigned char)*s->p))
        s->p++;
}

/* Number of x,y pairs in a points attribute value [b, e). */
static int svg_count_points(const char *b, const char *e)
{
    int nums = 0;
    while (b < e) {
        char *next = NULL;
        char buf[64];
        size_t n = (size_t)(e - b) < sizeof buf - 1 ? (size_t)(e - b) : sizeof buf - 1;
        memcpy(buf, b, n);
        buf[n] = 0;
        strtod(buf, &next);
        if (next == buf) {
            b++;
            continue;
        }
        nums++;
        b += next - buf;
    }
    return nums / 2;
}

/* A start or empty-element tag after '<'. */
static int svg_start_tag(svg_state *s)
{
    char name[32], attr[32];
    if (!svg_read_name(s, name, sizeof name))
        return 0;
    int points = 0;
    for (;;) {
        svg_skip_space(s);
        if (s->p >= s->end) {
            s->error = "unterminated tag";
            return 0;
        }
        if (*s->p == '/' || *s->p == '>')
            break;
        if (!svg_read_name(s, attr, sizeof attr))
            return 0;
        svg_skip_space(s);
        if (s->p >= s->end || *s->p != '=') {
            s->error = "attribute without '='";
            return 0;
        }
        s->p++;
        svg_skip_space(s);
        if (s->p >= s->end || (*s->p != '"' && *s->p != '\'')) {
            s->error = "attribute value not quoted";
            return 0;
        }
        char q = *s->p++;
        const char *vb = s->p;
        while (s->p < s->end && *s->p != q) {
            if (*s->p == '<') {
                s->error = "'<' inside an attribute value";
                return 0;
            }
            if (*s->p == '&') {
                if (!svg_entity(s))
                    return 0;
                continue;
            }
            s->p++;
        }
        if (s->p >= s->end) {
            s->error = "unterminated attribute value";
            return 0;
        }
        if (!strcmp(attr, "points"))
            points = svg_count_points(vb, s->p);
        s->p++;
    }
    if (!strcmp(name, "polyline") && points >= 2)
        s->polylines++;
    if (!strcmp(name, "text"))
        s->texts++;
    if (s->depth == 0) {
        if (++s->roots > 1) {
            s->error = "more than one root element";
            return 0;
        }
        if (strcmp(name, "svg")) {
            s->error = "the root element is not <svg>";
            return 0;
        }
    }
    if (*s->p == '/') {
        if (s->p + 1 >= s->end || s->p[1] != '>') {
            s->error = "'/' not followed by '>'";
            return 0;
        }
        s->p += 2;
        return 1;
    }
    s->p++;
    if (s->depth >= SVG_MAX_DEPTH) {
        s->error = "elements nested too deeply";
        return 0;
    }
    memcpy(s->stack[s->depth++], name, sizeof name);
    return 1;
}

static int svg_end_tag(svg_state *s)
{
    char name[32];
    if (!svg_read_name(s, name, sizeof name))
        return 0;
    svg_skip_space(s);
    if (s->p >= s->end || *s->p != '>') {
        s->error = "unterminated end tag";
        return 0;
    }
    s->p++;
    if (s->depth == 0 || strcmp(s->stack[s->depth - 1], name)) {
        s->error = "end tag does not match the open element";
        return 0;
    }
    s->depth--;
    return 1;
}

/* "<?...?>" or "<!--...-->" at s->p. */
static int svg_skip_special(svg_state *s, const char *open, const char *close)
{
    size_t n = strlen(open);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, open, n))
        return 0;
    const char *c = strstr(s->p + n, close);
    if (!c) {
        s->error = "unterminated declaration or comment";
        return -1;
    }
    s->p = c + strlen(close);
    return 1;
}

static int svg_walk(svg_state *s)
{
    while (s->p < s->end) {
        if (*s->p == '&') {
            if (!svg_entity(s))
                return 0;
            continue;
        }
        if (*s->p != '<') {
            if (s->depth == 0 && !isspace((unsigned char)*s->p)) {
                s->error = "text outside the root element";
                return 0;
            }
            s->p++;
            continue;
        }
        int r = svg_skip_special(s, "<?", "?>");
        if (!r)
            r = svg_skip_special(s, "<!--", "-->");
        if (r < 0)
            return 0;
        if (r)
            continue;
        s->p++;
        if (s->p < s->end && *s->p == '/') {
            s->p++;
            if (!svg_end_tag(s))
                return 0;
        } else if (!svg_start_tag(s)) {
            return 0;
        }
    }
    if (s->depth) {
        s->error = "elements left open at the end";
        return 0;
    }
    if (!s->roots) {
        s->error = "no root element";
        return 0;
    }
    return 1;
}

int bench_check_svg(const char *path, int min_polylines)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = size > 0 ? malloc((size_t)size + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "%s: cannot read\n", path);
        fclose(f);
        free(buf);
        return 1;
    }
    fclose(f);
    buf[size] = 0;
    svg_state s;
    memset(&s, 0, sizeof s);
    s.p = buf;
    s.end = buf + size;
    int ok = svg_walk(&s);
    if (!ok)
        fprintf(stderr, "%s: not well-formed at byte %ld: %s\n", path, (long)(s.p - buf), s.error);
    else if (s.polylines < min_polylines)
        fprintf(stderr, "%s: %d polylines with two or more points, expected at least %d\n", path,
                s.polylines, min_polylines);
    else if (s.texts < 8)
        fprintf(stderr, "%s: only %d text elements (titles, tick labels, legend expected)\n",
                path, s.texts);
    else
        printf("%s: well-formed SVG, %d polylines, %d text elements\n", path, s.polylines,
               s.texts);
    free(buf);
    return !(ok && s.polylines >= min_polylines && s.texts >= 8);
}

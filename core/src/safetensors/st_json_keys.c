/*
 * Duplicate-key detection for JSON objects.
 *
 * json-c keeps only the last value of a repeated key, so {"w": A, "w": B} would load B
 * without a word. This pass walks the same text json-c accepted, tracking only string
 * boundaries and bracket nesting (json-c has already judged the grammar), collects the
 * keys of each object, decodes any escaped key with json-c itself (so "\u0061" and "a"
 * compare equal), and refuses an object that names a key twice. Every read is bounded
 * by len, and anything outside the JSON token alphabet is refused, so the pass is safe
 * on its own even if json-c's notion of strict ever loosens.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "safetensors/st_json.h"

#define ST_JSON_MAX_NEST 64 /* json-c stops at JSON_TOKENER_DEFAULT_DEPTH (32) */

typedef struct st_span {
    const char *p; /* key bytes: raw between the quotes, or decoded */
    size_t n;
} st_span;

typedef struct st_frame {
    int is_object;
    st_span *keys;
    size_t nkeys, cap;
} st_frame;

typedef struct st_scan {
    const char *label;
    st_frame frames[ST_JSON_MAX_NEST];
    int depth; /* frames in use */
    json_tokener *tok;
    st_span *sorted; /* scratch for check_object, reused across objects */
    size_t sorted_cap;
} st_scan;

static int span_cmp(const void *a, const void *b)
{
    const st_span *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);
    if (c != 0)
        return c;
    return (x->n > y->n) - (x->n < y->n);
}

static ssmrt_status push_key(st_scan *sc, st_frame *f, const char *p, size_t n)
{
    if (f->nkeys == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        st_span *k = ssmrt__realloc(f->keys, cap * sizeof *k);
        if (!k)
            return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "%s", sc->label);
        f->keys = k;
        f->cap = cap;
    }
    f->keys[f->nkeys].p = p;
    f->keys[f->nkeys].n = n;
    f->nkeys++;
    return SSMRT_OK;
}

/* The key of the parent object whose value is the object at depth d, for messages. */
static void describe_parent(const st_scan *sc, int d, const char **p, int *n)
{
    *p = NULL;
    *n = 0;
    if (d >= 1 && sc->frames[d - 1].is_object && sc->frames[d - 1].nkeys > 0) {
        const st_span *k = &sc->frames[d - 1].keys[sc->frames[d - 1].nkeys - 1];
        *p = k->p;
        *n = k->n > 120 ? 120 : (int)k->n;
    }
}

/* Checks the keys of the object closing at depth d (frames[d]): escaped keys are decoded
 * (and refused if they hold a NUL), then all are sorted and compared. */
static ssmrt_status check_object(st_scan *sc, int d)
{
    st_frame *f = &sc->frames[d];
    if (f->nkeys == 0)
        return SSMRT_OK;
    ssmrt_status st = SSMRT_OK;
    char **decoded = NULL; /* copies of escaped keys, made only when there are any */
    if (sc->sorted_cap < f->nkeys) {
        st_span *p = ssmrt__realloc(sc->sorted, f->nkeys * sizeof *p);
        if (!p)
            return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "%s", sc->label);
        sc->sorted = p;
        sc->sorted_cap = f->nkeys;
    }
    st_span *sorted = sc->sorted;
    for (size_t i = 0; i < f->nkeys; i++) {
        sorted[i] = f->keys[i];
        if (!memchr(sorted[i].p, '\\', sorted[i].n))
            continue;
        if (!decoded && !(decoded = ssmrt__calloc(f->nkeys, sizeof *decoded))) {
            st = ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "%s", sc->label);
            goto done;
        }
        /* Let json-c decode the escapes: the raw key plus its two quotes. */
        if (!sc->tok && !(sc->tok = json_tokener_new())) {
            st = ssmrt__fail(SSMRT_ERR_OUT_OF_MEMORY, "%s: out of memory decoding a key",
                             sc->label);
            goto done;
        }
        json_tokener_reset(sc->tok);
        json_object *s = json_tokener_parse_ex(sc->tok, sorted[i].p - 1, (int)sorted[i].n + 2);
        if (!s || !json_object_is_type(s, json_type_string)) {
            json_object_put(s);
            st = ssmrt__fail(SSMRT_ERR_FORMAT, "%s: cannot decode key \"%.*s\"", sc->label,
                             sorted[i].n > 120 ? 120 : (int)sorted[i].n, sorted[i].p);
            goto done;
        }
        size_t n = (size_t)json_object_get_string_len(s);
        const char *v = json_object_get_string(s);
        if (memchr(v, '\0', n)) {
            /* json-c stores keys as C strings, so "a\u0000b" would become "a". */
            json_object_put(s);
            st = ssmrt__fail(SSMRT_ERR_FORMAT, "%s: key \"%.*s\" contains a NUL character",
                             sc->label, sorted[i].n > 120 ? 120 : (int)sorted[i].n,
                             sorted[i].p);
            goto done;
        }
        decoded[i] = ssmrt__malloc(n ? n : 1);
        if (!decoded[i]) {
            json_object_put(s);
            st = ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "%s", sc->label);
            goto done;
        }
        memcpy(decoded[i], v, n);
        json_object_put(s);
        sorted[i].p = decoded[i];
        sorted[i].n = n;
    }
    if (f->nkeys < 2)
        goto done;
    qsort(sorted, f->nkeys, sizeof *sorted, span_cmp);
    for (size_t i = 1; i < f->nkeys; i++) {
        if (span_cmp(&sorted[i - 1], &sorted[i]) != 0)
            continue;
        const char *pp;
        int pn;
        describe_parent(sc, d, &pp, &pn);
        int kn = sorted[i].n > 120 ? 120 : (int)sorted[i].n;
        if (pp)
            st = ssmrt__fail(SSMRT_ERR_FORMAT, "%s: duplicate key \"%.*s\" in \"%.*s\"",
                             sc->label, kn, sorted[i].p, pn, pp);
        else
            st = ssmrt__fail(SSMRT_ERR_FORMAT, "%s: duplicate key \"%.*s\"", sc->label, kn,
                             sorted[i].p);
        goto done;
    }
done:
    if (decoded)
        for (size_t i = 0; i < f->nkeys; i++)
            ssmrt__free(decoded[i]);
    ssmrt__free(decoded);
    return st;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_literal_char(char c)
{
    /* digits, signs, exponent and the letters of true/false/null */
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '+' || c == '-' || c == '.';
}

static ssmrt_status scan(st_scan *sc, const char *t, size_t len)
{
    for (size_t i = 0; i < len;) {
        char c = t[i];
        if (c == '"') {
            size_t j = i + 1;
            while (j < len && t[j] != '"')
                j += (t[j] == '\\') ? 2 : 1;
            if (j >= len)
                return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: unterminated string at byte %zu",
                                   sc->label, i);
            size_t k = j + 1;
            while (k < len && is_ws(t[k]))
                k++;
            if (k < len && t[k] == ':' && sc->depth > 0 && sc->frames[sc->depth - 1].is_object) {
                ssmrt_status st = push_key(sc, &sc->frames[sc->depth - 1], t + i + 1, j - i - 1);
                if (st)
                    return st;
            }
            i = j + 1;
        } else if (c == '{' || c == '[') {
            if (sc->depth == ST_JSON_MAX_NEST)
                return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: nested deeper than %d levels",
                                   sc->label, ST_JSON_MAX_NEST);
            st_frame *f = &sc->frames[sc->depth++];
            f->is_object = (c == '{');
            f->nkeys = 0;
            i++;
        } else if (c == '}' || c == ']') {
            if (sc->depth == 0)
                return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: unbalanced '%c' at byte %zu",
                                   sc->label, c, i);
            if (c == '}') {
                ssmrt_status st = check_object(sc, sc->depth - 1);
                if (st)
                    return st;
            }
            sc->depth--;
            i++;
        } else if (c == ':' || c == ',' || is_ws(c) || is_literal_char(c)) {
            i++;
        } else {
            return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: invalid JSON: unexpected character 0x%02x at byte %zu",
                               sc->label, (unsigned char)c, i);
        }
    }
    return SSMRT_OK;
}

ssmrt_status ssmrt__json_check_keys(const char *label, const char *text, size_t len)
{
    st_scan sc;
    memset(&sc, 0, sizeof sc);
    sc.label = label;
    ssmrt_status st = scan(&sc, text, len);
    for (int d = 0; d < ST_JSON_MAX_NEST; d++)
        ssmrt__free(sc.frames[d].keys);
    ssmrt__free(sc.sorted);
    if (sc.tok)
        json_tokener_free(sc.tok);
    return st;
}

/* Sessions: the recurrent state of a batch of sequences, and the forward pass over
 * new tokens.
 *
 * State per layer lives in persistent tensors updated in place by the graph: Mamba
 * layers keep the conv window [B, C, W-1] and the SSM state [B, heads, P, N] (their
 * size is fixed, whatever the position); attention layers keep a KV cache
 * [B, max_context, Hkv, Dh] filled up to the position.
 *
 * Prefill and decode run the same graph builder; decode is n = 1. For models without
 * attention the graph does not depend on the position, so graphs are cached by
 * (n, all_logits) and a decode step re-runs the same graph: constant work and memory
 * per token at any position. Prefill graphs (n > 1) are kept only for the chunks of
 * one call, then released with their activation memory. Attention layers read a cache prefix that grows with the
 * position, so their graphs are rebuilt per call. */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "log.h"
#include "ssmrt_backend.h" /* SSMRT_LOG_* levels */
#include "model/model.h"

#define SESSION_CACHE 2
#define SESSION_DEFAULT_CONTEXT 4096

typedef struct session_graph {
    ssmrt_graph *graph;
    ssmrt_tensor *ids;    /* persistent [B, n] i32, uploaded before each compute */
    ssmrt_tensor *logits; /* graph tensor [B, n or 1, V] */
    int64_t n;
    int all_logits;
    uint64_t last_use;
} session_graph;

struct ssmrt_session {
    ssmrt_model *model;
    int64_t batch;
    int64_t max_context;
    int64_t prefill_chunk;
    int64_t pos;
    ssmrt__layer_state *states;
    uint64_t state_bytes; /* per sequence */
    session_graph cache[SESSION_CACHE];
    uint64_t use_clock;
    int32_t *ids_host;    /* [B, chunk] staging */
    float *logits_host;   /* [B, chunk, V] staging */
    size_t ids_cap, logits_cap;
};

static void session_graph_clear(session_graph *sg)
{
    ssmrt_graph_destroy(sg->graph);
    ssmrt_tensor_destroy(sg->ids);
    memset(sg, 0, sizeof *sg);
}

static void session_free(ssmrt_session *s)
{
    if (!s)
        return;
    for (int i = 0; i < SESSION_CACHE; i++)
        session_graph_clear(&s->cache[i]);
    if (s->states) {
        for (int64_t i = 0; i < s->model->hp.n_layers; i++) {
            ssmrt_tensor_destroy(s->states[i].conv);
            ssmrt_tensor_destroy(s->states[i].ssm);
            ssmrt_tensor_destroy(s->states[i].k);
            ssmrt_tensor_destroy(s->states[i].v);
        }
    }
    ssmrt__free(s->states);
    ssmrt__free(s->ids_host);
    ssmrt__free(s->logits_host);
    ssmrt__free(s);
}

static ssmrt_status session_state_tensor(ssmrt_session *s, int ndim, const int64_t *shape,
                                         ssmrt_tensor **out)
{
    ssmrt_status st = ssmrt_tensor_create(s->model->ctx, SSMRT_F32, ndim, shape, out);
    if (st)
        return st;
    uint64_t per_seq = sizeof(float);
    for (int i = 1; i < ndim; i++)
        per_seq *= (uint64_t)shape[i];
    s->state_bytes += per_seq;
    return ssmrt_tensor_zero(*out);
}

static ssmrt_status session_alloc_state(ssmrt_session *s)
{
    const ssmrt__hparams *hp = &s->model->hp;
    const int64_t B = s->batch;
    for (int64_t i = 0; i < hp->n_layers; i++) {
        ssmrt__layer_state *ls = &s->states[i];
        ssmrt_status st = SSMRT_OK;
        if (hp->mixer[i] == SSMRT__MIXER_ATTENTION) {
            const int64_t shape[4] = {B, s->max_context, hp->n_kv_heads, hp->attn_head_dim};
            st = session_state_tensor(s, 4, shape, &ls->k);
            if (!st)
                st = session_state_tensor(s, 4, shape, &ls->v);
        } else {
            /* A kernel of width 1 has no window to carry. */
            if (hp->d_conv > 1)
                st = session_state_tensor(s, 3, (int64_t[]){B, hp->conv_dim, hp->d_conv - 1},
                                          &ls->conv);
            if (!st)
                st = session_state_tensor(
                    s, 4, (int64_t[]){B, hp->n_heads, hp->head_dim, hp->d_state}, &ls->ssm);
        }
        if (st)
            return ssmrt__fail_prefix(st, "session: allocating the state of layer %lld",
                                      (long long)i);
    }
    return SSMRT_OK;
}

SSMRT_API ssmrt_status ssmrt_session_create(ssmrt_model *model, const ssmrt_session_options *opt,
                                            ssmrt_session **out)
{
    if (!out)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_session_create: out is NULL");
    *out = NULL;
    if (!model)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_session_create: model is NULL");
    ssmrt_session_options o = {sizeof o, 1, 0, 0};
    if (opt) {
        if (opt->struct_size < sizeof o)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "ssmrt_session_create: options.struct_size %u is smaller than %zu",
                               opt->struct_size, sizeof o);
        o = *opt;
    }
    if (o.batch < 1)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_session_create: batch %d must be >= 1",
                           o.batch);
    if (o.max_context < 0 || o.max_context > ((int64_t)1 << 40) || o.prefill_chunk < 0)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                           "ssmrt_session_create: max_context (%lld) must be in [0, 2^40] and "
                           "prefill_chunk (%lld) >= 0",
                           (long long)o.max_context, (long long)o.prefill_chunk);

    ssmrt_session *s = ssmrt__calloc(1, sizeof *s);
    if (!s)
        return SSMRT_ERR_OUT_OF_MEMORY;
    s->model = model;
    s->batch = o.batch;
    s->max_context = o.max_context ? o.max_context : SESSION_DEFAULT_CONTEXT;
    s->prefill_chunk = o.prefill_chunk;
    s->states = ssmrt__calloc((size_t)model->hp.n_layers, sizeof *s->states);
    ssmrt_status st = s->states ? session_alloc_state(s) : SSMRT_ERR_OUT_OF_MEMORY;
    if (st) {
        session_free(s);
        return st;
    }
    *out = s;
    return SSMRT_OK;
}

SSMRT_API void ssmrt_session_destroy(ssmrt_session *s)
{
    session_free(s);
}

SSMRT_API ssmrt_status ssmrt_session_reset(ssmrt_session *s)
{
    if (!s)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_session_reset: session is NULL");
    for (int64_t i = 0; i < s->model->hp.n_layers; i++) {
        ssmrt_tensor *ts[4] = {s->states[i].conv, s->states[i].ssm, s->states[i].k, s->states[i].v};
        for (int j = 0; j < 4; j++) {
            ssmrt_status st = ts[j] ? ssmrt_tensor_zero(ts[j]) : SSMRT_OK;
            if (st)
                return st;
        }
    }
    s->pos = 0;
    return SSMRT_OK;
}

SSMRT_API int64_t ssmrt_session_position(const ssmrt_session *s)
{
    return s ? s->pos : 0;
}

SSMRT_API uint64_t ssmrt_session_state_bytes(const ssmrt_session *s)
{
    return s ? s->state_bytes : 0;
}

/* The graph for n new tokens at the current position: from the cache when the model
 * has no attention (the graph is then position independent), else freshly built into
 * the least recently used slot. */
static ssmrt_status session_graph_get(ssmrt_session *s, int64_t n, int all_logits,
                                      session_graph **out)
{
    const int cacheable = s->model->hp.n_attention_layers == 0;
    session_graph *slot = &s->cache[0];
    for (int i = 0; i < SESSION_CACHE; i++) {
        session_graph *c = &s->cache[i];
        if (cacheable && c->graph && c->n == n && c->all_logits == all_logits) {
            c->last_use = ++s->use_clock;
            *out = c;
            return SSMRT_OK;
        }
        if (c->last_use < slot->last_use)
            slot = c;
    }
    session_graph_clear(slot);

    ssmrt_status st = ssmrt_graph_create(s->model->ctx, &slot->graph);
    if (!st)
        st = ssmrt_tensor_create(s->model->ctx, SSMRT_I32, 2, (int64_t[]){s->batch, n}, &slot->ids);
    if (!st) {
        slot->logits = ssmrt_graph_output(
            slot->graph, ssmrt__forward_build(slot->graph, s->model, slot->ids, s->states, s->pos,
                                              all_logits));
        st = ssmrt_graph_status(slot->graph);
        if (!st && !slot->logits)
            st = ssmrt__fail(SSMRT_ERR_INTERNAL, "session: the forward graph has no output");
    }
    if (st) {
        session_graph_clear(slot);
        return st;
    }
    /* The op count is what a step costs in kernel launches on a GPU: worth seeing
     * when tuning the builders (SSMRT_LOG=debug). */
    uint32_t n_ops = 0;
    ssmrt_graph_stats(slot->graph, &n_ops, NULL, NULL);
    ssmrt__log(SSMRT_LOG_DEBUG, "session: forward graph for batch %lld x %lld tokens: %u ops",
               (long long)s->batch, (long long)n, n_ops);
    slot->n = n;
    slot->all_logits = all_logits;
    slot->last_use = ++s->use_clock;
    *out = slot;
    return SSMRT_OK;
}

/* Host staging for one chunk: its ids, and its logits (rows per sequence) unless
 * they can be downloaded straight into the caller's array. */
static ssmrt_status session_reserve(ssmrt_session *s, int64_t chunk, int64_t rows, int64_t vocab)
{
    size_t ids = (size_t)(s->batch * chunk), logits = (size_t)(s->batch * rows * vocab);
    if (ids > s->ids_cap) {
        int32_t *p = ssmrt__realloc(s->ids_host, ids * sizeof *p);
        if (!p)
            return SSMRT_ERR_OUT_OF_MEMORY;
        s->ids_host = p;
        s->ids_cap = ids;
    }
    if (logits > s->logits_cap) {
        float *p = ssmrt__realloc(s->logits_host, logits * sizeof *p);
        if (!p)
            return SSMRT_ERR_OUT_OF_MEMORY;
        s->logits_host = p;
        s->logits_cap = logits;
    }
    return SSMRT_OK;
}

/* One chunk of c tokens starting at column start of tokens [B, n]. */
static ssmrt_status session_chunk(ssmrt_session *s, const int32_t *tokens, int64_t n,
                                  int64_t start, int64_t c, float *logits, float *last_logits)
{
    const int64_t B = s->batch, V = s->model->hp.n_vocab;
    const int all = logits != NULL;
    session_graph *sg = NULL;
    ssmrt_status st = session_graph_get(s, c, all, &sg);
    if (st)
        return st;
    for (int64_t b = 0; b < B; b++)
        memcpy(s->ids_host + b * c, tokens + b * n + start, (size_t)c * sizeof(int32_t));
    st = ssmrt_tensor_upload(sg->ids, s->ids_host, (size_t)(B * c) * sizeof(int32_t));
    if (!st)
        st = ssmrt_graph_compute(sg->graph);
    if (st)
        return st;
    const int64_t rows = all ? c : 1;
    const int last = last_logits && start + c == n;
    if (!all && !last) { /* a prefill chunk whose logits nobody asked for */
        s->pos += c;
        return SSMRT_OK;
    }
    /* One chunk of all logits, or only the last row of each sequence ([B, 1, V] is
     * last_logits' layout): the output goes straight to the caller's array. */
    const int direct = all ? c == n : 1;
    float *dst = direct ? (all ? logits : last_logits) : s->logits_host;
    st = ssmrt_graph_read_f32(sg->graph, sg->logits, dst, (size_t)(B * rows * V));
    if (st)
        return st;
    if (all && !direct)
        for (int64_t b = 0; b < B; b++)
            memcpy(logits + (b * n + start) * V, dst + b * c * V, (size_t)(c * V) * sizeof(float));
    if (last && dst != last_logits)
        for (int64_t b = 0; b < B; b++)
            memcpy(last_logits + b * V, dst + (b * rows + rows - 1) * V, (size_t)V * sizeof(float));
    s->pos += c;
    return SSMRT_OK;
}

SSMRT_API ssmrt_status ssmrt_session_forward(ssmrt_session *s, const int32_t *tokens, int64_t n,
                                             float *logits, float *last_logits)
{
    if (!s || !tokens)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_session_forward: %s is NULL",
                           !s ? "session" : "tokens");
    if (n < 1)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_session_forward: n = %lld must be >= 1",
                           (long long)n);
    const ssmrt__hparams *hp = &s->model->hp;
    for (int64_t i = 0; i < s->batch * n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "ssmrt_session_forward: token %d at sequence %lld, position %lld "
                               "is outside the vocabulary [0, %lld)",
                               tokens[i], (long long)(i / n), (long long)(i % n),
                               (long long)hp->n_vocab);
    if (hp->n_attention_layers > 0 && s->pos + n > s->max_context)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                           "ssmrt_session_forward: position %lld + %lld new tokens exceeds the "
                           "KV cache of %lld tokens (session max_context)",
                           (long long)s->pos, (long long)n, (long long)s->max_context);

    const int64_t chunk = s->prefill_chunk > 0 && s->prefill_chunk < n ? s->prefill_chunk : n;
    const int64_t rows = logits ? (chunk == n ? 0 : chunk) : 1;
    ssmrt_status st = session_reserve(s, chunk, rows, hp->n_vocab);
    for (int64_t start = 0; !st && start < n; start += chunk) {
        const int64_t c = n - start < chunk ? n - start : chunk;
        st = session_chunk(s, tokens, n, start, c, logits, last_logits);
    }
    /* Prefill graphs hold activation arenas proportional to their chunk; release them
     * so decoding keeps only the small decode graph (chunks within this call reused
     * theirs already). */
    for (int i = 0; i < SESSION_CACHE; i++)
        if (s->cache[i].graph && s->cache[i].n > 1)
            session_graph_clear(&s->cache[i]);
    return st;
}

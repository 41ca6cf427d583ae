/*
 * shapes.cu: descriptor helpers and the dimensions of each op.
 *
 * Derived the way ssmrt_backend.h lists kernel-side shapes. With
 * cuda_dispatch_check_bounds (every descriptor inside its buffer) these checks
 * make every kernel's indexing safe whatever the host passes.
 */
#include "cuda_backend.h"

static const char *k_op_names[SSMRT_OP_KIND_COUNT] = {
    "copy", "add", "mul", "scale", "silu", "sigmoid", "softplus", "gelu", "exp",
    "softmax", "rms_norm", "rms_norm_gated", "layer_norm", "matmul", "embedding",
    "topk_route", "selective_scan", "conv1d_causal", "conv_long", "attention"};

const char *cuda_op_name(uint32_t kind) {
    return kind < SSMRT_OP_KIND_COUNT ? k_op_names[kind] : "?";
}

uint32_t cuda_dtype_size(uint32_t dtype) {
    switch (dtype) {
    case SSMRT_F32: return 4;
    case SSMRT_F16: return 2;
    case SSMRT_BF16: return 2;
    case SSMRT_I32: return 4;
    default: return 0;
    }
}

int64_t cuda_desc_numel(const ssmrt_tensor_desc *d) {
    int64_t n = 1;
    for (uint32_t i = 0; i < d->ndim; i++) n *= d->shape[i];
    return n;
}

int64_t cuda_desc_last_dim(const ssmrt_tensor_desc *d) {
    return d->ndim ? d->shape[d->ndim - 1] : 1;
}

#define SHAPE_FAIL(op, fmt, ...) \
    cuda_error(SSMRT_ERR_SHAPE, "cuda: %s: " fmt, cuda_op_name((op)->kind), __VA_ARGS__)

static void shape4(const ssmrt_tensor_desc *d, int64_t s[4]) {
    int pad = 4 - (int)d->ndim;
    for (int i = 0; i < 4; i++) s[i] = i < pad ? 1 : d->shape[i - pad];
}

int cuda_shape_binary(const ssmrt_op *op, int64_t dshape[4], int64_t bshape[4]) {
    int64_t ashape[4];
    if (op->src[1].ndim > 4 || op->src[0].ndim > 4 || op->dst[0].ndim > 4)
        return SHAPE_FAIL(op, "more than %d dims", 4);
    shape4(&op->dst[0], dshape);
    shape4(&op->src[0], ashape);
    shape4(&op->src[1], bshape);
    for (int i = 0; i < 4; i++) {
        if (ashape[i] != dshape[i])
            return SHAPE_FAIL(op, "src0 dim %d is %lld, dst has %lld", i, (long long)ashape[i],
                              (long long)dshape[i]);
        if (bshape[i] != dshape[i] && bshape[i] != 1)
            return SHAPE_FAIL(op, "src1 dim %d is %lld, does not broadcast to %lld", i,
                              (long long)bshape[i], (long long)dshape[i]);
    }
    return 0;
}

int cuda_shape_unary(const ssmrt_op *op, int64_t *n) {
    *n = cuda_desc_numel(&op->dst[0]);
    if (cuda_desc_numel(&op->src[0]) != *n)
        return SHAPE_FAIL(op, "src has %lld elements, dst %lld",
                          (long long)cuda_desc_numel(&op->src[0]), (long long)*n);
    return 0;
}

int cuda_shape_rows(const ssmrt_op *op, int64_t *rows, int64_t *cols) {
    int64_t n = cuda_desc_numel(&op->dst[0]);
    *cols = cuda_desc_last_dim(&op->dst[0]);
    if (*cols <= 0) {
        *rows = 0;
        return 0;
    }
    *rows = n / *cols;
    if (cuda_desc_numel(&op->src[0]) != n || cuda_desc_last_dim(&op->src[0]) != *cols)
        return SHAPE_FAIL(op, "src has %lld elements, dst %lld",
                          (long long)cuda_desc_numel(&op->src[0]), (long long)n);
    uint32_t k = op->kind;
    if (k == SSMRT_OP_RMS_NORM || k == SSMRT_OP_RMS_NORM_GATED || k == SSMRT_OP_LAYER_NORM) {
        uint32_t wi = k == SSMRT_OP_RMS_NORM_GATED ? 2 : 1;
        if (cuda_desc_numel(&op->src[wi]) != *cols)
            return SHAPE_FAIL(op, "weight has %lld elements, rows have %lld",
                              (long long)cuda_desc_numel(&op->src[wi]), (long long)*cols);
        if (k == SSMRT_OP_RMS_NORM_GATED && cuda_desc_numel(&op->src[1]) != n)
            return SHAPE_FAIL(op, "z has %lld elements, x %lld",
                              (long long)cuda_desc_numel(&op->src[1]), (long long)n);
        if (k == SSMRT_OP_LAYER_NORM && cuda_has_src(op, 2) &&
            cuda_desc_numel(&op->src[2]) != *cols)
            return SHAPE_FAIL(op, "bias has %lld elements, rows have %lld",
                              (long long)cuda_desc_numel(&op->src[2]), (long long)*cols);
    }
    return 0;
}

int cuda_shape_norm_group(const ssmrt_op *op, int64_t cols, int64_t *group) {
    /* group_size 0 means one group over the whole row. */
    *group = op->params.norm.group_size > 0 ? op->params.norm.group_size : cols;
    if (op->params.norm.group_size < 0 || (cols > 0 && cols % *group != 0))
        return SHAPE_FAIL(op, "group_size %lld does not divide %lld",
                          (long long)op->params.norm.group_size, (long long)cols);
    return 0;
}

int cuda_shape_matmul(const ssmrt_op *op, int64_t *M, int64_t *N, int64_t *K) {
    const ssmrt_tensor_desc *x = &op->src[0], *w = &op->src[1];
    if (w->ndim != 2) return SHAPE_FAIL(op, "weight has %u dims, must be [N, K]", w->ndim);
    *N = w->shape[0];
    *K = w->shape[1];
    if (cuda_desc_last_dim(x) != *K)
        return SHAPE_FAIL(op, "x last dim %lld, weight K %lld", (long long)cuda_desc_last_dim(x),
                          (long long)*K);
    *M = *K ? cuda_desc_numel(x) / *K : 0;
    if (cuda_desc_numel(&op->dst[0]) != *M * *N || (*N && cuda_desc_last_dim(&op->dst[0]) != *N))
        return SHAPE_FAIL(op, "dst is not [%lld, %lld]", (long long)*M, (long long)*N);
    if (cuda_has_src(op, 2) && cuda_desc_numel(&op->src[2]) != *N)
        return SHAPE_FAIL(op, "bias has %lld elements, N is %lld",
                          (long long)cuda_desc_numel(&op->src[2]), (long long)*N);
    return 0;
}

int cuda_shape_embedding(const ssmrt_op *op, int64_t *M, int64_t *V, int64_t *D) {
    const ssmrt_tensor_desc *t = &op->src[0];
    if (t->ndim != 2) return SHAPE_FAIL(op, "table has %u dims, must be [V, D]", t->ndim);
    *V = t->shape[0];
    *D = t->shape[1];
    *M = cuda_desc_numel(&op->src[1]);
    if (cuda_desc_numel(&op->dst[0]) != *M * *D)
        return SHAPE_FAIL(op, "dst is not [%lld, %lld]", (long long)*M, (long long)*D);
    return 0;
}

int cuda_shape_topk(const ssmrt_op *op, int64_t *T, int64_t *E, int64_t *k) {
    int rc = cuda_shape_rows(op, T, E);
    if (rc) return rc;
    if (op->params.topk.k < 1)
        return cuda_error(SSMRT_ERR_INVALID_ARGUMENT, "cuda: topk_route: k = %d, must be >= 1",
                          (int)op->params.topk.k);
    *k = op->params.topk.k < *E ? op->params.topk.k : *E;
    return 0;
}

int cuda_shape_scan(const ssmrt_op *op, cuda_scan_dims *d) {
    const ssmrt_tensor_desc *u = &op->src[SSMRT_SCAN_U];
    if (u->ndim != 3 && u->ndim != 4)
        return SHAPE_FAIL(op, "u has %u dims, must be [B, L, H, P] or [B, L, D]", u->ndim);
    d->B = u->shape[0];
    d->L = u->shape[1];
    d->H = u->shape[2];
    d->P = u->ndim == 4 ? u->shape[3] : 1;
    int64_t BL = d->B * d->L, BLH = BL * d->H, n_u = BLH * d->P;
    d->N = cuda_desc_last_dim(&op->src[SSMRT_SCAN_B]);
    int64_t nb = cuda_desc_numel(&op->src[SSMRT_SCAN_B]);
    d->G = (BL * d->N) != 0 ? nb / (BL * d->N) : 0;
    if (BL == 0 || d->H == 0 || d->P == 0) {
        d->G = 1; /* nothing to compute; keep the kernels' divisions defined */
        if (d->N <= 0) d->N = 1;
    } else if (d->N <= 0 || d->G <= 0 || nb != BL * d->G * d->N || d->H % d->G != 0) {
        return SHAPE_FAIL(op, "B is not [%lld, %lld, G, N] with G dividing H=%lld",
                          (long long)d->B, (long long)d->L, (long long)d->H);
    }
    if (cuda_desc_numel(&op->src[SSMRT_SCAN_C]) != nb)
        return SHAPE_FAIL(op, "C has %lld elements, B %lld",
                          (long long)cuda_desc_numel(&op->src[SSMRT_SCAN_C]), (long long)nb);
    if (cuda_desc_numel(&op->src[SSMRT_SCAN_DELTA]) != BLH)
        return SHAPE_FAIL(op, "delta is not [B, L, H] = [%lld, %lld, %lld]", (long long)d->B,
                          (long long)d->L, (long long)d->H);
    int64_t na = cuda_desc_numel(&op->src[SSMRT_SCAN_A]);
    d->a_per_head = na == d->H; /* with N == 1 both forms mean the same */
    if (na != d->H && na != d->H * d->N)
        return SHAPE_FAIL(op, "A is neither [H, N] nor [H] (H=%lld, N=%lld)", (long long)d->H,
                          (long long)d->N);
    int64_t ns = d->B * d->H * d->P * d->N;
    if ((cuda_has_src(op, SSMRT_SCAN_D) && cuda_desc_numel(&op->src[SSMRT_SCAN_D]) != d->H) ||
        (cuda_has_src(op, SSMRT_SCAN_DELTA_BIAS) &&
         cuda_desc_numel(&op->src[SSMRT_SCAN_DELTA_BIAS]) != d->H))
        return SHAPE_FAIL(op, "D and delta_bias must have H=%lld elements", (long long)d->H);
    if (cuda_has_src(op, SSMRT_SCAN_Z) && cuda_desc_numel(&op->src[SSMRT_SCAN_Z]) != n_u)
        return SHAPE_FAIL(op, "z has %lld elements, u %lld",
                          (long long)cuda_desc_numel(&op->src[SSMRT_SCAN_Z]), (long long)n_u);
    if ((cuda_has_src(op, SSMRT_SCAN_STATE) && cuda_desc_numel(&op->src[SSMRT_SCAN_STATE]) != ns) ||
        (cuda_has_dst(op, 1) && cuda_desc_numel(&op->dst[1]) != ns))
        return SHAPE_FAIL(op, "state is not [B, H, P, N] = [%lld, %lld, %lld, %lld]",
                          (long long)d->B, (long long)d->H, (long long)d->P, (long long)d->N);
    if (cuda_desc_numel(&op->dst[0]) != n_u)
        return SHAPE_FAIL(op, "y has %lld elements, u %lld",
                          (long long)cuda_desc_numel(&op->dst[0]), (long long)n_u);
    return 0;
}

int cuda_shape_conv(const ssmrt_op *op, cuda_conv_dims *d) {
    const ssmrt_tensor_desc *x = &op->src[SSMRT_CONV_X], *w = &op->src[SSMRT_CONV_W];
    if (w->ndim != 2 || w->shape[1] < 1)
        return SHAPE_FAIL(op, "weight must be [D, W] with W >= 1 (has %u dims)", w->ndim);
    d->D = w->shape[0];
    d->W = w->shape[1];
    if (x->ndim < 2 || x->ndim > 3 || cuda_desc_last_dim(x) != d->D)
        return SHAPE_FAIL(op, "x must be [B, L, D] with D = %lld", (long long)d->D);
    d->B = x->ndim == 3 ? x->shape[0] : 1;
    d->L = x->ndim == 3 ? x->shape[1] : x->shape[0];
    int64_t ns = d->B * d->D * (d->W - 1);
    if (cuda_has_src(op, SSMRT_CONV_BIAS) && cuda_desc_numel(&op->src[SSMRT_CONV_BIAS]) != d->D)
        return SHAPE_FAIL(op, "bias must have D=%lld elements", (long long)d->D);
    if ((cuda_has_src(op, SSMRT_CONV_STATE) && cuda_desc_numel(&op->src[SSMRT_CONV_STATE]) != ns) ||
        (cuda_has_dst(op, 1) && cuda_desc_numel(&op->dst[1]) != ns))
        return SHAPE_FAIL(op, "state is not [B, D, W-1] = [%lld, %lld, %lld]", (long long)d->B,
                          (long long)d->D, (long long)(d->W - 1));
    if (cuda_desc_numel(&op->dst[0]) != cuda_desc_numel(x))
        return SHAPE_FAIL(op, "y has %lld elements, x %lld",
                          (long long)cuda_desc_numel(&op->dst[0]), (long long)cuda_desc_numel(x));
    return 0;
}

int cuda_shape_conv_long(const ssmrt_op *op, int64_t *B, int64_t *L, int64_t *D, int64_t *Lk) {
    const ssmrt_tensor_desc *x = &op->src[0], *k = &op->src[1];
    if (x->ndim != 3 || k->ndim != 2)
        return SHAPE_FAIL(op, "x must be [B, L, D] and kernel [D, Lk] (dims %u, %u)", x->ndim,
                          k->ndim);
    *B = x->shape[0];
    *L = x->shape[1];
    *D = x->shape[2];
    *Lk = k->shape[1];
    if (k->shape[0] != *D || *Lk < *L)
        return SHAPE_FAIL(op, "kernel is [%lld, %lld], needs [%lld, >= %lld]",
                          (long long)k->shape[0], (long long)*Lk, (long long)*D, (long long)*L);
    if (cuda_desc_numel(&op->dst[0]) != cuda_desc_numel(x))
        return SHAPE_FAIL(op, "y has %lld elements, x %lld",
                          (long long)cuda_desc_numel(&op->dst[0]), (long long)cuda_desc_numel(x));
    return 0;
}

int cuda_shape_attention(const ssmrt_op *op, cuda_attn_dims *d) {
    const ssmrt_tensor_desc *q = &op->src[0], *k = &op->src[1], *v = &op->src[2];
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4)
        return SHAPE_FAIL(op, "q, k, v must be 4-d [B, L, H, Dh] (dims %u, %u, %u)", q->ndim,
                          k->ndim, v->ndim);
    d->B = q->shape[0];
    d->Lq = q->shape[1];
    d->Hq = q->shape[2];
    d->Dh = q->shape[3];
    d->Lk = k->shape[1];
    d->Hk = k->shape[2];
    d->Dv = v->shape[3];
    if (k->shape[0] != d->B || v->shape[0] != d->B || v->shape[1] != d->Lk ||
        v->shape[2] != d->Hk || k->shape[3] != d->Dh)
        return SHAPE_FAIL(op, "k and v shapes do not match q (B=%lld)", (long long)d->B);
    if (d->Hk <= 0 || d->Hq % d->Hk != 0 || d->Lk < d->Lq)
        return SHAPE_FAIL(op, "needs Hq %% Hk == 0 and Lk >= Lq (Hq=%lld Hk=%lld Lq=%lld Lk=%lld)",
                          (long long)d->Hq, (long long)d->Hk, (long long)d->Lq, (long long)d->Lk);
    if (cuda_desc_numel(&op->dst[0]) != d->B * d->Lq * d->Hq * d->Dv)
        return SHAPE_FAIL(op, "dst is not [B, Lq, Hq, Dv] = [%lld, %lld, %lld, %lld]",
                          (long long)d->B, (long long)d->Lq, (long long)d->Hq, (long long)d->Dv);
    return 0;
}

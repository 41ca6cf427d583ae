/*
 * shapes.c: descriptor helpers and the dimensions of each op, derived once and
 * shared by the reference and the fast kernels.
 *
 * The host checks shapes before enqueueing; these checks are the plugin's own
 * guard so that a host bug becomes an SSMRT_ERR_SHAPE naming the op, never an
 * out-of-bounds access. Together with cpu_dispatch_check_bounds (every
 * descriptor inside its buffer) they make every kernel's indexing safe.
 *
 * Kernels index tensors by their row-major logical layout (e.g. [B, L, H, P]),
 * so a descriptor may carry the same elements under another number of dims
 * (u as [B, L, D] for Mamba-1); only element counts and the dims named below
 * must agree.
 */
#include "cpu_internal.h"

int64_t cpu_desc_numel(const ssmrt_tensor_desc *d) {
    int64_t n = 1;
    for (uint32_t i = 0; i < d->ndim; i++) n *= d->shape[i];
    return n;
}

int cpu_desc_contiguous(const ssmrt_tensor_desc *d) {
    int64_t expect = 1;
    for (int i = (int)d->ndim - 1; i >= 0; i--) {
        if (d->shape[i] != 1 && d->stride[i] != expect) return 0;
        expect *= d->shape[i];
    }
    return 1;
}

void cpu_desc_shape4(const ssmrt_tensor_desc *d, int64_t shape[4], int64_t stride[4]) {
    int pad = 4 - (int)d->ndim;
    for (int i = 0; i < 4; i++) {
        shape[i] = i < pad ? 1 : d->shape[i - pad];
        stride[i] = i < pad ? 0 : d->stride[i - pad];
    }
}

static const char *k_op_names[SSMRT_OP_KIND_COUNT] = {
    "copy", "add", "mul", "scale", "silu", "sigmoid", "softplus", "gelu", "exp",
    "softmax", "rms_norm", "rms_norm_gated", "layer_norm", "matmul", "embedding",
    "topk_route", "selective_scan", "conv1d_causal", "conv_long", "attention"};

static const char *op_name(const ssmrt_op *op) {
    return op->kind < SSMRT_OP_KIND_COUNT ? k_op_names[op->kind] : "?";
}

static int64_t last_dim(const ssmrt_tensor_desc *d) { return d->ndim ? d->shape[d->ndim - 1] : 1; }

#define SHAPE_FAIL(op, ...) cpu_error(SSMRT_ERR_SHAPE, "cpu: " __VA_ARGS__)

int cpu_shape_unary(const ssmrt_op *op, int64_t *n) {
    *n = cpu_desc_numel(&op->dst[0]);
    if (cpu_desc_numel(&op->src[0]) != *n)
        return SHAPE_FAIL(op, "%s: src has %lld elements, dst %lld", op_name(op),
                          (long long)cpu_desc_numel(&op->src[0]), (long long)*n);
    return 0;
}

int cpu_shape_binary(const ssmrt_op *op, int64_t dshape[4], int64_t bshape[4]) {
    int64_t st[4], ashape[4];
    if (op->src[1].ndim > 4 || op->src[0].ndim > 4 || op->dst[0].ndim > 4)
        return SHAPE_FAIL(op, "%s: more than 4 dims", op_name(op));
    cpu_desc_shape4(&op->dst[0], dshape, st);
    cpu_desc_shape4(&op->src[0], ashape, st);
    cpu_desc_shape4(&op->src[1], bshape, st);
    for (int i = 0; i < 4; i++) {
        if (ashape[i] != dshape[i])
            return SHAPE_FAIL(op, "%s: src0 dim %d is %lld, dst has %lld", op_name(op), i,
                              (long long)ashape[i], (long long)dshape[i]);
        if (bshape[i] != dshape[i] && bshape[i] != 1)
            return SHAPE_FAIL(op, "%s: src1 dim %d is %lld, does not broadcast to %lld",
                              op_name(op), i, (long long)bshape[i], (long long)dshape[i]);
    }
    return 0;
}

int cpu_shape_rows(const ssmrt_op *op, int64_t *rows, int64_t *cols) {
    int64_t n = cpu_desc_numel(&op->dst[0]);
    *cols = last_dim(&op->dst[0]);
    if (*cols <= 0) { *rows = 0; return 0; }
    *rows = n / *cols;
    if (cpu_desc_numel(&op->src[0]) != n || last_dim(&op->src[0]) != *cols)
        return SHAPE_FAIL(op, "%s: src and dst shapes differ", op_name(op));
    uint32_t k = op->kind;
    if (k == SSMRT_OP_RMS_NORM || k == SSMRT_OP_RMS_NORM_GATED || k == SSMRT_OP_LAYER_NORM) {
        int wi = k == SSMRT_OP_RMS_NORM_GATED ? 2 : 1;
        if (cpu_desc_numel(&op->src[wi]) != *cols)
            return SHAPE_FAIL(op, "%s: weight has %lld elements, rows have %lld", op_name(op),
                              (long long)cpu_desc_numel(&op->src[wi]), (long long)*cols);
        if (k == SSMRT_OP_RMS_NORM_GATED && cpu_desc_numel(&op->src[1]) != n)
            return SHAPE_FAIL(op, "%s: z has %lld elements, x %lld", op_name(op),
                              (long long)cpu_desc_numel(&op->src[1]), (long long)n);
        if (k == SSMRT_OP_LAYER_NORM && op->n_src > 2 && cpu_desc_present(&op->src[2]) &&
            cpu_desc_numel(&op->src[2]) != *cols)
            return SHAPE_FAIL(op, "%s: bias has %lld elements, rows have %lld", op_name(op),
                              (long long)cpu_desc_numel(&op->src[2]), (long long)*cols);
    }
    return 0;
}

int cpu_shape_norm_group(const ssmrt_op *op, int64_t cols, int64_t *group) {
    /* group_size 0 means one group over the whole row. */
    *group = op->params.norm.group_size > 0 ? op->params.norm.group_size : cols;
    if (op->params.norm.group_size < 0 || (cols > 0 && cols % *group != 0))
        return SHAPE_FAIL(op, "%s: group_size %lld does not divide %lld", op_name(op),
                          (long long)op->params.norm.group_size, (long long)cols);
    return 0;
}

int cpu_shape_matmul(const ssmrt_op *op, int64_t *M, int64_t *N, int64_t *K) {
    const ssmrt_tensor_desc *x = &op->src[0], *w = &op->src[1];
    if (w->ndim != 2) return SHAPE_FAIL(op, "matmul: weight must be 2-d [N, K]");
    *N = w->shape[0];
    *K = w->shape[1];
    if (last_dim(x) != *K)
        return SHAPE_FAIL(op, "matmul: x last dim %lld, weight K %lld", (long long)last_dim(x),
                          (long long)*K);
    *M = *K ? cpu_desc_numel(x) / *K : 0;
    if (cpu_desc_numel(&op->dst[0]) != *M * *N || last_dim(&op->dst[0]) != *N)
        return SHAPE_FAIL(op, "matmul: dst is not [%lld, %lld]", (long long)*M, (long long)*N);
    if (op->n_src > 2 && cpu_desc_present(&op->src[2]) && cpu_desc_numel(&op->src[2]) != *N)
        return SHAPE_FAIL(op, "matmul: bias has %lld elements, N is %lld",
                          (long long)cpu_desc_numel(&op->src[2]), (long long)*N);
    return 0;
}

int cpu_shape_embedding(const ssmrt_op *op, int64_t *M, int64_t *V, int64_t *D) {
    const ssmrt_tensor_desc *t = &op->src[0];
    if (t->ndim != 2) return SHAPE_FAIL(op, "embedding: table must be 2-d [V, D]");
    *V = t->shape[0];
    *D = t->shape[1];
    *M = cpu_desc_numel(&op->src[1]);
    if (cpu_desc_numel(&op->dst[0]) != *M * *D)
        return SHAPE_FAIL(op, "embedding: dst is not [%lld, %lld]", (long long)*M, (long long)*D);
    return 0;
}

int cpu_shape_topk(const ssmrt_op *op, int64_t *T, int64_t *E, int64_t *k) {
    int rc = cpu_shape_rows(op, T, E);
    if (rc) return rc;
    if (op->params.topk.k < 1)
        return cpu_error(SSMRT_ERR_INVALID_ARGUMENT, "cpu: topk_route: k = %d, must be >= 1",
                         (int)op->params.topk.k);
    *k = op->params.topk.k < *E ? op->params.topk.k : *E;
    return 0;
}

static int opt_src(const ssmrt_op *op, int i) {
    return (int)op->n_src > i && cpu_desc_present(&op->src[i]);
}
static int opt_dst(const ssmrt_op *op, int i) {
    return (int)op->n_dst > i && cpu_desc_present(&op->dst[i]);
}

int cpu_shape_scan(const ssmrt_op *op, cpu_scan_dims *d) {
    const ssmrt_tensor_desc *u = &op->src[SSMRT_SCAN_U];
    if (u->ndim != 3 && u->ndim != 4)
        return SHAPE_FAIL(op, "selective_scan: u must be [B, L, H, P] or [B, L, D]");
    d->B = u->shape[0];
    d->L = u->shape[1];
    d->H = u->shape[2];
    d->P = u->ndim == 4 ? u->shape[3] : 1;
    int64_t BL = d->B * d->L, BLH = BL * d->H, n_u = BLH * d->P;
    d->N = last_dim(&op->src[SSMRT_SCAN_B]);
    int64_t nb = cpu_desc_numel(&op->src[SSMRT_SCAN_B]);
    d->G = (BL * d->N) != 0 ? nb / (BL * d->N) : 0;
    if (d->N <= 0 || d->G <= 0 || nb != BL * d->G * d->N || d->H % d->G != 0)
        return SHAPE_FAIL(op, "selective_scan: B is not [%lld, %lld, G, N] with G dividing H=%lld",
                          (long long)d->B, (long long)d->L, (long long)d->H);
    if (cpu_desc_numel(&op->src[SSMRT_SCAN_C]) != nb)
        return SHAPE_FAIL(op, "selective_scan: C and B differ in size");
    if (cpu_desc_numel(&op->src[SSMRT_SCAN_DELTA]) != BLH)
        return SHAPE_FAIL(op, "selective_scan: delta is not [B, L, H] = [%lld, %lld, %lld]",
                          (long long)d->B, (long long)d->L, (long long)d->H);
    int64_t na = cpu_desc_numel(&op->src[SSMRT_SCAN_A]);
    d->a_per_head = na == d->H; /* with N == 1 both forms mean the same */
    if (na != d->H && na != d->H * d->N)
        return SHAPE_FAIL(op, "selective_scan: A is neither [H, N] nor [H] (H=%lld, N=%lld)",
                          (long long)d->H, (long long)d->N);
    d->has_d = opt_src(op, SSMRT_SCAN_D);
    d->has_z = opt_src(op, SSMRT_SCAN_Z);
    d->has_bias = opt_src(op, SSMRT_SCAN_DELTA_BIAS);
    d->has_state = opt_src(op, SSMRT_SCAN_STATE);
    d->has_state_out = opt_dst(op, 1);
    int64_t ns = d->B * d->H * d->P * d->N;
    if ((d->has_d && cpu_desc_numel(&op->src[SSMRT_SCAN_D]) != d->H) ||
        (d->has_bias && cpu_desc_numel(&op->src[SSMRT_SCAN_DELTA_BIAS]) != d->H))
        return SHAPE_FAIL(op, "selective_scan: D and delta_bias must have H=%lld elements",
                          (long long)d->H);
    if (d->has_z && cpu_desc_numel(&op->src[SSMRT_SCAN_Z]) != n_u)
        return SHAPE_FAIL(op, "selective_scan: z and u differ in size");
    if ((d->has_state && cpu_desc_numel(&op->src[SSMRT_SCAN_STATE]) != ns) ||
        (d->has_state_out && cpu_desc_numel(&op->dst[1]) != ns))
        return SHAPE_FAIL(op, "selective_scan: state is not [B, H, P, N] = [%lld, %lld, %lld, %lld]",
                          (long long)d->B, (long long)d->H, (long long)d->P, (long long)d->N);
    if (cpu_desc_numel(&op->dst[0]) != n_u)
        return SHAPE_FAIL(op, "selective_scan: y and u differ in size");
    return 0;
}

int cpu_shape_conv(const ssmrt_op *op, cpu_conv_dims *d) {
    const ssmrt_tensor_desc *x = &op->src[SSMRT_CONV_X], *w = &op->src[SSMRT_CONV_W];
    if (w->ndim != 2 || w->shape[1] < 1)
        return SHAPE_FAIL(op, "conv1d_causal: weight must be [D, W] with W >= 1");
    d->D = w->shape[0];
    d->W = w->shape[1];
    if (x->ndim < 2 || last_dim(x) != d->D)
        return SHAPE_FAIL(op, "conv1d_causal: x last dim %lld, weight D %lld",
                          (long long)last_dim(x), (long long)d->D);
    d->B = x->ndim == 3 ? x->shape[0] : 1;
    d->L = x->ndim == 3 ? x->shape[1] : x->shape[0];
    if (x->ndim > 3) return SHAPE_FAIL(op, "conv1d_causal: x must be [B, L, D]");
    d->has_bias = opt_src(op, SSMRT_CONV_BIAS);
    d->has_state = opt_src(op, SSMRT_CONV_STATE);
    d->has_state_out = opt_dst(op, 1);
    int64_t ns = d->B * d->D * (d->W - 1);
    if (d->has_bias && cpu_desc_numel(&op->src[SSMRT_CONV_BIAS]) != d->D)
        return SHAPE_FAIL(op, "conv1d_causal: bias must have D=%lld elements", (long long)d->D);
    if ((d->has_state && cpu_desc_numel(&op->src[SSMRT_CONV_STATE]) != ns) ||
        (d->has_state_out && cpu_desc_numel(&op->dst[1]) != ns))
        return SHAPE_FAIL(op, "conv1d_causal: state is not [B, D, W-1] = [%lld, %lld, %lld]",
                          (long long)d->B, (long long)d->D, (long long)(d->W - 1));
    if (cpu_desc_numel(&op->dst[0]) != cpu_desc_numel(x))
        return SHAPE_FAIL(op, "conv1d_causal: y and x differ in size");
    return 0;
}

int cpu_shape_conv_long(const ssmrt_op *op, int64_t *B, int64_t *L, int64_t *D, int64_t *Lk) {
    const ssmrt_tensor_desc *x = &op->src[0], *k = &op->src[1];
    if (x->ndim != 3 || k->ndim != 2)
        return SHAPE_FAIL(op, "conv_long: x must be [B, L, D] and kernel [D, Lk]");
    *B = x->shape[0];
    *L = x->shape[1];
    *D = x->shape[2];
    *Lk = k->shape[1];
    if (k->shape[0] != *D || *Lk < *L)
        return SHAPE_FAIL(op, "conv_long: kernel is [%lld, %lld], needs [%lld, >= %lld]",
                          (long long)k->shape[0], (long long)*Lk, (long long)*D, (long long)*L);
    if (cpu_desc_numel(&op->dst[0]) != cpu_desc_numel(x))
        return SHAPE_FAIL(op, "conv_long: y and x differ in size");
    return 0;
}

int cpu_shape_attention(const ssmrt_op *op, cpu_attn_dims *d) {
    const ssmrt_tensor_desc *q = &op->src[0], *k = &op->src[1], *v = &op->src[2];
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4)
        return SHAPE_FAIL(op, "attention: q, k, v must be 4-d [B, L, H, Dh]");
    d->B = q->shape[0];
    d->Lq = q->shape[1];
    d->Hq = q->shape[2];
    d->Dh = q->shape[3];
    d->Lk = k->shape[1];
    d->Hk = k->shape[2];
    d->Dv = v->shape[3];
    if (k->shape[0] != d->B || v->shape[0] != d->B || v->shape[1] != d->Lk ||
        v->shape[2] != d->Hk || k->shape[3] != d->Dh)
        return SHAPE_FAIL(op, "attention: k and v shapes do not match q");
    if (d->Hk <= 0 || d->Hq % d->Hk != 0 || d->Lk < d->Lq)
        return SHAPE_FAIL(op, "attention: needs Hq %% Hk == 0 and Lk >= Lq (Hq=%lld Hk=%lld "
                          "Lq=%lld Lk=%lld)", (long long)d->Hq, (long long)d->Hk,
                          (long long)d->Lq, (long long)d->Lk);
    if (cpu_desc_numel(&op->dst[0]) != d->B * d->Lq * d->Hq * d->Dv)
        return SHAPE_FAIL(op, "attention: dst is not [B, Lq, Hq, Dv]");
    return 0;
}

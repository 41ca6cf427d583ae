/*
 * vk_op_elementwise.c: host side of COPY, ADD/MUL, the unary ops, SOFTMAX and the
 * internal word fill (copy.comp, binary.comp, unary.comp, softmax.comp,
 * fill_words.comp). Shapes are checked here as the plugin's own guard: a host
 * bug becomes SSMRT_ERR_SHAPE naming the op, never an out-of-bounds access.
 */
#include "vk_internal.h"

#define WG 256u

static int shape_fail(const ssmrt_op *op, const char *what) {
    return vk_error(SSMRT_ERR_SHAPE, "vulkan: %s: %s", vk_op_name(op->kind), what);
}

static int64_t last_dim(const ssmrt_tensor_desc *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }

/* Row-major contiguous: innermost stride 1 and each stride the size of what it
 * steps over (dims of one element may have any stride). */
static int is_contiguous(const ssmrt_tensor_desc *t) {
    int64_t want = 1;
    for (int i = (int)t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != want) return 0;
        want *= t->shape[i];
    }
    return 1;
}

int vk_op_copy(vk_device *d, const ssmrt_op *op) {
    const ssmrt_tensor_desc *s = &op->src[0], *t = &op->dst[0];
    int64_t n = vk_desc_numel(t);
    if (vk_desc_numel(s) != n) return shape_fail(op, "src and dst have different element counts");
    if (s->ndim > 4 || t->ndim > 4) return shape_fail(op, "more than 4 dims");
    if (n == 0) return 0;
    vk_binding b[2];
    int rc = vk_bind_tensor(d, s, 0, &b[0]);
    if (!rc) rc = vk_bind_tensor(d, t, 1, &b[1]);
    if (rc) return rc;
    struct {
        uint32_t n, sshape[4], sstride[4], dshape[4], dstride[4];
    } pc;
    pc.n = (uint32_t)n;
    vk_desc_shape4(s, pc.sshape, pc.sstride);
    vk_desc_shape4(t, pc.dshape, pc.dstride);
    /* Contiguous both sides: no index arithmetic; same 32-bit dtype and 16-byte
     * aligned starts: 4 elements per invocation as one uvec4. */
    uint32_t contig = is_contiguous(s) && is_contiguous(t);
    if (contig && s->dtype == t->dtype && s->dtype != SSMRT_F16 && s->dtype != SSMRT_BF16 &&
        s->offset % 16 == 0 && t->offset % 16 == 0)
        contig = 2;
    uint32_t spec[3] = {s->dtype, t->dtype, contig};
    vk_pipeline_key key = vk_key(vk_kernel16(d, VK_K_COPY, VK_K_COPY_S16), WG, 1, 1, 3, spec);
    uint64_t items = contig == 2 ? ((uint64_t)n + 3) / 4 : (uint64_t)n;
    return vk_dispatch(d, &key, b, 2, &pc, sizeof pc, vk_groups(d, items, WG), 1, 1);
}

int vk_op_unary(vk_device *d, const ssmrt_op *op) {
    int64_t n = vk_desc_numel(&op->dst[0]);
    if (vk_desc_numel(&op->src[0]) != n) return shape_fail(op, "src and dst differ in size");
    if (n == 0) return 0;
    uint32_t code;
    switch (op->kind) {
    case SSMRT_OP_SCALE: code = 0; break;
    case SSMRT_OP_SILU: code = 1; break;
    case SSMRT_OP_SIGMOID: code = 2; break;
    case SSMRT_OP_SOFTPLUS: code = 3; break;
    case SSMRT_OP_GELU: code = 4; break;
    default: code = 5; break; /* EXP */
    }
    vk_binding b[2];
    int rc = vk_bind_tensor(d, &op->src[0], 0, &b[0]);
    if (!rc) rc = vk_bind_tensor(d, &op->dst[0], 1, &b[1]);
    if (rc) return rc;
    struct {
        uint32_t n;
        float alpha, beta;
    } pc = {(uint32_t)n, op->params.scale.alpha, op->params.scale.beta};
    vk_pipeline_key key = vk_key(VK_K_UNARY, WG, 1, 1, 1, &code);
    return vk_dispatch(d, &key, b, 2, &pc, sizeof pc, vk_groups(d, (uint64_t)n, WG), 1, 1);
}

int vk_op_binary(vk_device *d, const ssmrt_op *op) {
    const ssmrt_tensor_desc *a = &op->src[0], *bt = &op->src[1], *y = &op->dst[0];
    if (a->ndim > 4 || bt->ndim > 4 || y->ndim > 4) return shape_fail(op, "more than 4 dims");
    struct {
        uint32_t n, nb, dshape[4], bshape[4];
    } pc;
    uint32_t ashape[4], st[4];
    vk_desc_shape4(y, pc.dshape, st);
    vk_desc_shape4(a, ashape, st);
    vk_desc_shape4(bt, pc.bshape, st);
    for (int i = 0; i < 4; i++) {
        if (ashape[i] != pc.dshape[i]) return shape_fail(op, "src0 and dst shapes differ");
        if (pc.bshape[i] != pc.dshape[i] && pc.bshape[i] != 1)
            return shape_fail(op, "src1 does not broadcast to dst");
    }
    int64_t n = vk_desc_numel(y);
    if (n == 0) return 0;
    pc.n = (uint32_t)n;
    pc.nb = (uint32_t)vk_desc_numel(bt);
    vk_binding b[3];
    int rc = vk_bind_tensor(d, a, 0, &b[0]);
    if (!rc) rc = vk_bind_tensor(d, bt, 0, &b[1]);
    if (!rc) rc = vk_bind_tensor(d, y, 1, &b[2]);
    if (rc) return rc;
    uint32_t code = op->kind == SSMRT_OP_MUL;
    vk_pipeline_key key = vk_key(VK_K_BINARY, WG, 1, 1, 1, &code);
    return vk_dispatch(d, &key, b, 3, &pc, sizeof pc, vk_groups(d, (uint64_t)n, WG), 1, 1);
}

int vk_op_softmax(vk_device *d, const ssmrt_op *op) {
    int64_t n = vk_desc_numel(&op->dst[0]), cols = last_dim(&op->dst[0]);
    if (vk_desc_numel(&op->src[0]) != n || last_dim(&op->src[0]) != cols)
        return shape_fail(op, "src and dst shapes differ");
    if (n == 0 || cols == 0) return 0;
    vk_binding b[2];
    int rc = vk_bind_tensor(d, &op->src[0], 0, &b[0]);
    if (!rc) rc = vk_bind_tensor(d, &op->dst[0], 1, &b[1]);
    if (rc) return rc;
    struct {
        uint32_t rows, cols;
    } pc = {(uint32_t)(n / cols), (uint32_t)cols};
    vk_pipeline_key key = vk_key(VK_K_SOFTMAX, 128, 1, 1, 0, NULL); /* 128 threads: lavapipe runs 256-thread workgroups with barriers ~10x slower */
    return vk_dispatch(d, &key, b, 2, &pc, sizeof pc, vk_groups(d, pc.rows, 1), 1, 1);
}

int vk_op_fill_words(vk_device *d, vk_buffer *buf, uint64_t word_lo, uint64_t n_words,
                     uint32_t head_mask, uint32_t tail_mask) {
    vk_binding b = {.buf = buf, .offset = word_lo * 4, .bytes = n_words * 4, .esize = 4, .write = 1};
    if (n_words > UINT32_MAX)
        return vk_error(SSMRT_ERR_UNSUPPORTED, "vulkan: fill of %llu words is too large",
                        (unsigned long long)n_words);
    struct {
        uint32_t n, head, tail;
    } pc = {(uint32_t)n_words, head_mask, tail_mask};
    vk_pipeline_key key = vk_key(VK_K_FILL_WORDS, WG, 1, 1, 0, NULL);
    return vk_dispatch(d, &key, &b, 1, &pc, sizeof pc, vk_groups(d, n_words, WG), 1, 1);
}

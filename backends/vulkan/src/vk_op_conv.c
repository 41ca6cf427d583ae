/*
 * vk_op_conv.c: host side of CONV1D_CAUSAL (conv1d_causal.comp for y, then
 * conv1d_state.comp for the new state, which may overwrite the state y reads:
 * the hazard tracker puts a barrier between them) and CONV_LONG (conv_long.comp).
 */
#include "vk_internal.h"

static int64_t last_dim(const ssmrt_tensor_desc *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }

int vk_op_conv1d(vk_device *d, const ssmrt_op *op) {
    const ssmrt_tensor_desc *x = &op->src[SSMRT_CONV_X], *w = &op->src[SSMRT_CONV_W];
    if (w->ndim != 2 || w->shape[1] < 1)
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: conv1d_causal: weight must be [D, W] with W >= 1");
    int64_t D = w->shape[0], W = w->shape[1];
    if (x->ndim < 2 || x->ndim > 3 || last_dim(x) != D)
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: conv1d_causal: x must be [B, L, D] with D = %lld",
                        (long long)D);
    int64_t B = x->ndim == 3 ? x->shape[0] : 1, L = x->ndim == 3 ? x->shape[1] : x->shape[0];
    int has_bias = vk_opt_src(op, SSMRT_CONV_BIAS), has_s0 = vk_opt_src(op, SSMRT_CONV_STATE);
    int has_s1 = vk_opt_dst(op, 1);
    int64_t ns = B * D * (W - 1);
    if (has_bias && vk_desc_numel(&op->src[SSMRT_CONV_BIAS]) != D)
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: conv1d_causal: bias must have D elements");
    if ((has_s0 && vk_desc_numel(&op->src[SSMRT_CONV_STATE]) != ns) ||
        (has_s1 && vk_desc_numel(&op->dst[1]) != ns))
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: conv1d_causal: state is not [B, D, W-1]");
    if (vk_desc_numel(&op->dst[0]) != vk_desc_numel(x))
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: conv1d_causal: y and x differ in size");
    if (B == 0 || D == 0) return 0;

    struct {
        uint32_t B, L, D, W, flags;
    } pc = {(uint32_t)B, (uint32_t)L, (uint32_t)D, (uint32_t)W,
            (has_bias ? 1u : 0u) | (has_s0 ? 2u : 0u) | (op->params.conv.silu ? 4u : 0u)};
    int rc = 0;
    if (L > 0) {
        vk_binding b[5];
        rc = vk_bind_tensor(d, x, 0, &b[0]);
        if (!rc) rc = vk_bind_tensor(d, w, 0, &b[1]);
        if (!rc) rc = vk_bind_tensor(d, has_bias ? &op->src[SSMRT_CONV_BIAS] : NULL, 0, &b[2]);
        if (!rc) rc = vk_bind_tensor(d, has_s0 ? &op->src[SSMRT_CONV_STATE] : NULL, 0, &b[3]);
        if (!rc) rc = vk_bind_tensor(d, &op->dst[0], 1, &b[4]);
        if (rc) return rc;
        /* T steps per invocation (conv1d_causal.comp), fewer for wider filters so
         * the T + W - 1 inputs an invocation keeps stay in registers, and for short
         * sequences (decode: L = 1) so no invocation loads steps that do not exist;
         * beyond 32 taps one output per invocation (WS = 0). */
        uint32_t t = W <= 16 ? 16u : W <= 32 ? 4u : 1u;
        while (t > 1 && t / 2 >= (uint64_t)L) t /= 2;
        uint32_t spec[2] = {W <= 32 ? (uint32_t)W : 0u, t};
        uint64_t chunks = ((uint64_t)L + spec[1] - 1) / spec[1];
        vk_pipeline_key key = vk_key(VK_K_CONV1D, 256, 1, 1, 2, spec);
        rc = vk_dispatch(d, &key, b, 5, &pc, sizeof pc, vk_groups(d, (uint64_t)B * chunks * D, 256), 1, 1);
        if (rc) return rc;
    }
    if (has_s1 && W > 1) {
        vk_binding b[3];
        rc = vk_bind_tensor(d, L > 0 ? x : NULL, 0, &b[0]);
        if (!rc) rc = vk_bind_tensor(d, has_s0 ? &op->src[SSMRT_CONV_STATE] : NULL, 0, &b[1]);
        if (!rc) rc = vk_bind_tensor(d, &op->dst[1], 1, &b[2]);
        if (rc) return rc;
        struct {
            uint32_t B, L, D, W, has_state;
        } ps = {(uint32_t)B, (uint32_t)L, (uint32_t)D, (uint32_t)W, (uint32_t)has_s0};
        vk_pipeline_key key = vk_key(VK_K_CONV1D_STATE, 64, 1, 1, 0, NULL);
        rc = vk_dispatch(d, &key, b, 3, &ps, sizeof ps, vk_groups(d, (uint64_t)(B * D), 64), 1, 1);
    }
    return rc;
}

int vk_op_conv_long(vk_device *d, const ssmrt_op *op) {
    const ssmrt_tensor_desc *x = &op->src[0], *k = &op->src[1];
    if (x->ndim != 3 || k->ndim != 2)
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: conv_long: x must be [B, L, D] and kernel [D, Lk]");
    int64_t B = x->shape[0], L = x->shape[1], D = x->shape[2], Lk = k->shape[1];
    if (k->shape[0] != D || Lk < L)
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: conv_long: kernel is [%lld, %lld], needs [%lld, >= %lld]",
                        (long long)k->shape[0], (long long)Lk, (long long)D, (long long)L);
    if (vk_desc_numel(&op->dst[0]) != vk_desc_numel(x))
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: conv_long: y and x differ in size");
    if (B * L * D == 0) return 0;
    vk_binding b[3];
    int rc = vk_bind_tensor(d, x, 0, &b[0]);
    if (!rc) rc = vk_bind_tensor(d, k, 0, &b[1]);
    if (!rc) rc = vk_bind_tensor(d, &op->dst[0], 1, &b[2]);
    if (rc) return rc;
    struct {
        uint32_t B, L, D, Lk;
    } pc = {(uint32_t)B, (uint32_t)L, (uint32_t)D, (uint32_t)Lk};
    const uint32_t TL = 128;
    uint64_t items = (uint64_t)B * (uint64_t)D * (uint64_t)((L + TL - 1) / TL);
    vk_pipeline_key key = vk_key(VK_K_CONV_LONG, TL, 1, 1, 0, NULL);
    return vk_dispatch(d, &key, b, 3, &pc, sizeof pc, vk_groups(d, items, 1), 1, 1);
}

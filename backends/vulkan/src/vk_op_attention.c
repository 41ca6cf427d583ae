/*
 * vk_op_attention.c: host side of ATTENTION: attention.comp (blocks of 16 queries
 * sharing staged K/V tiles) for 16 queries or more where its tiles fit shared
 * memory, else attention_row.comp (one query row per workgroup: decode), split over
 * the keys with attention_combine.comp merging the parts where there are too few
 * rows to fill the device (decode over a long cache). q, k, v are strided
 * [B, L, H, D] views passed with their element strides; y is contiguous
 * [B, Lq, Hq, Dv]. q, k, v and y share one dtype (f32, f16 or bf16; the dispatch
 * table admits no mix), a specialization constant of both shaders; 16-bit tensors
 * use the shaders' 16-bit storage build where the device has the feature.
 */
#include "vk_internal.h"

#define WG 64u
#define OMAX 8u /* output elements per thread in attention_row.comp */

int vk_op_attention(vk_device *d, const ssmrt_op *op) {
    const ssmrt_tensor_desc *q = &op->src[0], *k = &op->src[1], *v = &op->src[2];
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4)
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: attention: q, k, v must be 4-d [B, L, H, D]");
    int64_t B = q->shape[0], Lq = q->shape[1], Hq = q->shape[2], Dh = q->shape[3];
    int64_t Lk = k->shape[1], Hk = k->shape[2], Dv = v->shape[3];
    if (k->shape[0] != B || v->shape[0] != B || v->shape[1] != Lk || v->shape[2] != Hk ||
        k->shape[3] != Dh)
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: attention: k and v shapes do not match q");
    if (Hk <= 0 || Hq % Hk != 0 || Lk < Lq)
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: attention: needs Hq %% Hk == 0 and Lk >= Lq");
    if (vk_desc_numel(&op->dst[0]) != B * Lq * Hq * Dv)
        return vk_error(SSMRT_ERR_SHAPE, "vulkan: attention: dst is not [B, Lq, Hq, Dv]");
    if (Dv > (int64_t)(WG * OMAX))
        return vk_error(SSMRT_ERR_UNSUPPORTED, "vulkan: attention: head dim %lld of v exceeds %u",
                        (long long)Dv, WG * OMAX);
    if (B * Lq * Hq == 0 || Dv == 0) return 0;
    vk_binding b[4];
    int rc = vk_bind_tensor(d, q, 0, &b[0]);
    if (!rc) rc = vk_bind_tensor(d, k, 0, &b[1]);
    if (!rc) rc = vk_bind_tensor(d, v, 0, &b[2]);
    if (!rc) rc = vk_bind_tensor(d, &op->dst[0], 1, &b[3]);
    if (rc) return rc;
    struct {
        uint32_t qs[4], ks[4], vs[4];
        uint32_t B, Lq, Lk, Hq, Hk, Dh, Dv;
        float scale;
        uint32_t nsplit, chunk; /* attention_row.comp split over keys */
    } pc;
    for (int i = 0; i < 4; i++) {
        pc.qs[i] = (uint32_t)q->stride[i];
        pc.ks[i] = (uint32_t)k->stride[i];
        pc.vs[i] = (uint32_t)v->stride[i];
    }
    pc.B = (uint32_t)B;
    pc.Lq = (uint32_t)Lq;
    pc.Lk = (uint32_t)Lk;
    pc.Hq = (uint32_t)Hq;
    pc.Hk = (uint32_t)Hk;
    pc.Dh = (uint32_t)Dh;
    pc.Dv = (uint32_t)Dv;
    pc.scale = op->params.attention.scale;
    pc.nsplit = 1;
    pc.chunk = 0;
    uint32_t dt = q->dtype;
    /* f32 keeps the plain build; 16-bit data reads best through 16-bit storage. */
    int s16 = dt != SSMRT_F32;
    uint32_t dp = (uint32_t)((Dh + 3) / 4 * 4);
    if (dp < 4) dp = 4;
    uint64_t shared = 4ull * (16 * dp + 16 * (dp + 1) + 16 * dp + 16 * 16 + 3 * 16);
    /* Fewer than 16 queries (decode) would leave most of a 16-row tile idle: one
     * workgroup per query row, its threads spread over the keys, does better. */
    if (Lq >= 16 && Dv == Dh && dp <= 256 &&
        shared <= d->caps.props.limits.maxComputeSharedMemorySize) {
        uint32_t spec[2] = {dp, dt};
        uint32_t kern = s16 ? vk_kernel16(d, VK_K_ATTENTION, VK_K_ATTENTION_S16) : VK_K_ATTENTION;
        vk_pipeline_key key = vk_key(kern, 64, 1, 1, 2, spec);
        uint64_t items = (uint64_t)(B * Hq) * (uint64_t)((Lq + 15) / 16);
        return vk_dispatch(d, &key, b, 4, &pc, sizeof pc, vk_groups(d, items, 1), 1, 1);
    }
    /* Few rows (decode: B Hq of them) leave most of the device idle while each walks
     * the whole cache: split the keys so there are ~16 workgroups per compute unit,
     * at least WG keys each, and merge the parts. H100, 32 heads over 64K f16 keys:
     * 71.6 ms as 32 workgroups. */
    uint64_t rows = (uint64_t)(B * Lq * Hq);
    uint64_t units = d->caps.compute_units ? d->caps.compute_units : 16;
    uint64_t nsplit = 1;
    if (rows < 2 * units) {
        nsplit = (16 * units + rows - 1) / rows;
        uint64_t most = ((uint64_t)Lk + WG - 1) / WG;
        if (nsplit > most) nsplit = most;
        if (nsplit > 1024) nsplit = 1024; /* attention_combine.comp's MAX_SPLIT */
    }
    uint32_t row16 = s16 ? vk_kernel16(d, VK_K_ATTENTION_ROW, VK_K_ATTENTION_ROW_S16) : VK_K_ATTENTION_ROW;
    /* Five bindings either way (the parts' binding is the dummy buffer when not
     * split): the shaders' push block has a fifth offset. */
    vk_binding b5[5] = {b[0], b[1], b[2], b[3]};
    if (nsplit <= 1) {
        uint32_t spec[2] = {dt, 0};
        vk_pipeline_key key = vk_key(row16, WG, 1, 1, 2, spec);
        return vk_dispatch(d, &key, b5, 5, &pc, sizeof pc, vk_groups(d, rows, 1), 1, 1);
    }
    uint64_t chunk = ((uint64_t)Lk + nsplit - 1) / nsplit;
    chunk = (chunk + WG - 1) / WG * WG;
    nsplit = ((uint64_t)Lk + chunk - 1) / chunk;
    pc.nsplit = (uint32_t)nsplit;
    pc.chunk = (uint32_t)chunk;
    uint64_t part_bytes = rows * nsplit * ((uint64_t)Dv + 2) * 4;
    rc = vk_scratch(d, part_bytes, &b5[4].buf);
    if (rc) return rc;
    b5[4].offset = 0;
    b5[4].bytes = part_bytes;
    b5[4].esize = 4;
    b5[4].write = 1;
    uint32_t spec[2] = {dt, 1};
    vk_pipeline_key key = vk_key(row16, WG, 1, 1, 2, spec);
    rc = vk_dispatch(d, &key, b5, 5, &pc, sizeof pc, vk_groups(d, rows * nsplit, 1), 1, 1);
    if (rc) return rc;
    b5[4].write = 0;
    uint32_t comb = s16 ? vk_kernel16(d, VK_K_ATTENTION_COMBINE, VK_K_ATTENTION_COMBINE_S16)
                        : VK_K_ATTENTION_COMBINE;
    vk_pipeline_key ckey = vk_key(comb, WG, 1, 1, 1, &dt);
    return vk_dispatch(d, &ckey, b5, 5, &pc, sizeof pc, vk_groups(d, rows, 1), 1, 1);
}

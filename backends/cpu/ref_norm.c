/*
 * ref_norm.c: float64 reference of RMS_NORM, RMS_NORM_GATED and LAYER_NORM.
 * Each normalises over the last dim; LayerNorm uses the biased variance
 * (divide by D), as torch.nn.LayerNorm does.
 */
#include <math.h>

#include "ref_tensor.h"

int cpu_ref_rms_norm(const ssmrt_op *op) {
    int64_t rows, cols;
    int rc = cpu_shape_rows(op, &rows, &cols);
    if (rc) return rc;
    ref_view x, w, y;
    ref_view_init(&x, &op->src[0]);
    ref_view_init(&w, &op->src[1]);
    ref_view_init(&y, &op->dst[0]);
    double eps = op->params.norm.eps;
    for (int64_t r = 0; r < rows; r++) {
        int64_t base = r * cols;
        double ss = 0.0;
        for (int64_t c = 0; c < cols; c++) {
            double v = ref_load(&x, base + c);
            ss += v * v;
        }
        double inv = 1.0 / sqrt(ss / (double)cols + eps);
        for (int64_t c = 0; c < cols; c++)
            ref_store(&y, base + c, ref_load(&x, base + c) * inv * ref_load(&w, c));
    }
    return 0;
}

int cpu_ref_rms_norm_gated(const ssmrt_op *op) {
    int64_t rows, cols, group;
    int rc = cpu_shape_rows(op, &rows, &cols);
    if (!rc) rc = cpu_shape_norm_group(op, cols, &group);
    if (rc) return rc;
    ref_view x, z, w, y;
    ref_view_init(&x, &op->src[0]);
    ref_view_init(&z, &op->src[1]);
    ref_view_init(&w, &op->src[2]);
    ref_view_init(&y, &op->dst[0]);
    double eps = op->params.norm.eps;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t g0 = 0; g0 < cols; g0 += group) {
            int64_t base = r * cols + g0;
            double ss = 0.0;
            for (int64_t c = 0; c < group; c++) {
                double v = ref_load(&x, base + c) * ref_silu(ref_load(&z, base + c));
                ss += v * v;
            }
            double inv = 1.0 / sqrt(ss / (double)group + eps);
            for (int64_t c = 0; c < group; c++) {
                double v = ref_load(&x, base + c) * ref_silu(ref_load(&z, base + c));
                ref_store(&y, base + c, v * inv * ref_load(&w, g0 + c));
            }
        }
    }
    return 0;
}

int cpu_ref_layer_norm(const ssmrt_op *op) {
    int64_t rows, cols;
    int rc = cpu_shape_rows(op, &rows, &cols);
    if (rc) return rc;
    int has_bias = op->n_src > 2 && cpu_desc_present(&op->src[2]);
    ref_view x, w, b, y;
    ref_view_init(&x, &op->src[0]);
    ref_view_init(&w, &op->src[1]);
    if (has_bias) ref_view_init(&b, &op->src[2]);
    ref_view_init(&y, &op->dst[0]);
    double eps = op->params.norm.eps;
    for (int64_t r = 0; r < rows; r++) {
        int64_t base = r * cols;
        double mean = 0.0, var = 0.0;
        for (int64_t c = 0; c < cols; c++) mean += ref_load(&x, base + c);
        mean /= (double)cols;
        for (int64_t c = 0; c < cols; c++) {
            double dv = ref_load(&x, base + c) - mean;
            var += dv * dv;
        }
        double inv = 1.0 / sqrt(var / (double)cols + eps);
        for (int64_t c = 0; c < cols; c++) {
            double v = (ref_load(&x, base + c) - mean) * inv * ref_load(&w, c);
            ref_store(&y, base + c, has_bias ? v + ref_load(&b, c) : v);
        }
    }
    return 0;
}

/*
 * ref_elementwise.c: float64 reference of COPY, ADD, MUL, the unary ops and
 * SOFTMAX.
 */
#include <math.h>

#include "ref_tensor.h"

int cpu_ref_copy(const ssmrt_op *op) {
    int64_t n;
    int rc = cpu_shape_unary(op, &n);
    if (rc) return rc;
    ref_view s, d;
    ref_view_init(&s, &op->src[0]);
    ref_view_init(&d, &op->dst[0]);
    /* Element i of src (row-major in its own shape) goes to element i of dst:
     * with equal shapes this is the plain copy, and a reshape is also honoured. */
    for (int64_t i = 0; i < n; i++) ref_store(&d, i, ref_load(&s, i));
    return 0;
}

int cpu_ref_binary(const ssmrt_op *op) {
    int64_t ds[4], bs[4];
    int rc = cpu_shape_binary(op, ds, bs);
    if (rc) return rc;
    ref_view a, b, d;
    ref_view_init(&a, &op->src[0]);
    ref_view_init(&b, &op->src[1]);
    ref_view_init(&d, &op->dst[0]);
    int mul = op->kind == SSMRT_OP_MUL;
    int64_t i = 0;
    for (int64_t c0 = 0; c0 < ds[0]; c0++)
        for (int64_t c1 = 0; c1 < ds[1]; c1++)
            for (int64_t c2 = 0; c2 < ds[2]; c2++)
                for (int64_t c3 = 0; c3 < ds[3]; c3++, i++) {
                    /* src1 index: a dim of size 1 repeats its one element. */
                    int64_t j = (bs[0] == 1 ? 0 : c0);
                    j = j * bs[1] + (bs[1] == 1 ? 0 : c1);
                    j = j * bs[2] + (bs[2] == 1 ? 0 : c2);
                    j = j * bs[3] + (bs[3] == 1 ? 0 : c3);
                    double x = ref_load(&a, i), y = ref_load(&b, j);
                    ref_store(&d, i, mul ? x * y : x + y);
                }
    return 0;
}

int cpu_ref_unary(const ssmrt_op *op) {
    int64_t n;
    int rc = cpu_shape_unary(op, &n);
    if (rc) return rc;
    ref_view s, d;
    ref_view_init(&s, &op->src[0]);
    ref_view_init(&d, &op->dst[0]);
    double alpha = op->params.scale.alpha, beta = op->params.scale.beta;
    for (int64_t i = 0; i < n; i++) {
        double x = ref_load(&s, i), y;
        switch (op->kind) {
        case SSMRT_OP_SCALE: y = x * alpha + beta; break;
        case SSMRT_OP_SILU: y = ref_silu(x); break;
        case SSMRT_OP_SIGMOID: y = ref_sigmoid(x); break;
        case SSMRT_OP_SOFTPLUS: y = ref_softplus(x); break;
        /* 0.5 x (1 + erf(x/sqrt 2)) written with erfc: no cancellation for x < 0 */
        case SSMRT_OP_GELU: y = 0.5 * x * erfc(-x / sqrt(2.0)); break;
        default: y = exp(x); break; /* SSMRT_OP_EXP */
        }
        ref_store(&d, i, y);
    }
    return 0;
}

int cpu_ref_softmax(const ssmrt_op *op) {
    int64_t rows, cols;
    int rc = cpu_shape_rows(op, &rows, &cols);
    if (rc) return rc;
    ref_view s, d;
    ref_view_init(&s, &op->src[0]);
    ref_view_init(&d, &op->dst[0]);
    for (int64_t r = 0; r < rows; r++) {
        int64_t base = r * cols;
        double m = -INFINITY, sum = 0.0;
        for (int64_t c = 0; c < cols; c++) m = fmax(m, ref_load(&s, base + c));
        for (int64_t c = 0; c < cols; c++) sum += exp(ref_load(&s, base + c) - m);
        for (int64_t c = 0; c < cols; c++) ref_store(&d, base + c, exp(ref_load(&s, base + c) - m) / sum);
    }
    return 0;
}

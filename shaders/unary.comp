#version 450
// Element-wise unary ops on f32: y = op(x). OP (specialization constant 3):
// 0 scale (x*alpha + beta), 1 silu, 2 sigmoid, 3 softplus, 4 gelu (exact, erf), 5 exp.
#include "common.glsl"

layout(constant_id = 3) const uint OP = 0;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_x, off_y;
    uint n;
    float alpha, beta;
} pc;

// erfc(a) for a >= 0, relative error ~1e-6 or better, in three pieces (all from
// textbook identities, constants from erfc at three points):
//  - a < 0.5: 1 - erf(a) with erf(a) = 2/sqrt(pi) exp(-a^2) sum_k (2a^2)^k a / (1*3*...*(2k+1)),
//    a series of positive terms; erf(a) < 0.53 so the subtraction loses at most a bit;
//  - 0.5 <= a < 2: Taylor series about a0 in {0.75, 1.25, 1.75}, using
//    d^n/da^n erfc(a) = (-1)^n 2/sqrt(pi) H_{n-1}(a) exp(-a^2) (Hermite polynomials),
//    |a - a0| <= 0.25, so 16 terms converge far below f32 rounding;
//  - a >= 2: the continued fraction
//    erfc(a) = exp(-a^2)/sqrt(pi) / (a + 1/2 / (a + 1 / (a + 3/2 / (a + ...)))).
float erfc_pos(float a) {
    const float RSQRT_PI = 0.56418958354775628;
    if (a < 0.5) {
        float term = a, sum = a, a2 = 2.0 * a * a;
        for (int k = 1; k < 20; k++) {
            term *= a2 / float(2 * k + 1);
            sum += term;
        }
        return 1.0 - 2.0 * RSQRT_PI * exp(-a * a) * sum;
    }
    if (a < 2.0) {
        float a0, c0, e0; // erfc(a0) and 2/sqrt(pi) exp(-a0^2)
        if (a < 1.0) {
            a0 = 0.75; c0 = 0.28884436634648486; e0 = 0.6429310691952074;
        } else if (a < 1.5) {
            a0 = 1.25; c0 = 0.07709987174354177; e0 = 0.23652112244729076;
        } else {
            a0 = 1.75; c0 = 0.013328328780817555; e0 = 0.05277499593015037;
        }
        float h = a - a0, t = 1.0, s = 0.0, hm1 = 0.0, hn = 1.0; // hn = H_{n-1}(a0)
        for (int n = 1; n <= 16; n++) {
            t *= -h / float(n);
            s += t * hn;
            float next = 2.0 * a0 * hn - 2.0 * float(n - 1) * hm1;
            hm1 = hn;
            hn = next;
        }
        return c0 + e0 * s;
    }
    // Evaluate the continued fraction from the tail (60 levels: converged for a >= 2).
    float f = a;
    for (int k = 60; k >= 1; k--) f = a + (0.5 * float(k)) / f;
    return RSQRT_PI * exp(-a * a) / f;
}

float gelu_f(float v) {
    // 0.5 v (1 + erf(v/sqrt2)) = 0.5 v erfc(-v/sqrt2); for v < 0 use erfc(|.|)
    // directly so the small tail keeps its relative accuracy.
    float a = v * 0.70710678118654752;
    if (a >= 0.0) return 0.5 * v * (2.0 - erfc_pos(a));
    return 0.5 * v * erfc_pos(-a);
}

float apply(float v) {
    if (OP == 0u) return v * pc.alpha + pc.beta;
    if (OP == 1u) return silu_f(v);
    if (OP == 2u) return sigmoid_f(v);
    if (OP == 3u) return softplus_f(v);
    if (OP == 4u) return gelu_f(v);
    return exp(v);
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += step) y[pc.off_y + i] = apply(x[pc.off_x + i]);
}

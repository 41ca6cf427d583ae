/* Per-op error bounds; the general argument is in conf_tolerance.h, the op-specific
 * arithmetic next to each function. */
#include "conf_tolerance.h"

#include <math.h>

/* Random-walk allowance for an n-term f32 reduction (see the header). */
static double conf_tol_sum(int64_t n)
{
    return 2.0 * sqrt((double)(n > 1 ? n : 1)) * CONF_EPS;
}

double conf_tol_exact(void)
{
    return 0.0;
}

double conf_tol_binary(void)
{
    /* The device rounds a+b (a*b) once to f32, the reference rounds the float64
     * result once: both are within u of the exact value, so within 2u = eps of each
     * other (they are usually identical). */
    return CONF_EPS;
}

double conf_tol_scale(double max_abs_x_alpha, double max_abs_beta)
{
    /* fl(fl(x*alpha) + beta): errors u|x alpha| + u|x alpha + beta|, relative to a
     * result that can be small by cancellation; the metric's rms floor is at least
     * a third of |beta| for our inputs, so bound by the magnitudes involved. */
    double m = max_abs_x_alpha + max_abs_beta;
    double floor_ = max_abs_beta > 0 ? max_abs_beta / 3.0 : m;
    return 2.0 * CONF_EPS * (1.0 + m / (floor_ > 0 ? floor_ : 1.0));
}

double conf_tol_unary(double xmax)
{
    /* exp to 3 + 2|x| ulp (Vulkan's bound, the loosest of the APIs), then at most
     * one division (2.5 ulp), one log (3 ulp, or 2^-21 absolute near 1, which the
     * rms floor absorbs) and two roundings: 8.5 + 2 xmax ulp; doubled for margin
     * against implementations at the edge of the spec. */
    return 2.0 * (8.5 + 2.0 * xmax) * CONF_EPS;
}

double conf_tol_softmax(int64_t n)
{
    /* exp(x_i - max) has at most (3 + 2|a|) ulp; an element with argument a is
     * e^a of the largest, so relative to the metric's floor its error is at most
     * (3 + 2|a|) e^a <= 3 + 2/e < 4 ulp. Then the n-term sum of positives and a
     * division (2.5 ulp). 16 ulp covers the pointwise part twice over. */
    return 16.0 * CONF_EPS + conf_tol_sum(n);
}

double conf_tol_rms_norm(int64_t d)
{
    /* mean(x^2) over d (random-walk sum), eps add, inversesqrt (2 ulp; the sqrt
     * halves the sum's relative error but we keep it whole), two products. */
    return 8.0 * CONF_EPS + conf_tol_sum(d);
}

double conf_tol_rms_norm_gated(int64_t group_size)
{
    /* silu(z) with |z| <= 4 (exp + division), a product, then the rms_norm of the
     * group. */
    return conf_tol_unary(4.0) + conf_tol_rms_norm(group_size);
}

double conf_tol_layer_norm(int64_t d, double mean_over_std)
{
    /* Two-pass mean/variance is conditioned like rms_norm. A one-pass
     * E[x^2] - E[x]^2 loses a factor 1 + (mean/std)^2 to cancellation; a device may
     * use either (the harness keeps |mean/std| <= 2, so at most 5x). */
    double cond = 1.0 + mean_over_std * mean_over_std;
    return 8.0 * CONF_EPS + conf_tol_sum(d) * cond;
}

double conf_tol_matmul(int64_t k, ssmrt_dtype wdt)
{
    /* The k-term dot product (random walk, relative to rms(y) which is the size
     * of sqrt(sum (x w)^2) for random inputs), a bias add, and for 16-bit weights
     * the activation rounding of the header (3 u_w). */
    double t = 4.0 * CONF_EPS + conf_tol_sum(k);
    if (wdt == SSMRT_F16)
        t += 3.0 * ldexp(1.0, -11);
    else if (wdt == SSMRT_BF16)
        t += 3.0 * ldexp(1.0, -8);
    return t;
}

double conf_tol_topk(int64_t e)
{
    /* softmax over e, and a renormalising division by a sum of <= e kept gates. */
    return conf_tol_softmax(e) + conf_tol_sum(e) + 3.0 * CONF_EPS;
}

double conf_tol_scan(int64_t n, double leff, int gated)
{
    /* Each step rounds dA*s, dt*B*u and their sum (3u) and evaluates exp(dt*a),
     * whose argument is small where the memory is long (3 ulp in Vulkan's bound).
     * An error made at step j is multiplied by the decays of later steps, so the
     * state's error is the sum of about leff = 1/(dt |a|) recent step errors
     * (the memory length; older errors have decayed): a random walk gives
     * ~ 6 sqrt(leff) u, and we allow 8 sqrt(leff) eps. An exp that errs to one
     * side does not average out: a decay product over k steps then carries k times
     * the per-step error, and the state (a geometric mix of such products with mean
     * length leff) about leff times it. The APIs bound exp to 3 ulp near 0 (Vulkan:
     * 3 + 2|x|; OpenCL: 3), and NVIDIA's Vulkan exp2 on the H100 does err to one side
     * (measured: 2.4x over a quarter-ulp allowance), so allow 3 leff eps. A parallel scan
     * forms products of up to leff decays (leff roundings), covered by the same
     * terms. Then y sums n products s*C (random walk), adds D*u, and the gate
     * silu(z) (8.5 ulp at |z| <= 4, doubled). softplus(delta) perturbs dt by a few
     * ulp, which changes each decay by |dt a| times that: over the memory this adds
     * up to a few ulp, inside the constant 32. */
    return (32.0 + 8.0 * sqrt(leff) + 3.0 * leff) * CONF_EPS + conf_tol_sum(n) +
           (gated ? conf_tol_unary(4.0) : 0.0);
}

double conf_tol_conv1d(int64_t w, int silu)
{
    /* A w-term dot product plus the bias, then SiLU of a pre-activation that stays
     * within |x| <= 8 for the harness's inputs. */
    return 4.0 * CONF_EPS + conf_tol_sum(w + 1) + (silu ? conf_tol_unary(8.0) : 0.0);
}

double conf_tol_conv_long(int64_t l)
{
    /* Direct summation: an l-term dot product per output (random walk). An FFT
     * of size n >= 2l has error ~ log2(n) u relative to the output's rms for
     * random data (each butterfly level adds one rounding to every element), and
     * twiddle factors computed in f32 add about as much again. */
    double lg = log2((double)(2 * (l > 1 ? l : 1)));
    return 8.0 * CONF_EPS + conf_tol_sum(l) + 4.0 * lg * CONF_EPS;
}

double conf_tol_attention(int64_t dh, int64_t lk, double smax)
{
    /* Scores q.k over dh (random walk) times the scale: an absolute error of
     * about 2 sqrt(dh) eps * smax, which is the relative error of each weight
     * exp(s - m); exp itself (3 + 2|a| ulp, < 4 ulp where it matters as in
     * softmax); the online softmax's rescaling by exp(m_old - m_new) once per
     * block (at most lk roundings, a random walk); the weighted sum of v over lk
     * keys and the final division. */
    return (32.0 + conf_tol_sum(dh) / CONF_EPS * (1.0 + smax)) * CONF_EPS +
           2.0 * conf_tol_sum(lk);
}

double conf_tol_attention_dtype(int64_t dh, int64_t lk, double smax, ssmrt_dtype dt)
{
    /* Inputs are exact on both sides: the reference reads the stored f16/bf16
     * values, f32 holds every one of them, and the product of two is exact in f32
     * (11 + 11 or 8 + 8 significant bits, at most 24), so the f32 computation of the
     * scores, softmax and weighted sum has the error of conf_tol_attention.
     *
     * Output rounding. Each side rounds its result to dt once: the reference's is
     * within u_d |y| of the exact y and the device's within u_d of its f32 value
     * (u_d = half an ulp: 2^-11 for f16, 2^-8 for bf16); the two can land on either
     * side of a rounding boundary, so 2 u_d.
     *
     * Softmax weights in dt. Tensor-core kernels round the weights p_j = exp(s_j - m)
     * (in (0, 1]) to dt before P*V: each gets a relative error |d_j| <= u_d, which
     * moves y = sum_j p_j v_j / l by at most u_d sum_j p_j |v_j| / l <= u_d max|v|
     * (and a second u_d where l sums the rounded weights). That bound needs every
     * rounding to go the same way. Round-to-nearest errors of different weights are
     * independent with mean zero, so, as for the matmul's activation rounding (see
     * the header), they add like a random walk: about u_d/sqrt(3) sqrt(sum_j w_j^2
     * v_j^2) with w = p/l, and for v independent of the weights that root is the size
     * of rms(y) (E y^2 = sum_j w_j^2 for unit-variance v), the metric's floor. We
     * allow 4 u_d, seven standard deviations of the walk. An accumulator or a
     * running sum kept in 16 bits (a rounding per key) is far outside this. */
    double t = conf_tol_attention(dh, lk, smax);
    if (dt == SSMRT_F16)
        t += 6.0 * ldexp(1.0, -11);
    else if (dt == SSMRT_BF16)
        t += 6.0 * ldexp(1.0, -8);
    return t;
}

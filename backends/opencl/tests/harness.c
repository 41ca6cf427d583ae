/* Loads the plugin given on the command line, opens device 0 (or argv[2]) and runs
 * every op test. Exit status 0 only if all checks pass. */
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

const ssmrt_backend_vtable *T_vt;
void *T_dev;
char T_last_error[1024];
int T_failures;

static void host_log(ssmrt_log_level level, const char *fmt, ...)
{
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void host_report_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(T_last_error, sizeof T_last_error, fmt, ap);
    va_end(ap);
}

/* The plugin's bookkeeping goes through the host allocator: count what is live so
 * the end of the run can check that close + shutdown released everything. */
static long live_blocks;

static void *host_alloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (p)
        live_blocks++;
    return p;
}

static void host_free(void *p)
{
    if (p)
        live_blocks--;
    free(p);
}

static const ssmrt_host_api host = {
    .struct_size = sizeof(ssmrt_host_api),
    .abi_version = SSMRT_BACKEND_ABI_VERSION,
    .log = host_log,
    .report_error = host_report_error,
    .alloc = host_alloc,
    .free = host_free,
    .log_level = SSMRT_LOG_WARN,
};

/* ---- tensors ------------------------------------------------------------- */

static size_t dtype_size(uint32_t dt)
{
    return dt == SSMRT_F16 || dt == SSMRT_BF16 ? 2 : 4;
}

static uint16_t to_f16(float f)
{
    /* Exact for the values the tests use: they are pre-rounded with t_round_f16. */
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    int e = (int)((u >> 23) & 0xff) - 127 + 15;
    uint32_t m = u & 0x7fffffu;
    if ((u & 0x7fffffffu) == 0)
        return (uint16_t)sign;
    if (e <= 0) { /* subnormal half */
        m |= 0x800000u;
        int shift = 14 - e;
        uint32_t h = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (m >> 13);
    uint32_t rem = m & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
        h++;
    return (uint16_t)(sign | h);
}

static float from_f16(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    int e = (h >> 10) & 0x1f;
    uint32_t m = h & 0x3ffu;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 0x400u), e - 25);
    uint32_t u;
    memcpy(&u, &v, 4);
    u |= sign;
    memcpy(&v, &u, 4);
    return v;
}

float t_round_f16(float x)
{
    return from_f16(to_f16(x));
}

static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float t_round_bf16(float x)
{
    uint32_t u = (uint32_t)to_bf16(x) << 16;
    float v;
    memcpy(&v, &u, 4);
    return v;
}

int64_t t_numel(const t_tensor *t)
{
    int64_t n = 1;
    for (uint32_t i = 0; i < t->d.ndim; i++)
        n *= t->d.shape[i];
    return n;
}

t_tensor t_make(uint32_t dtype, int ndim, const int64_t *shape, const float *data)
{
    t_tensor t;
    memset(&t, 0, sizeof t);
    t.d.dtype = dtype;
    t.d.ndim = (uint32_t)ndim;
    int64_t n = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        t.d.shape[i] = shape[i];
        t.d.stride[i] = n;
        n *= shape[i];
    }
    size_t es = dtype_size(dtype);
    if (T_vt->buffer_alloc(T_dev, (uint64_t)n * es, &t.buf) != 0) {
        fprintf(stderr, "buffer_alloc: %s\n", T_last_error);
        exit(2);
    }
    t.d.buffer = t.buf;
    unsigned char *host_data = calloc((size_t)n + 1, es);
    for (int64_t i = 0; data && i < n; i++) {
        if (dtype == SSMRT_F32)
            memcpy(host_data + i * 4, &data[i], 4);
        else if (dtype == SSMRT_I32) {
            int32_t v = (int32_t)data[i];
            memcpy(host_data + i * 4, &v, 4);
        } else {
            uint16_t h = dtype == SSMRT_F16 ? to_f16(data[i]) : to_bf16(data[i]);
            memcpy(host_data + i * 2, &h, 2);
        }
    }
    if (n > 0 && T_vt->buffer_upload(T_dev, t.buf, 0, host_data, (uint64_t)n * es) != 0) {
        fprintf(stderr, "upload: %s\n", T_last_error);
        exit(2);
    }
    free(host_data);
    return t;
}

void t_free(t_tensor *t)
{
    T_vt->buffer_free(T_dev, t->buf);
    t->buf = NULL;
}

void t_read(const t_tensor *t, float *out)
{
    int64_t n = t_numel(t);
    size_t es = dtype_size(t->d.dtype);
    unsigned char *raw = malloc((size_t)n * es + 1);
    if (T_vt->buffer_download(T_dev, t->buf, t->d.offset, raw, (uint64_t)n * es) != 0) {
        fprintf(stderr, "download: %s\n", T_last_error);
        exit(2);
    }
    for (int64_t i = 0; i < n; i++) {
        if (t->d.dtype == SSMRT_F32)
            memcpy(&out[i], raw + i * 4, 4);
        else if (t->d.dtype == SSMRT_I32) {
            int32_t v;
            memcpy(&v, raw + i * 4, 4);
            out[i] = (float)v;
        } else {
            uint16_t h;
            memcpy(&h, raw + i * 2, 2);
            if (t->d.dtype == SSMRT_F16)
                out[i] = from_f16(h);
            else {
                uint32_t u = (uint32_t)h << 16;
                memcpy(&out[i], &u, 4);
            }
        }
    }
    free(raw);
}

ssmrt_op t_op(uint32_t kind, int n_src, const t_tensor *const *src, int n_dst,
              const t_tensor *const *dst)
{
    ssmrt_op op;
    memset(&op, 0, sizeof op);
    op.struct_size = sizeof op;
    op.kind = kind;
    op.n_src = (uint32_t)n_src;
    op.n_dst = (uint32_t)n_dst;
    for (int i = 0; i < n_src; i++)
        if (src[i])
            op.src[i] = src[i]->d;
    for (int i = 0; i < n_dst; i++)
        if (dst[i])
            op.dst[i] = dst[i]->d;
    return op;
}

int t_run(const ssmrt_op *op)
{
    T_last_error[0] = '\0';
    if (!T_vt->supports(T_dev, op)) {
        fprintf(stderr, "op %u not supported\n", op->kind);
        return -1;
    }
    int st = T_vt->enqueue(T_dev, op);
    if (st == 0)
        st = T_vt->synchronize(T_dev);
    return st;
}

double t_err(const float *got, const double *ref, int64_t n, double atol, double rtol)
{
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - ref[i]) / (atol + rtol * fabs(ref[i]));
        if (!(e <= worst)) /* NaN counts as infinitely wrong */
            worst = isnan(e) ? INFINITY : e;
    }
    return worst;
}

static uint64_t rng_state = 0x12345678abcdefull;

void t_rand(float *x, int64_t n, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++) {
        rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(rng_state >> 11) / 9007199254740992.0;
        x[i] = (float)(lo + (hi - lo) * u);
    }
}

static void test_timers(void)
{
    if (!T_vt->timer_mark)
        return;
    CHECK(T_vt->timer_mark(T_dev, 0) == 0, "timer_mark: %s", T_last_error);
    int64_t shape[1] = {1 << 16};
    t_tensor a = t_make(SSMRT_F32, 1, shape, NULL), y = t_make(SSMRT_F32, 1, shape, NULL);
    const t_tensor *src[1] = {&a}, *dst[1] = {&y};
    ssmrt_op op = t_op(SSMRT_OP_EXP, 1, src, 1, dst);
    CHECK(T_vt->enqueue(T_dev, &op) == 0, "enqueue: %s", T_last_error);
    CHECK(T_vt->timer_mark(T_dev, 1) == 0, "timer_mark: %s", T_last_error);
    CHECK(T_vt->synchronize(T_dev) == 0, "sync: %s", T_last_error);
    double ns = -1;
    CHECK(T_vt->timer_read(T_dev, 0, 1, &ns) == 0 && ns >= 0, "timer_read: %s (%g)",
          T_last_error, ns);
    CHECK(T_vt->timer_read(T_dev, 0, 7, &ns) != 0, "reading an unmarked slot must fail");

    /* Two marks with no kernel between them: the reading falls back to the marks. */
    CHECK(T_vt->timer_mark(T_dev, 2) == 0 && T_vt->timer_mark(T_dev, 3) == 0, "timer_mark: %s",
          T_last_error);
    CHECK(T_vt->synchronize(T_dev) == 0, "sync: %s", T_last_error);
    CHECK(T_vt->timer_read(T_dev, 2, 3, &ns) == 0 && ns >= 0, "empty span: %s (%g)",
          T_last_error, ns);

    /* A span covers its first to its last kernel: marks 4 | op | 5 | op | 6, so the
     * reading 4..6 holds both op spans 4..5 and 5..6. */
    CHECK(T_vt->timer_mark(T_dev, 4) == 0, "timer_mark: %s", T_last_error);
    CHECK(T_vt->enqueue(T_dev, &op) == 0, "enqueue: %s", T_last_error);
    CHECK(T_vt->timer_mark(T_dev, 5) == 0, "timer_mark: %s", T_last_error);
    CHECK(T_vt->enqueue(T_dev, &op) == 0, "enqueue: %s", T_last_error);
    CHECK(T_vt->timer_mark(T_dev, 6) == 0, "timer_mark: %s", T_last_error);
    CHECK(T_vt->synchronize(T_dev) == 0, "sync: %s", T_last_error);
    double first = -1, second = -1, both = -1;
    CHECK(T_vt->timer_read(T_dev, 4, 5, &first) == 0 && T_vt->timer_read(T_dev, 5, 6, &second) == 0 &&
              T_vt->timer_read(T_dev, 4, 6, &both) == 0,
          "timer_read: %s", T_last_error);
    CHECK(first >= 0 && second >= 0 && both >= first && both >= second,
          "spans: 4..5 %g ns, 5..6 %g ns, 4..6 %g ns", first, second, both);
    t_free(&a);
    t_free(&y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s libssmrt-opencl.so [device]\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    ssmrt_backend_entry_fn entry = (ssmrt_backend_entry_fn)dlsym(lib, SSMRT_BACKEND_ENTRY_SYMBOL);
    uint32_t version = 0;
    if (!entry || entry(&host, SSMRT_BACKEND_ABI_VERSION, &version, &T_vt) != 0) {
        fprintf(stderr, "entry failed: %s\n", T_last_error);
        return 2;
    }
    void *be = NULL;
    if (T_vt->init(&be) != 0) {
        /* No OpenCL platform: nothing to test here, which is not a failure. */
        fprintf(stderr, "SKIP: %s\n", T_last_error);
        return 77;
    }
    uint32_t count = 0, index = argc > 2 ? (uint32_t)atoi(argv[2]) : 0;
    T_vt->device_count(be, &count);
    ssmrt_backend_device_props props = {.struct_size = sizeof props};
    CHECK(T_vt->device_props(be, index, &props) == 0, "device_props: %s", T_last_error);
    printf("device %u of %u: %s | %s | driver %s | %s | %llu MiB | %u CUs\n", index, count,
           props.name, props.vendor, props.driver_version, props.api_version,
           (unsigned long long)(props.memory_bytes >> 20), props.compute_units);
    CHECK(T_vt->device_props(be, count, &props) != 0, "props of a missing device must fail");
    if (T_vt->device_open(be, index, &T_dev) != 0) {
        fprintf(stderr, "device_open: %s\n", T_last_error);
        return 1;
    }
    test_basic_ops();
    test_matmul_gather();
    test_scan();
    test_conv_attention();
    test_timers();
    T_vt->device_close(T_dev);
    T_vt->shutdown(be);
    CHECK(live_blocks == 0, "%ld plugin allocations still live after shutdown", live_blocks);
    printf("%s (%d failure(s))\n", T_failures ? "FAILED" : "all passed", T_failures);
    return T_failures ? 1 : 0;
}

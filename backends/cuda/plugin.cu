/*
 * plugin.cu: the entry symbol, the vtable, the CUDA driver start and the devices
 * of the CUDA plugin (libssmrt-cuda.so).
 *
 * The CUDA runtime is linked statically (it finds libcuda.so, the driver, at run
 * time), so the plugin loads on a machine without an NVIDIA driver: init then
 * fails with "no CUDA driver: ..." and the host lists the plugin as unavailable.
 * cuBLAS is linked dynamically; its handle is created per device at device_open.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cuda_backend.h"

static const ssmrt_host_api *g_host;

/* ===================================================================== */
/* Host services                                                          */
/* ===================================================================== */

int cuda_error(int status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (g_host && g_host->report_error) g_host->report_error("%s", msg);
    return status;
}

int cuda_check(cudaError_t err, const char *what) {
    if (err == cudaSuccess) return 0;
    int status = err == cudaErrorMemoryAllocation ? SSMRT_ERR_OUT_OF_MEMORY : SSMRT_ERR_BACKEND;
    return cuda_error(status, "cuda: %s: %s: %s", what, cudaGetErrorName(err),
                      cudaGetErrorString(err));
}

int cuda_check_cublas(cublasStatus_t st, const char *what) {
    if (st == CUBLAS_STATUS_SUCCESS) return 0;
    int status = st == CUBLAS_STATUS_ALLOC_FAILED ? SSMRT_ERR_OUT_OF_MEMORY : SSMRT_ERR_BACKEND;
    return cuda_error(status, "cuda: %s: cuBLAS %s: %s", what, cublasGetStatusName(st),
                      cublasGetStatusString(st));
}

void *cuda_host_alloc(size_t bytes) { return g_host->alloc(bytes); }
void cuda_host_free(void *p) {
    if (p) g_host->free(p);
}

void cuda_log(ssmrt_log_level level, const char *fmt, ...) {
    if (!g_host || !g_host->log || (int32_t)level > g_host->log_level) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    g_host->log(level, "%s", msg);
}

/* ===================================================================== */
/* Backend and devices                                                    */
/* ===================================================================== */

typedef struct cuda_backend {
    int device_count;
} cuda_backend;

static int cuda_init(void **out_backend) {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err == cudaErrorInsufficientDriver || err == cudaErrorNoDevice ||
        err == cudaErrorSystemDriverMismatch || err == cudaErrorCompatNotSupportedOnDevice) {
        /* No libcuda.so, a driver older than this runtime, or no GPU. */
        int driver = 0;
        cudaDriverGetVersion(&driver);
        const char *what = err == cudaErrorNoDevice ? "no CUDA device" : "no CUDA driver";
        if (driver == 0) what = "no CUDA driver";
        return cuda_error(SSMRT_ERR_NOT_FOUND,
                          "%s: cudaGetDeviceCount: %s (%s); driver API version %d, plugin "
                          "built with CUDA runtime %d",
                          what, cudaGetErrorName(err), cudaGetErrorString(err), driver,
                          CUDART_VERSION);
    }
    if (err != cudaSuccess) return cuda_check(err, "cudaGetDeviceCount");
    if (count <= 0) return cuda_error(SSMRT_ERR_NOT_FOUND, "no CUDA device: the driver reports 0 devices");
    cuda_backend *b = (cuda_backend *)g_host->alloc(sizeof *b);
    if (!b) return cuda_error(SSMRT_ERR_OUT_OF_MEMORY, "cuda: out of memory starting the plugin");
    b->device_count = count;
    *out_backend = b;
    return 0;
}

static void cuda_shutdown(void *backend) { cuda_host_free(backend); }

static int cuda_device_count(void *backend, uint32_t *out_count) {
    *out_count = (uint32_t)((cuda_backend *)backend)->device_count;
    return 0;
}

static int cuda_device_props(void *backend, uint32_t index, ssmrt_backend_device_props *out) {
    cuda_backend *b = (cuda_backend *)backend;
    if (index >= (uint32_t)b->device_count)
        return cuda_error(SSMRT_ERR_NOT_FOUND, "cuda: device %u does not exist (%d devices)",
                          index, b->device_count);
    cudaDeviceProp p;
    int rc = cuda_check(cudaGetDeviceProperties(&p, (int)index), "cudaGetDeviceProperties");
    if (rc) return rc;
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    uint32_t size = out->struct_size;
    memset(out, 0, sizeof *out < size ? sizeof *out : size);
    out->struct_size = size;
    snprintf(out->name, sizeof out->name, "%.127s", p.name);
    snprintf(out->vendor, sizeof out->vendor, "NVIDIA");
    snprintf(out->driver_version, sizeof out->driver_version, "CUDA driver %d.%d", driver / 1000,
             (driver % 1000) / 10);
    snprintf(out->api_version, sizeof out->api_version, "CUDA %d.%d (sm_%d%d)", runtime / 1000,
             (runtime % 1000) / 10, p.major, p.minor);
    out->memory_bytes = p.totalGlobalMem;
    out->compute_units = (uint32_t)p.multiProcessorCount;
    out->subgroup_size = (uint32_t)p.warpSize;
    out->dtype_mask = (1u << SSMRT_F32) | (1u << SSMRT_F16) | (1u << SSMRT_BF16) | (1u << SSMRT_I32);
    out->is_reference = 0;
    out->host_memory = 0;
    return 0;
}

static void cuda_device_release(cuda_device *d) {
    if (d->stream) cudaStreamSynchronize(d->stream);
    cuda_batch_destroy(d);
    for (int i = 0; i < CUDA_TIMER_SLOTS; i++)
        if (d->timers[i]) cudaEventDestroy(d->timers[i]);
    if (d->cublas) cublasDestroy(d->cublas);
    cudaFree(d->cublas_workspace);
    cudaFree(d->gemm_scratch);
    cudaFree(d->attn_scratch);
    cudaFree(d->fuse_counter);
    if (d->staging) cudaFreeHost(d->staging);
    if (d->stream) cudaStreamDestroy(d->stream);
    cuda_host_free(d);
}

static int cuda_device_open(void *backend, uint32_t index, void **out_device) {
    cuda_backend *b = (cuda_backend *)backend;
    if (index >= (uint32_t)b->device_count)
        return cuda_error(SSMRT_ERR_NOT_FOUND, "cuda: device %u does not exist (%d devices)",
                          index, b->device_count);
    cuda_device *d = (cuda_device *)cuda_host_alloc(sizeof *d);
    if (!d) return cuda_error(SSMRT_ERR_OUT_OF_MEMORY, "cuda: out of memory opening device %u", index);
    memset(d, 0, sizeof *d);
    d->ordinal = (int)index;
    int rc = cuda_check(cudaSetDevice(d->ordinal), "cudaSetDevice");
    cudaDeviceProp p;
    if (!rc) rc = cuda_check(cudaGetDeviceProperties(&p, d->ordinal), "cudaGetDeviceProperties");
    if (!rc) {
        d->cc_major = p.major;
        d->cc_minor = p.minor;
        d->sm_count = p.multiProcessorCount;
        d->smem_optin = p.sharedMemPerBlockOptin;
        rc = cuda_check(cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking),
                        "cudaStreamCreate");
    }
    for (int i = 0; !rc && i < CUDA_TIMER_SLOTS; i++)
        rc = cuda_check(cudaEventCreate(&d->timers[i]), "cudaEventCreate");
    if (!rc) rc = cuda_check(cudaMalloc(&d->cublas_workspace, CUDA_CUBLAS_WORKSPACE_BYTES),
                             "allocating the cuBLAS workspace");
    if (!rc) rc = cuda_check(cudaMalloc(&d->gemm_scratch, CUDA_GEMM_SCRATCH_BYTES),
                             "allocating the GEMM scratch");
    if (!rc) rc = cuda_check(cudaMalloc(&d->attn_scratch, CUDA_ATTN_SCRATCH_BYTES),
                             "allocating the attention scratch");
    if (!rc) rc = cuda_check(cudaMalloc((void **)&d->fuse_counter, sizeof(unsigned)),
                             "allocating the fusion counter");
    if (!rc) rc = cuda_check(cudaMemset(d->fuse_counter, 0, sizeof(unsigned)), "zeroing the fusion counter");
    /* Pinned staging only speeds downloads up: without it they go direct. */
    if (!rc && cudaMallocHost(&d->staging, CUDA_STAGING_BYTES) != cudaSuccess) {
        d->staging = NULL;
        cudaGetLastError();
    }
    if (!rc) rc = cuda_check_cublas(cublasCreate(&d->cublas), "cublasCreate");
    if (!rc) rc = cuda_check_cublas(cublasSetStream(d->cublas, d->stream), "cublasSetStream");
    /* A fixed workspace keeps cuBLAS from allocating inside a graph capture. */
    if (!rc) rc = cuda_check_cublas(cublasSetWorkspace(d->cublas, d->cublas_workspace,
                                                       CUDA_CUBLAS_WORKSPACE_BYTES),
                                    "cublasSetWorkspace");
    /* Default math: f32 GEMMs stay f32 (TF32 only with CUBLAS_TF32_TENSOR_OP_MATH,
     * which is not set), f16/bf16 GEMMs use tensor cores with f32 accumulation. */
    if (!rc) rc = cuda_check_cublas(cublasSetMathMode(d->cublas, CUBLAS_DEFAULT_MATH),
                                    "cublasSetMathMode");
    if (!rc) rc = cuda_attention_setup(d);
    if (!rc) rc = cuda_scan_setup(d);
    if (rc) {
        cuda_device_release(d);
        return rc;
    }
    *out_device = d;
    return 0;
}

static void cuda_device_close(void *device) {
    if (device) cuda_device_release((cuda_device *)device);
}

/* ===================================================================== */
/* Entry                                                                  */
/* ===================================================================== */

static const ssmrt_backend_vtable k_vtable = {
    sizeof(ssmrt_backend_vtable),
    SSMRT_BACKEND_ABI_VERSION,
    "cuda",
    cuda_init,
    cuda_shutdown,
    cuda_device_count,
    cuda_device_props,
    cuda_device_open,
    cuda_device_close,
    cuda_buffer_alloc,
    cuda_buffer_free,
    cuda_buffer_upload,
    cuda_buffer_download,
    cuda_buffer_copy,
    cuda_buffer_fill_zero,
    cuda_supports,
    cuda_enqueue,
    cuda_synchronize,
    cuda_begin_batch,
    cuda_end_batch,
    cuda_timer_mark,
    cuda_timer_read,
};

extern "C" SSMRT_PLUGIN_EXPORT int ssmrt_backend_entry(const ssmrt_host_api *host,
                                                       uint32_t host_max_version,
                                                       uint32_t *out_version,
                                                       const ssmrt_backend_vtable **out_vtable) {
    if (!host || host->struct_size < sizeof(ssmrt_host_api) || !host->alloc || !host->free ||
        !host->report_error)
        return SSMRT_ERR_ABI;
    g_host = host;
    if (host_max_version < SSMRT_BACKEND_ABI_VERSION)
        return cuda_error(SSMRT_ERR_ABI, "cuda: plugin speaks ABI %u, host at most %u",
                          SSMRT_BACKEND_ABI_VERSION, host_max_version);
    *out_version = SSMRT_BACKEND_ABI_VERSION;
    *out_vtable = &k_vtable;
    return 0;
}

/* Internal declarations shared by the OpenCL plugin's files. */
#ifndef SSMRT_OCL_H
#define SSMRT_OCL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "ssmrt_backend.h"
#include "ssmrt_backend_contract.h"

/* The host API handed over at load time; set once by the entry point. */
extern const ssmrt_host_api *ssmrt_ocl_host;

#define SSMRT_OCL_LOG(level, ...)                                                        \
    do {                                                                                 \
        if (ssmrt_ocl_host && ssmrt_ocl_host->log && ssmrt_ocl_host->log_level >= (level)) \
            ssmrt_ocl_host->log((level), __VA_ARGS__);                                   \
    } while (0)

/* Reports a message through the host and returns st (for `return ssmrt_ocl_fail(...)`). */
int ssmrt_ocl_fail(int st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "CL_OUT_OF_RESOURCES" for -5 etc. */
const char *ssmrt_ocl_error_name(cl_int err);
/* The ssmrt status an OpenCL error maps to (allocation failures: OUT_OF_MEMORY). */
int ssmrt_ocl_status_of(cl_int err);
/* Reports "what: CL_ERROR_NAME (code)" and returns the mapped status. */
int ssmrt_ocl_fail_cl(cl_int err, const char *what);

void *ssmrt_ocl_alloc(size_t bytes);
void ssmrt_ocl_free(void *p);

/* ---- backend: every device of every platform, in a stable order ---------- */

typedef struct ssmrt_ocl_backend {
    uint32_t n_devices;
    cl_platform_id *platforms; /* platform of device i */
    cl_device_id *devices;
} ssmrt_ocl_backend;

/* ---- programs and kernels ------------------------------------------------ */

typedef struct ssmrt_ocl_program {
    struct ssmrt_ocl_program *next;
    const char *source;   /* embedded source name */
    char *defines;        /* the variant's -D options */
    cl_program program;
} ssmrt_ocl_program;

typedef struct ssmrt_ocl_kernel {
    struct ssmrt_ocl_kernel *next;
    const ssmrt_ocl_program *program;
    char *name;
    cl_kernel kernel;
    size_t max_wg; /* CL_KERNEL_WORK_GROUP_SIZE for this device */
    int reported;  /* its build details were logged (scan_runs) */
} ssmrt_ocl_kernel;

/* ---- devices ------------------------------------------------------------- */

#define SSMRT_OCL_TIMER_SLOTS 64

typedef struct ssmrt_ocl_device {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;

    /* Facts the kernels are built for. */
    char name[256];           /* device name */
    char platform_version[256];
    char driver_version[128];
    int c_version;            /* OpenCL C version of the compiler: 120, 200, 300 */
    int has_subgroups;        /* sub_group_* functions usable from OpenCL C */
    int has_fp16;             /* cl_khr_fp16 */
    size_t max_wg;            /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    cl_uint compute_units;    /* CL_DEVICE_MAX_COMPUTE_UNITS (at least 1) */
    cl_uint nv_registers;     /* registers per SM with cl_nv_compiler_options, else 0 */
    int scan_runs_off;        /* scan_runs.cl failed to build here: use scan.cl */
    cl_ulong local_mem;       /* CL_DEVICE_LOCAL_MEM_SIZE */
    cl_ulong max_alloc;       /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    char build_options[256];  /* common options, -D flags for features */
    int cache_off;            /* the binary cache failed once: do not retry (or re-log) */

    ssmrt_ocl_program *programs;
    ssmrt_ocl_kernel *kernels;

    /* Scratch for multi-pass kernels (scan chunk carries); grown on demand. The
     * in-order queue serialises its users; a released buffer lives until the
     * commands using it have finished (OpenCL retains it). */
    cl_mem scratch;
    size_t scratch_bytes;

    /* Device timers (ocl_device.c). Slot i's mark is a kernel of its own
     * (timers); once a mark was made, every launch keeps its event so that a
     * reading can span from the first kernel after the begin mark (timer_next)
     * to the last before the end mark (timer_prev) without the launch gaps
     * around the marks. Sequence numbers order them. */
    cl_event timers[SSMRT_OCL_TIMER_SLOTS];
    cl_event timer_next[SSMRT_OCL_TIMER_SLOTS], timer_prev[SSMRT_OCL_TIMER_SLOTS];
    uint64_t timer_seq[SSMRT_OCL_TIMER_SLOTS];
    uint64_t timer_next_seq[SSMRT_OCL_TIMER_SLOTS], timer_prev_seq[SSMRT_OCL_TIMER_SLOTS];
    cl_event last_launch;     /* the latest kernel since the latest mark */
    uint64_t last_launch_seq, launch_seq;
    int timing;               /* a mark was made: launches keep their events */
    int timer_waiting;        /* 1 + the slot whose timer_next the next launch sets, or 0 */
    int in_mark;              /* the launch being made is a mark's own kernel */
} ssmrt_ocl_device;

typedef struct ssmrt_ocl_buffer {
    cl_mem mem;     /* NULL for a 0-byte buffer */
    uint64_t bytes;
} ssmrt_ocl_buffer;

/* Device lifetime and buffers (ocl_device.c). */
int ssmrt_ocl_device_open(ssmrt_ocl_backend *be, uint32_t index, ssmrt_ocl_device **out);
void ssmrt_ocl_device_close(ssmrt_ocl_device *dev);
/* Makes dev->scratch at least bytes large. */
int ssmrt_ocl_scratch(ssmrt_ocl_device *dev, size_t bytes);

/* The kernel `name` of embedded source `source` built with `defines` (may be "")
 * for dev; built and cached on first use (ocl_program.c). NULL after reporting an
 * error (with the build log when compilation failed). */
ssmrt_ocl_kernel *ssmrt_ocl_kernel_get(ssmrt_ocl_device *dev, const char *source,
                                       const char *defines, const char *name);
void ssmrt_ocl_programs_release(ssmrt_ocl_device *dev);

/* On-disk program binary cache (ocl_cache.c). Both only log on failure. */
cl_program ssmrt_ocl_cache_load(ssmrt_ocl_device *dev, const char *key, size_t key_len,
                                const char *options);
void ssmrt_ocl_cache_store(ssmrt_ocl_device *dev, const char *key, size_t key_len,
                           cl_program program);

/* ---- launching kernels (ocl_launch.c) ------------------------------------ */

/* Arguments are set in order; the first failure is kept and reported by launch. */
typedef struct ssmrt_ocl_args {
    ssmrt_ocl_kernel *k;
    cl_uint next;
    cl_int err;
    cl_uint err_index;
} ssmrt_ocl_args;

void ssmrt_ocl_args_begin(ssmrt_ocl_args *a, ssmrt_ocl_kernel *k);
void ssmrt_ocl_arg_raw(ssmrt_ocl_args *a, size_t size, const void *value); /* vectors */
void ssmrt_ocl_arg_mem(ssmrt_ocl_args *a, cl_mem m);
void ssmrt_ocl_arg_i32(ssmrt_ocl_args *a, int32_t v);
void ssmrt_ocl_arg_i64(ssmrt_ocl_args *a, int64_t v);
void ssmrt_ocl_arg_f32(ssmrt_ocl_args *a, float v);
void ssmrt_ocl_arg_local(ssmrt_ocl_args *a, size_t bytes);
/* A tensor: its cl_mem (NULL when absent) then its offset in elements (long). */
void ssmrt_ocl_arg_tensor(ssmrt_ocl_args *a, const ssmrt_tensor_desc *t);
/* Enqueues the kernel; global sizes are rounded up to multiples of local. local may
 * be NULL (implementation's choice). out_event may be NULL. */
int ssmrt_ocl_launch(ssmrt_ocl_device *dev, ssmrt_ocl_args *a, cl_uint dims,
                     const size_t *global, const size_t *local, cl_event *out_event);
/* Keeps a launched kernel's event (taking one reference) for the device timers
 * (ocl_device.c); ssmrt_ocl_launch calls it once a timer mark was made. */
void ssmrt_ocl_timer_track(ssmrt_ocl_device *dev, cl_event ev);
/* The largest power of two <= min(want, the kernel's and device's limits). */
size_t ssmrt_ocl_wg_size(const ssmrt_ocl_kernel *k, size_t want);

/* ---- tensor helpers (ocl_dispatch.c) ------------------------------------- */

int64_t ssmrt_ocl_numel(const ssmrt_tensor_desc *t);
/* Size of the last dim and the product of the others. */
void ssmrt_ocl_rows(const ssmrt_tensor_desc *t, int64_t *rows, int64_t *cols);
/* Checks that the byte offset is a whole number of elements and that the tensor
 * fits in its buffer; reports an error naming `what`. */
int ssmrt_ocl_check_tensor(const ssmrt_tensor_desc *t, const char *what);

/* ---- ops ------------------------------------------------------------------ */

typedef int (*ssmrt_ocl_op_fn)(ssmrt_ocl_device *dev, const ssmrt_op *op);

int ssmrt_ocl_supports(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_enqueue(ssmrt_ocl_device *dev, const ssmrt_op *op);

int ssmrt_ocl_op_copy(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_op_binary(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_op_unary(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_op_softmax(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_op_norm(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_op_matmul(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_op_embedding(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_op_topk_route(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_op_selective_scan(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_op_conv1d_causal(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_op_conv_long(ssmrt_ocl_device *dev, const ssmrt_op *op);
int ssmrt_ocl_op_attention(ssmrt_ocl_device *dev, const ssmrt_op *op);

#endif

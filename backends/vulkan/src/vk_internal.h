/*
 * vk_internal.h: shared declarations of the Vulkan plugin (libssmrt-vulkan.so).
 *
 * Files, one concern each:
 *   vk_plugin.c    entry symbol, vtable, backend init/shutdown, device properties
 *   vk_loader.c    dlopen of libvulkan.so.1 and the function tables
 *   vk_debug.c     VK_EXT_debug_utils messenger (validation errors fail the work)
 *   vk_device.c    device open/close: capabilities, queue, memory types
 *   vk_buffer.c    buffers, uploads/downloads (staging or mapped), copy, fill
 *   vk_submit.c    command recording, hazard barriers, submission, timers
 *   vk_pipeline.c  embedded SPIR-V, pipeline cache (created on first use)
 *   vk_pipeline_stats.c  driver statistics of created pipelines (debug log)
 *   vk_dispatch.c  one compute dispatch: descriptors, push constants, barriers
 *   vk_ops.c       the dispatch table behind supports() and enqueue()
 *   vk_op_*.c      host side of each op family (shapes, push constants, grids)
 *
 * Threading: the host uses one device from one thread at a time (ssmrt.h). The
 * only state touched from other threads is the validation error counter, which
 * the debug messenger may bump from any thread calling Vulkan.
 */
#ifndef SSMRT_VK_INTERNAL_H
#define SSMRT_VK_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

#include "ssmrt_backend.h"
#include "ssmrt_backend_contract.h"

/* ===================================================================== */
/* Loader: function tables (filled by vk_loader.c)                        */
/* ===================================================================== */

#define VK_GLOBAL_FNS(X)                      \
    X(vkCreateInstance)                       \
    X(vkEnumerateInstanceExtensionProperties) \
    X(vkEnumerateInstanceLayerProperties)

#define VK_INSTANCE_FNS(X)                     \
    X(vkDestroyInstance)                       \
    X(vkEnumeratePhysicalDevices)              \
    X(vkGetPhysicalDeviceProperties)           \
    X(vkGetPhysicalDeviceProperties2)          \
    X(vkGetPhysicalDeviceFeatures2)            \
    X(vkGetPhysicalDeviceMemoryProperties)     \
    X(vkGetPhysicalDeviceQueueFamilyProperties) \
    X(vkEnumerateDeviceExtensionProperties)    \
    X(vkCreateDevice)                          \
    X(vkGetDeviceProcAddr)

/* May be NULL: extensions. */
#define VK_INSTANCE_OPT_FNS(X)              \
    X(vkCreateDebugUtilsMessengerEXT)       \
    X(vkDestroyDebugUtilsMessengerEXT)      \
    X(vkGetPhysicalDeviceCooperativeMatrixPropertiesNV)

#define VK_DEVICE_FNS(X)              \
    X(vkDestroyDevice)                \
    X(vkGetDeviceQueue)               \
    X(vkDeviceWaitIdle)               \
    X(vkCreateBuffer)                 \
    X(vkDestroyBuffer)                \
    X(vkGetBufferMemoryRequirements)  \
    X(vkAllocateMemory)               \
    X(vkFreeMemory)                   \
    X(vkBindBufferMemory)             \
    X(vkMapMemory)                    \
    X(vkUnmapMemory)                  \
    X(vkFlushMappedMemoryRanges)      \
    X(vkInvalidateMappedMemoryRanges) \
    X(vkCreateShaderModule)           \
    X(vkDestroyShaderModule)          \
    X(vkCreateDescriptorSetLayout)    \
    X(vkDestroyDescriptorSetLayout)   \
    X(vkCreatePipelineLayout)         \
    X(vkDestroyPipelineLayout)        \
    X(vkCreateComputePipelines)       \
    X(vkDestroyPipeline)              \
    X(vkCreateDescriptorPool)         \
    X(vkDestroyDescriptorPool)        \
    X(vkResetDescriptorPool)          \
    X(vkAllocateDescriptorSets)       \
    X(vkUpdateDescriptorSets)         \
    X(vkCreateCommandPool)            \
    X(vkDestroyCommandPool)           \
    X(vkAllocateCommandBuffers)       \
    X(vkFreeCommandBuffers)           \
    X(vkBeginCommandBuffer)           \
    X(vkEndCommandBuffer)             \
    X(vkResetCommandBuffer)           \
    X(vkCmdBindPipeline)              \
    X(vkCmdBindDescriptorSets)        \
    X(vkCmdPushConstants)             \
    X(vkCmdDispatch)                  \
    X(vkCmdPipelineBarrier)           \
    X(vkCmdCopyBuffer)                \
    X(vkCmdFillBuffer)                \
    X(vkCmdResetQueryPool)            \
    X(vkCmdWriteTimestamp)            \
    X(vkCreateQueryPool)              \
    X(vkDestroyQueryPool)             \
    X(vkGetQueryPoolResults)          \
    X(vkCreateFence)                  \
    X(vkDestroyFence)                 \
    X(vkWaitForFences)                \
    X(vkResetFences)                  \
    X(vkQueueSubmit)

#define VK_DECLARE_FN(f) PFN_##f f;

typedef struct vk_instance_fns {
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
    VK_GLOBAL_FNS(VK_DECLARE_FN)
    VK_INSTANCE_FNS(VK_DECLARE_FN)
    VK_INSTANCE_OPT_FNS(VK_DECLARE_FN)
} vk_instance_fns;

typedef struct vk_device_fns {
    VK_DEVICE_FNS(VK_DECLARE_FN)
} vk_device_fns;

/* ===================================================================== */
/* Backend, device, buffer                                                */
/* ===================================================================== */

typedef struct vk_backend {
    void *lib;                     /* dlopen handle of libvulkan.so.1 */
    vk_instance_fns fn;
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    uint32_t n_phys;
    VkPhysicalDevice *phys;
    /* Errors reported by the validation layer (any thread); devices compare with
     * the count they last saw and fail the next enqueue/synchronize. */
    atomic_uint validation_errors;
    atomic_flag msg_taken;
    char validation_msg[768];      /* the first error's text */
} vk_backend;

/* What a device offers, read once at open (and for props). */
typedef struct vk_caps {
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceDriverProperties driver;
    int has_driver_props;
    uint32_t subgroup_size;
    VkSubgroupFeatureFlags subgroup_ops;
    int subgroup_compute;          /* subgroup ops in compute shaders */
    int storage16;                 /* storageBuffer16BitAccess */
    int coopmat_nv;                /* VK_NV_cooperative_matrix with f16 x f16 -> f32 */
    uint32_t cm_m, cm_n, cm_k;
    int unified;                   /* integrated/CPU: device memory is host visible */
    uint64_t device_local_bytes;
    uint32_t compute_units;        /* SMs / CUs where an extension says, else 0 */
} vk_caps;

typedef struct vk_buffer {
    VkBuffer buf;
    VkDeviceMemory mem;
    uint64_t size;                 /* bytes the host asked for */
    uint64_t vk_size;              /* bytes of the VkBuffer (>= 16, multiple of 4) */
    void *mapped;                  /* persistent mapping when host visible */
    int coherent;
} vk_buffer;

/* A command buffer with its fence and the descriptor pools its sets came from. */
typedef struct vk_frame {
    VkCommandBuffer cb;
    VkFence fence;
    VkDescriptorPool *pools;
    uint32_t n_pools, cap_pools, cur_pool;
    int state;                     /* VK_FRAME_* */
    uint32_t n_dispatches;
} vk_frame;

enum { VK_FRAME_FREE = 0, VK_FRAME_RECORDING = 1, VK_FRAME_SUBMITTED = 2 };

/* Byte ranges read and written since the last barrier (see vk_submit.c). */
#define VK_HAZARD_MAX 64
typedef struct vk_range {
    VkBuffer buf;
    uint64_t lo, hi;
} vk_range;
typedef struct vk_hazard {
    vk_range reads[VK_HAZARD_MAX], writes[VK_HAZARD_MAX];
    uint32_t n_reads, n_writes;
} vk_hazard;

typedef struct vk_pipeline_key {
    uint32_t kernel;               /* vk_kernel_id */
    uint32_t n_spec;
    uint32_t spec[16];             /* ids 0..2: local size; 3..: the kernel's own */
} vk_pipeline_key;

typedef struct vk_pipeline_entry {
    vk_pipeline_key key;
    VkPipeline pipeline;
} vk_pipeline_entry;

#define VK_TIMER_SLOTS 256u
#define VK_MAX_BINDINGS 12u
#define VK_PUSH_BYTES 128u

typedef struct vk_device {
    vk_backend *be;
    uint32_t index;
    VkPhysicalDevice phys;
    VkDevice dev;
    vk_device_fns fn;
    VkQueue queue;
    uint32_t qfam;
    vk_caps caps;
    uint32_t timestamp_bits;

    uint32_t mem_buffers;          /* memory type of ssmrt buffers */
    int buffers_mapped;            /* that type is host visible (unified memory) */
    uint32_t mem_staging;          /* host-visible type for staging (discrete) */

    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    vk_pipeline_entry *pipes;
    uint32_t n_pipes, cap_pipes;

    VkCommandPool cmd_pool;
    vk_frame *frames;
    uint32_t n_frames;
    int32_t cur;                   /* recording frame, -1 if none */
    vk_hazard hz;

    vk_buffer *staging;            /* NULL on unified memory */
    vk_buffer *dummy;              /* bound to unused bindings */
    vk_buffer *scratch;            /* kernels' intermediate results (vk_scratch), or NULL */

    /* Timer slots (vk_submit.c): one timestamp query each. */
    VkQueryPool queries;
    uint8_t slot_state[VK_TIMER_SLOTS]; /* VK_SLOT_* */
    uint64_t slot_ticks[VK_TIMER_SLOTS]; /* the stamp, once read */
    int timer_in_recording;        /* a timer mark is in the recording frame */
    PFN_vkResetQueryPool fn_reset_queries; /* host query reset (Vulkan 1.2), or NULL */

    unsigned validation_seen;
    int lost;                      /* VK_ERROR_DEVICE_LOST seen: every call fails */

    /* VK_KHR_pipeline_executable_properties, enabled only with debug logging:
     * pipelines are created capturing statistics, logged by vk_pipeline_stats.c. */
    int exec_stats;
    PFN_vkGetPipelineExecutablePropertiesKHR fn_exec_props;
    PFN_vkGetPipelineExecutableStatisticsKHR fn_exec_stats;
} vk_device;


/* ===================================================================== */
/* Shared helpers                                                         */
/* ===================================================================== */

extern const ssmrt_host_api *vk_host;

/* Reports a message through the host and returns status. */
int vk_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Maps a failed VkResult to a status with a message naming what failed. */
int vk_fail(vk_device *d, VkResult r, const char *what);
const char *vk_result_name(VkResult r);
void vk_log(ssmrt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* vk_loader.c */
int vk_loader_open(vk_backend *be);
void vk_loader_close(vk_backend *be);
void vk_loader_instance(vk_backend *be);
int vk_loader_device(vk_backend *be, VkDevice dev, vk_device_fns *fn);

/* vk_debug.c */
int vk_debug_wanted(vk_backend *be, const char **ext_name);
void vk_debug_start(vk_backend *be);
void vk_debug_stop(vk_backend *be);
/* Non-zero (with a message) if the validation layer reported an error since the
 * device last looked. */
int vk_debug_check(vk_device *d, const char *when);

/* vk_device.c */
void vk_device_query_caps(vk_backend *be, VkPhysicalDevice phys, vk_caps *caps);
int vk_device_open(vk_backend *be, uint32_t index, vk_device **out);
void vk_device_close(vk_device *d);

/* vk_buffer.c */
int vk_buffer_create(vk_device *d, uint64_t bytes, uint32_t mem_type, int map,
                     VkBufferUsageFlags usage, vk_buffer **out);
/* The device's scratch buffer with at least bytes (grown on demand; growing waits
 * for the work in flight, which may still use the old one). */
int vk_scratch(vk_device *d, uint64_t bytes, vk_buffer **out);
void vk_buffer_destroy(vk_device *d, vk_buffer *b);
int vk_abi_buffer_alloc(void *device, uint64_t bytes, void **out_buffer);
void vk_abi_buffer_free(void *device, void *buffer);
int vk_abi_buffer_upload(void *device, void *buffer, uint64_t offset, const void *src,
                         uint64_t bytes);
int vk_abi_buffer_download(void *device, void *buffer, uint64_t offset, void *dst,
                           uint64_t bytes);
int vk_abi_buffer_copy(void *device, void *src, uint64_t src_offset, void *dst,
                       uint64_t dst_offset, uint64_t bytes);
int vk_abi_buffer_fill_zero(void *device, void *buffer, uint64_t offset, uint64_t bytes);

/* vk_submit.c */
int vk_submit_recording(vk_device *d, VkCommandBuffer *out_cb);
/* Records a barrier first if the given ranges conflict with work since the last
 * one, then remembers them. */
void vk_submit_track(vk_device *d, const vk_range *reads, uint32_t n_reads,
                     const vk_range *writes, uint32_t n_writes);
void vk_submit_barrier(vk_device *d);
int vk_submit_flush(vk_device *d);      /* submit the recording frame, no wait */
int vk_submit_wait(vk_device *d);       /* flush, then wait for everything */
int vk_submit_alloc_set(vk_device *d, VkDescriptorSet *out);
void vk_submit_destroy(vk_device *d);
int vk_abi_synchronize(void *device);
int vk_abi_begin_batch(void *device);
int vk_abi_end_batch(void *device);
int vk_abi_timer_mark(void *device, uint32_t slot);
int vk_abi_timer_read(void *device, uint32_t slot_begin, uint32_t slot_end, double *out_ns);

/* vk_pipeline.c */
typedef enum vk_kernel_id {
#define VK_KERNEL(id, name) id,
#include "vk_kernels.def"
#undef VK_KERNEL
    VK_KERNEL_COUNT
} vk_kernel_id;
int vk_pipeline_layout_create(vk_device *d);
int vk_pipeline_get(vk_device *d, const vk_pipeline_key *key, VkPipeline *out);
/* vk_pipeline_stats.c: logs the driver's statistics of a pipeline (debug level). */
void vk_pipeline_log_stats(vk_device *d, VkPipeline pipeline, const char *name);
const char *vk_kernel_name(uint32_t kernel);
void vk_pipeline_destroy_all(vk_device *d);

/* vk_dispatch.c */
typedef struct vk_binding {
    vk_buffer *buf;                /* NULL: unused (bound to the dummy buffer) */
    uint64_t offset;               /* bytes */
    uint64_t bytes;                /* bytes the kernel may touch from offset */
    uint32_t esize;                /* element size: the push offset is in elements */
    int write;
} vk_binding;

/* A binding for a tensor descriptor (absent -> unused). Fails if the tensor
 * does not fit its buffer or one descriptor range (maxStorageBufferRange). */
int vk_bind_tensor(vk_device *d, const ssmrt_tensor_desc *t, int write, vk_binding *out);

/* Records one dispatch. The kernel's push constant block starts with one uint
 * element offset per binding (nb of them), followed by push (push_bytes). */
int vk_dispatch(vk_device *d, const vk_pipeline_key *key, const vk_binding *b, uint32_t nb,
                const void *push, uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz);
/* Workgroup count for n items, capped at the device limit (kernels loop). */
uint32_t vk_groups(const vk_device *d, uint64_t items, uint32_t per_group);

/* vk_ops.c */
int vk_abi_supports(void *device, const ssmrt_op *op);
int vk_abi_enqueue(void *device, const ssmrt_op *op);
int64_t vk_desc_numel(const ssmrt_tensor_desc *t);
int vk_desc_present(const ssmrt_tensor_desc *t);
void vk_desc_shape4(const ssmrt_tensor_desc *t, uint32_t shape[4], uint32_t stride[4]);
int vk_opt_src(const ssmrt_op *op, uint32_t i);
int vk_opt_dst(const ssmrt_op *op, uint32_t i);
const char *vk_op_name(uint32_t kind);
/* A pipeline key with the local size and extra specialization constants. */
vk_pipeline_key vk_key(uint32_t kernel, uint32_t lx, uint32_t ly, uint32_t lz, uint32_t n_extra,
                       const uint32_t *extra);
/* The kernel variant to use: the 16-bit storage build where the device has it. */
uint32_t vk_kernel16(const vk_device *d, uint32_t kernel_plain, uint32_t kernel_s16);

/* Op families (vk_op_*.c): each checks shapes, binds, and dispatches. */
int vk_op_copy(vk_device *d, const ssmrt_op *op);
int vk_op_binary(vk_device *d, const ssmrt_op *op);
int vk_op_unary(vk_device *d, const ssmrt_op *op);
int vk_op_softmax(vk_device *d, const ssmrt_op *op);
int vk_op_norm(vk_device *d, const ssmrt_op *op);
int vk_op_matmul(vk_device *d, const ssmrt_op *op);
int vk_op_embedding(vk_device *d, const ssmrt_op *op);
int vk_op_topk(vk_device *d, const ssmrt_op *op);
int vk_op_scan(vk_device *d, const ssmrt_op *op);
int vk_op_conv1d(vk_device *d, const ssmrt_op *op);
int vk_op_conv_long(vk_device *d, const ssmrt_op *op);
int vk_op_attention(vk_device *d, const ssmrt_op *op);
/* The fill kernel behind buffer_fill_zero for unaligned edges. */
int vk_op_fill_words(vk_device *d, vk_buffer *b, uint64_t word_lo, uint64_t n_words,
                     uint32_t head_mask, uint32_t tail_mask);

#endif

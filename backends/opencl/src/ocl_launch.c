/* Setting kernel arguments and enqueueing NDRanges. */
#include <stdio.h>

#include "ocl.h"

void ssmrt_ocl_args_begin(ssmrt_ocl_args *a, ssmrt_ocl_kernel *k)
{
    a->k = k;
    a->next = 0;
    a->err = CL_SUCCESS;
    a->err_index = 0;
}

static void set_arg(ssmrt_ocl_args *a, size_t size, const void *value)
{
    cl_int err = clSetKernelArg(a->k->kernel, a->next, size, value);
    if (err != CL_SUCCESS && a->err == CL_SUCCESS) {
        a->err = err;
        a->err_index = a->next;
    }
    a->next++;
}

void ssmrt_ocl_arg_raw(ssmrt_ocl_args *a, size_t size, const void *value)
{
    set_arg(a, size, value);
}

void ssmrt_ocl_arg_mem(ssmrt_ocl_args *a, cl_mem m)
{
    /* A NULL cl_mem becomes a NULL pointer in the kernel (absent optional input). */
    set_arg(a, sizeof(cl_mem), m ? (const void *)&m : NULL);
}

void ssmrt_ocl_arg_i32(ssmrt_ocl_args *a, int32_t v)
{
    cl_int x = v;
    set_arg(a, sizeof x, &x);
}

void ssmrt_ocl_arg_i64(ssmrt_ocl_args *a, int64_t v)
{
    cl_long x = v;
    set_arg(a, sizeof x, &x);
}

void ssmrt_ocl_arg_f32(ssmrt_ocl_args *a, float v)
{
    cl_float x = v;
    set_arg(a, sizeof x, &x);
}

void ssmrt_ocl_arg_local(ssmrt_ocl_args *a, size_t bytes)
{
    set_arg(a, bytes, NULL);
}

void ssmrt_ocl_arg_tensor(ssmrt_ocl_args *a, const ssmrt_tensor_desc *t)
{
    const ssmrt_ocl_buffer *b = t->ndim ? t->buffer : NULL; /* ndim 0: absent */
    size_t es = t->dtype == SSMRT_F16 || t->dtype == SSMRT_BF16 ? 2 : 4;
    ssmrt_ocl_arg_mem(a, b ? b->mem : NULL);
    ssmrt_ocl_arg_i64(a, b ? (int64_t)(t->offset / es) : 0);
}

size_t ssmrt_ocl_wg_size(const ssmrt_ocl_kernel *k, size_t want)
{
    size_t lim = k->max_wg < want ? k->max_wg : want;
    size_t p = 1;
    while (p * 2 <= lim)
        p *= 2;
    return p;
}

int ssmrt_ocl_launch(ssmrt_ocl_device *dev, ssmrt_ocl_args *a, cl_uint dims,
                     const size_t *global, const size_t *local, cl_event *out_event)
{
    if (a->err != CL_SUCCESS) {
        char what[128];
        snprintf(what, sizeof what, "setting argument %u of kernel %s", a->err_index,
                 a->k->name);
        return ssmrt_ocl_fail_cl(a->err, what);
    }
    size_t g[3];
    for (cl_uint i = 0; i < dims; i++) {
        if (global[i] == 0)
            return SSMRT_OK; /* empty range: nothing to do */
        size_t l = local ? local[i] : 1;
        g[i] = (global[i] + l - 1) / l * l; /* OpenCL 1.2 needs multiples of local */
    }
    /* While timers are in use, the kernel's event is kept for them. */
    cl_event ev = NULL;
    int track = dev->timing && !dev->in_mark;
    cl_int err = clEnqueueNDRangeKernel(dev->queue, a->k->kernel, dims, NULL, g, local, 0, NULL,
                                        out_event || track ? &ev : NULL);
    if (err != CL_SUCCESS) {
        char what[128];
        snprintf(what, sizeof what, "enqueueing kernel %s", a->k->name);
        return ssmrt_ocl_fail_cl(err, what);
    }
    if (track) {
        clRetainEvent(ev); /* the timers' reference */
        ssmrt_ocl_timer_track(dev, ev);
    }
    if (out_event)
        *out_event = ev;
    else if (ev)
        clReleaseEvent(ev);
    return SSMRT_OK;
}

/* Plugin discovery and loading.
 *
 * Like the OpenCL ICD loader, a broken plugin never takes the host down: every
 * failure (dlopen, missing entry, ABI refusal, short vtable, init failure) is
 * recorded as the plugin's reason and the plugin is skipped. Plugins are never
 * unloaded: drivers they pulled in may have registered process-wide state. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "plugin_registry.h"

#ifndef SSMRT_INSTALL_LIBDIR
#define SSMRT_INSTALL_LIBDIR "/usr/local/lib"
#endif

static ssmrt__plugin *ssmrt__plugins;
static uint32_t ssmrt__plugin_count;
static char ssmrt__search_report[2048];
static pthread_once_t ssmrt__registry_once = PTHREAD_ONCE_INIT;

/* ---- host API handed to plugins ------------------------------------------ */

static void ssmrt__host_log(ssmrt_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ssmrt__logv((int)level, fmt, ap);
    va_end(ap);
}

static void ssmrt__host_report_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ssmrt__failv(SSMRT_ERR_BACKEND, fmt, ap);
    va_end(ap);
}

static ssmrt_host_api ssmrt__host;

const ssmrt_host_api *ssmrt__host_api(void)
{
    if (!ssmrt__host.struct_size) {
        ssmrt_host_api h = {
            .struct_size = sizeof(ssmrt_host_api),
            .abi_version = SSMRT_BACKEND_ABI_VERSION,
            .log = ssmrt__host_log,
            .report_error = ssmrt__host_report_error,
            .alloc = ssmrt__malloc,
            .free = ssmrt__free,
            .log_level = ssmrt__config_get()->log_level,
        };
        ssmrt__host = h;
    }
    return &ssmrt__host;
}

/* ---- loading one plugin ---------------------------------------------------- */

static void ssmrt__plugin_fail(ssmrt__plugin *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
    ssmrt__log(SSMRT_LOG_INFO, "plugin %s (%s) skipped: %s", p->name, p->path, p->reason);
}

/* The members every ABI v1 vtable must have, up to and including synchronize. */
#define SSMRT__VTABLE_V1_SIZE (offsetof(ssmrt_backend_vtable, synchronize) + sizeof(void *))

static void ssmrt__device_info_fill(ssmrt__plugin *p, uint32_t i)
{
    ssmrt_backend_device_props *pr = &p->props[i];
    ssmrt_device_info *in = &p->infos[i];
    pr->name[sizeof pr->name - 1] = 0;
    pr->vendor[sizeof pr->vendor - 1] = 0;
    pr->driver_version[sizeof pr->driver_version - 1] = 0;
    pr->api_version[sizeof pr->api_version - 1] = 0;
    in->backend = p->name;
    in->index = i;
    in->name = pr->name;
    in->vendor = pr->vendor;
    in->driver_version = pr->driver_version;
    in->api_version = pr->api_version;
    in->memory_bytes = pr->memory_bytes;
    in->compute_units = pr->compute_units;
    in->subgroup_size = pr->subgroup_size;
    in->dtype_mask = pr->dtype_mask;
    in->is_reference = pr->is_reference;
}

static void ssmrt__plugin_load(ssmrt__plugin *p)
{
    void *dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        ssmrt__plugin_fail(p, "dlopen failed: %s", dlerror());
        return;
    }
    ssmrt_backend_entry_fn entry;
    *(void **)&entry = dlsym(dl, SSMRT_BACKEND_ENTRY_SYMBOL);
    if (!entry) {
        ssmrt__plugin_fail(p, "not an ssmrt plugin: no '%s' symbol", SSMRT_BACKEND_ENTRY_SYMBOL);
        dlclose(dl);
        return;
    }
    uint32_t version = 0;
    const ssmrt_backend_vtable *vt = NULL;
    ssmrt__fail(SSMRT_OK, "(the plugin gave no reason)");
    if (entry(ssmrt__host_api(), SSMRT_BACKEND_ABI_VERSION, &version, &vt) != 0) {
        ssmrt__plugin_fail(p, "plugin refused ABI version %u: %s", SSMRT_BACKEND_ABI_VERSION,
                           ssmrt_last_error());
        return;
    }
    if (version < SSMRT_BACKEND_ABI_MIN_VERSION || version > SSMRT_BACKEND_ABI_VERSION) {
        ssmrt__plugin_fail(p, "plugin speaks ABI version %u, host speaks %u..%u", version,
                           SSMRT_BACKEND_ABI_MIN_VERSION, SSMRT_BACKEND_ABI_VERSION);
        return;
    }
    if (!vt || vt->struct_size < SSMRT__VTABLE_V1_SIZE || vt->abi_version != version) {
        ssmrt__plugin_fail(p, "plugin vtable is invalid (size %u, need >= %zu; version %u)",
                           vt ? vt->struct_size : 0, (size_t)SSMRT__VTABLE_V1_SIZE,
                           vt ? vt->abi_version : 0);
        return;
    }
    const void *required[] = {vt->init, vt->shutdown, vt->device_count, vt->device_props,
                              vt->device_open, vt->device_close, vt->buffer_alloc,
                              vt->buffer_free, vt->buffer_upload, vt->buffer_download,
                              vt->buffer_copy, vt->buffer_fill_zero, vt->supports,
                              vt->enqueue, vt->synchronize};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!required[i]) {
            ssmrt__plugin_fail(p, "plugin vtable misses required function #%zu", i);
            return;
        }
    p->vt = vt;
    p->abi_version = version;
    ssmrt__fail(SSMRT_OK, "(the plugin gave no reason)");
    if (vt->init(&p->backend) != 0) {
        ssmrt__plugin_fail(p, "%s", ssmrt_last_error());
        return;
    }
    uint32_t n = 0;
    if (vt->device_count(p->backend, &n) != 0) {
        ssmrt__plugin_fail(p, "cannot count devices: %s", ssmrt_last_error());
        return;
    }
    if (n == 0) {
        ssmrt__plugin_fail(p, "no devices");
        return;
    }
    p->props = calloc(n, sizeof *p->props);
    p->infos = calloc(n, sizeof *p->infos);
    if (!p->props || !p->infos) {
        free(p->props);
        free(p->infos);
        p->props = NULL;
        p->infos = NULL;
        ssmrt__plugin_fail(p, "out of host memory listing %u devices", n);
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        p->props[i].struct_size = sizeof(ssmrt_backend_device_props);
        if (vt->device_props(p->backend, i, &p->props[i]) != 0) {
            ssmrt__plugin_fail(p, "cannot read device %u properties: %s", i, ssmrt_last_error());
            return;
        }
        ssmrt__device_info_fill(p, i);
    }
    p->device_count = n;
    p->loaded = 1;
    p->reason[0] = 0;
    ssmrt__log(SSMRT_LOG_INFO, "plugin %s loaded from %s: %u device(s)", p->name, p->path, n);
}

/* ---- discovery ------------------------------------------------------------- */

static void ssmrt__report_append(const char *fmt, ...)
{
    size_t used = strlen(ssmrt__search_report);
    if (used + 1 >= sizeof ssmrt__search_report)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ssmrt__search_report + used, sizeof ssmrt__search_report - used, fmt, ap);
    va_end(ap);
}

static int ssmrt__plugin_known(const char *name)
{
    for (uint32_t i = 0; i < ssmrt__plugin_count; i++)
        if (!strcmp(ssmrt__plugins[i].name, name))
            return 1;
    return 0;
}

/* user_given: the directory came from SSMRT_PLUGIN_PATH, so its absence is worth a
 * warning; the default install libdir may legitimately be missing. */
static void ssmrt__scan_dir(const char *dir, int user_given)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        ssmrt__report_append("%s%s (does not exist)", *ssmrt__search_report ? ", " : "", dir);
        ssmrt__log(user_given ? SSMRT_LOG_WARN : SSMRT_LOG_INFO,
                   "plugin directory %s does not exist", dir);
        return;
    }
    ssmrt__report_append("%s%s", *ssmrt__search_report ? ", " : "", dir);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 12 || strncmp(e->d_name, "libssmrt-", 9) || strcmp(e->d_name + len - 3, ".so"))
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        char *copy = grown ? strdup(e->d_name) : NULL;
        if (grown)
            names = grown;
        if (!copy) {
            ssmrt__log(SSMRT_LOG_ERROR, "out of host memory listing plugins in %s", dir);
            break;
        }
        names[n++] = copy;
    }
    closedir(d);
    /* readdir order is arbitrary; sort so plugin order is stable */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        char name[sizeof ssmrt__plugins->name];
        if (len - 12 >= sizeof name) {
            ssmrt__log(SSMRT_LOG_WARN, "plugin file name %s/%s is too long; skipped", dir, names[i]);
            free(names[i]);
            continue;
        }
        memcpy(name, names[i] + 9, len - 12);
        name[len - 12] = 0;
        if (ssmrt__plugin_known(name)) {
            ssmrt__log(SSMRT_LOG_INFO, "plugin %s in %s shadowed by an earlier directory", name, dir);
            free(names[i]);
            continue;
        }
        ssmrt__plugin *grown = realloc(ssmrt__plugins, (ssmrt__plugin_count + 1) * sizeof *grown);
        if (!grown) {
            ssmrt__log(SSMRT_LOG_ERROR, "out of host memory registering plugin %s", names[i]);
            free(names[i]);
            continue;
        }
        ssmrt__plugins = grown;
        ssmrt__plugin *p = &ssmrt__plugins[ssmrt__plugin_count++];
        memset(p, 0, sizeof *p);
        memcpy(p->name, name, sizeof p->name);
        snprintf(p->path, sizeof p->path, "%s/%s", dir, names[i]);
        free(names[i]);
    }
    free(names);
}

static void ssmrt__registry_load(void)
{
    const ssmrt__config *cfg = ssmrt__config_get();
    if (cfg->plugin_path) {
        char copy[8192];
        if (strlen(cfg->plugin_path) >= sizeof copy)
            ssmrt__log(SSMRT_LOG_ERROR, "SSMRT_PLUGIN_PATH is longer than %zu bytes; ignoring the rest",
                       sizeof copy - 1);
        snprintf(copy, sizeof copy, "%s", cfg->plugin_path);
        char *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
            ssmrt__scan_dir(dir, 1);
    } else {
        /* The folder of libssmrt itself, then the install libdir. Never the working
         * directory: that would let any folder a user stands in inject code. */
        Dl_info info;
        char self[4096] = "";
        if (dladdr((void *)ssmrt__registry_load, &info) && info.dli_fname) {
            snprintf(self, sizeof self, "%s", info.dli_fname);
            char *slash = strrchr(self, '/');
            if (slash) {
                *slash = 0;
                ssmrt__scan_dir(self, 0);
            } else {
                self[0] = 0;
            }
        }
        if (strcmp(self, SSMRT_INSTALL_LIBDIR) != 0)
            ssmrt__scan_dir(SSMRT_INSTALL_LIBDIR, 0);
    }
    /* Loading runs init; keep it after discovery so the list order is stable. */
    for (uint32_t i = 0; i < ssmrt__plugin_count; i++)
        ssmrt__plugin_load(&ssmrt__plugins[i]);
}

void ssmrt__registry_get(ssmrt__plugin **plugins, uint32_t *count)
{
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", ssmrt_last_error());
    pthread_once(&ssmrt__registry_once, ssmrt__registry_load);
    ssmrt__fail(SSMRT_OK, "%s", saved); /* loading must not clobber the caller's message */
    *plugins = ssmrt__plugins;
    *count = ssmrt__plugin_count;
}

const char *ssmrt__registry_search_report(void)
{
    ssmrt__plugin *p;
    uint32_t n;
    ssmrt__registry_get(&p, &n);
    return ssmrt__search_report;
}

/* ---- public ------------------------------------------------------------------ */

uint32_t ssmrt_plugin_count(void)
{
    ssmrt__plugin *p;
    uint32_t n;
    ssmrt__registry_get(&p, &n);
    return n;
}

ssmrt_status ssmrt_plugin_get(uint32_t index, ssmrt_plugin_info *info)
{
    ssmrt__plugin *p;
    uint32_t n;
    ssmrt__registry_get(&p, &n);
    if (!info)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_plugin_get: info is NULL");
    if (index >= n)
        return ssmrt__fail(SSMRT_ERR_NOT_FOUND, "plugin index %u out of range (%u plugins)", index, n);
    info->name = p[index].name;
    info->path = p[index].path;
    info->loaded = p[index].loaded;
    info->reason = p[index].reason;
    info->abi_version = p[index].abi_version;
    info->device_count = p[index].device_count;
    return SSMRT_OK;
}

ssmrt_status ssmrt_plugin_device_info(uint32_t plugin, uint32_t device, ssmrt_device_info *info)
{
    ssmrt__plugin *p;
    uint32_t n;
    ssmrt__registry_get(&p, &n);
    if (!info)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_plugin_device_info: info is NULL");
    if (plugin >= n)
        return ssmrt__fail(SSMRT_ERR_NOT_FOUND, "plugin index %u out of range (%u plugins)", plugin, n);
    if (device >= p[plugin].device_count)
        return ssmrt__fail(SSMRT_ERR_NOT_FOUND, "plugin %s has no device %u (%u devices)",
                           p[plugin].name, device, p[plugin].device_count);
    *info = p[plugin].infos[device];
    return SSMRT_OK;
}

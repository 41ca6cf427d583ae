/*
 * vk_debug.c: a VK_EXT_debug_utils messenger that routes driver and validation
 * layer messages through the host's log, and turns validation errors into
 * failures of the next enqueue or synchronize, so a test run under the Khronos
 * validation layer (VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation) fails on any
 * error the layer finds instead of printing it and passing.
 *
 * The messenger is created whenever the loader offers the extension; without a
 * layer enabled it only carries the loader's and driver's own messages.
 */
#include <stdio.h>
#include <string.h>

#include "vk_internal.h"

int vk_debug_wanted(vk_backend *be, const char **ext_name) {
    uint32_t n = 0;
    *ext_name = NULL;
    if (be->fn.vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) != VK_SUCCESS || !n) return 0;
    VkExtensionProperties *p = vk_host->alloc(sizeof *p * n);
    if (!p) return 0;
    if (be->fn.vkEnumerateInstanceExtensionProperties(NULL, &n, p) >= 0)
        for (uint32_t i = 0; i < n; i++)
            if (!strcmp(p[i].extensionName, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
                *ext_name = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    vk_host->free(p);
    return *ext_name != NULL;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL
on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT type,
           const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    vk_backend *be = user;
    const char *msg = data && data->pMessage ? data->pMessage : "(no message)";
    int is_error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
    if (is_error && (type & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT)) {
        /* Keep the first message for the error report; later ones are logged. */
        if (!atomic_flag_test_and_set(&be->msg_taken))
            snprintf(be->validation_msg, sizeof be->validation_msg, "%s", msg);
        atomic_fetch_add(&be->validation_errors, 1u);
        vk_log(SSMRT_LOG_ERROR, "vulkan validation: %s", msg);
    } else if (is_error) {
        vk_log(SSMRT_LOG_ERROR, "vulkan: %s", msg);
    } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        vk_log(SSMRT_LOG_WARN, "vulkan: %s", msg);
    } else {
        vk_log(SSMRT_LOG_DEBUG, "vulkan: %s", msg);
    }
    return VK_FALSE; /* never abort the call that triggered the message */
}

void vk_debug_start(vk_backend *be) {
    if (!be->fn.vkCreateDebugUtilsMessengerEXT) return;
    VkDebugUtilsMessengerCreateInfoEXT ci = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_message,
        .pUserData = be,
    };
    if (be->fn.vkCreateDebugUtilsMessengerEXT(be->instance, &ci, NULL, &be->messenger) != VK_SUCCESS)
        be->messenger = VK_NULL_HANDLE;
}

void vk_debug_stop(vk_backend *be) {
    if (be->messenger && be->fn.vkDestroyDebugUtilsMessengerEXT)
        be->fn.vkDestroyDebugUtilsMessengerEXT(be->instance, be->messenger, NULL);
    be->messenger = VK_NULL_HANDLE;
}

int vk_debug_check(vk_device *d, const char *when) {
    unsigned n = atomic_load(&d->be->validation_errors);
    if (n == d->validation_seen) return 0;
    unsigned fresh = n - d->validation_seen;
    d->validation_seen = n;
    char first[sizeof d->be->validation_msg];
    snprintf(first, sizeof first, "%s", d->be->validation_msg);
    atomic_flag_clear(&d->be->msg_taken); /* the next error is reported with its own text */
    return vk_error(SSMRT_ERR_BACKEND,
                    "vulkan: the validation layer reported %u error(s) before %s; the first: %s",
                    fresh, when, first);
}

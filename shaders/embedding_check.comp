#version 450
// EMBEDDING, first pass: flags an id outside [0, V) in the device status words
// (read by the host at synchronize, which then fails with the id and position),
// so the gather pass can leave y untouched, as the reference does.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Ids { int ids[]; };
layout(std430, binding = 1) buffer Status { uint status[]; };

layout(push_constant) uniform PC {
    uint off_ids, off_status;
    uint M, V;
} pc;

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.M; i += step) {
        int id = ids[pc.off_ids + i];
        if (id < 0 || uint(id) >= pc.V) {
            if (atomicOr(status[pc.off_status], 1u) == 0u) {
                status[pc.off_status + 1u] = uint(id);
                status[pc.off_status + 2u] = i;
            }
        }
    }
}

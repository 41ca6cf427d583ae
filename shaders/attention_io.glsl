// attention_io.glsl: the q, k, v and y buffers of attention.comp and
// attention_row.comp, in the dtype DT (a specialization constant the including
// shader declares: DT_F32, DT_F16 or DT_BF16, one dtype for all four tensors).
//
// ld_q/ld_k/ld_v give the stored value as f32 (exact for f16 and bf16), so all
// arithmetic stays f32; st_y rounds the final f32 value to DT once (nearest even).
// With -DSTORAGE16 (the device has 16-bit storage) 16-bit values are read and
// written through uint16_t arrays; without it they are taken from the 32-bit word
// that holds them, and a store updates its half of the word with two atomics, since
// the other half may belong to another invocation (as copy.comp does).
// Indices are elements from the binding start (the host binds at an aligned
// offset at or below each tensor and passes the rest in elements).

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer Kb { float k[]; };
layout(std430, binding = 2) readonly buffer Vb { float v[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
#ifdef STORAGE16
layout(std430, binding = 0) readonly buffer Q16 { uint16_t q16[]; };
layout(std430, binding = 1) readonly buffer K16 { uint16_t k16[]; };
layout(std430, binding = 2) readonly buffer V16 { uint16_t v16[]; };
layout(std430, binding = 3) writeonly buffer Y16 { uint16_t y16[]; };
#define ATT_BITS(a16, a32, i) uint(a16[i])
#else
layout(std430, binding = 0) readonly buffer Q32 { uint q32[]; };
layout(std430, binding = 1) readonly buffer K32 { uint k32[]; };
layout(std430, binding = 2) readonly buffer V32 { uint v32[]; };
layout(std430, binding = 3) buffer Y32 { uint y32[]; };
#define ATT_BITS(a16, a32, i) ((a32[(i) >> 1] >> (((i) & 1u) * 16u)) & 0xFFFFu)
#endif

float ld_q(uint i) { return DT == DT_F32 ? q[i] : half_to_f32(ATT_BITS(q16, q32, i), DT); }
float ld_k(uint i) { return DT == DT_F32 ? k[i] : half_to_f32(ATT_BITS(k16, k32, i), DT); }
float ld_v(uint i) { return DT == DT_F32 ? v[i] : half_to_f32(ATT_BITS(v16, v32, i), DT); }

void st_y(uint i, float x) {
    if (DT == DT_F32) {
        y[i] = x;
        return;
    }
    uint b = DT == DT_F16 ? f32_to_f16(x) : f32_to_bf16(x);
#ifdef STORAGE16
    y16[i] = uint16_t(b);
#else
    uint sh = (i & 1u) * 16u;
    atomicAnd(y32[i >> 1], ~(0xFFFFu << sh));
    atomicOr(y32[i >> 1], b << sh);
#endif
}

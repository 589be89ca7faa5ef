// Activations: basalt_gelu, basalt_swiglu, basalt_swiglu_oss, basalt_to_bf16 (kernels.abi); grid(CEIL(count, 256)),
// block(256).
#include "common.cuh"

// GPT-2's gelu_new in place: 0.5·v·(1 + tanh(u)), u = sqrt(2/π)·(v + 0.044715·v³), written as v / (1 + e^(−2u))
// as ForwardMath.geluTanh does (the same function; accurate expf, no fast math).
extern "C" __global__ void __launch_bounds__(256)
basalt_gelu(float *x, long long count) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    const float s = 0.7978845608028654f;   // (float) sqrt(2/π)
    float v = x[i];
    float u = s * (v + 0.044715f * v * v * v);
    x[i] = v / (1.0f + expf(-2.0f * u));
}

// out = silu(gate)·up, silu(g) = g / (1 + e^(−g)) (Llama's SwiGLU; ForwardMath.siluMul).
extern "C" __global__ void __launch_bounds__(256)
basalt_swiglu(float *out, const float *gate, const float *up, long long count) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    float g = gate[i];
    out[i] = g / (1.0f + expf(-g)) * up[i];
}

// gpt-oss's clamped SwiGLU (GptOss.mixtureOfExperts): gate_up row r holds 2·ff values with gate and linear
// interleaved (gate = even index, linear = odd), biases already added by the expert matmul.
//   gate = min(u[2i], limit), lin = clamp(u[2i+1], −limit, limit), out[r][i] = gate·σ(1.702·gate)·(lin + 1)
// with σ(v) = 1 / (1 + e^(−v)). out is [n][ff]; n counts (token, expert) slots.
extern "C" __global__ void __launch_bounds__(256)
basalt_swiglu_oss(float *out, const float *gate_up, int n, int ff, float limit) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)n * ff) return;
    long long r = i / ff, c = i - r * ff;
    const float *u = gate_up + r * 2 * ff + 2 * c;
    float gate = fminf(u[0], limit);
    float lin = fmaxf(-limit, fminf(limit, u[1]));
    float sig = 1.0f / (1.0f + expf(-(1.702f * gate)));
    out[i] = gate * sig * (lin + 1.0f);
}

// out[i] = bf16(x[i]) as uint16 bits, rounded to nearest even (torch's .to(bfloat16), WeightConversion.floatToBf16):
// the fp32 activations as cuBLASLt's bf16 B operand (Matmuls). A NaN stays a quiet NaN with its sign (rounding alone
// could carry a NaN's payload into the exponent and make it an infinity); ±inf stays ±inf; values that round past
// the largest bf16 become ±inf, as in torch. Integer arithmetic only, so no fast-math question arises.
extern "C" __global__ void __launch_bounds__(256)
basalt_to_bf16(uint16_t *out, const float *x, long long count) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    uint32_t u = __float_as_uint(x[i]);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        out[i] = (uint16_t)((u >> 16) | 0x0040u);
    } else {
        out[i] = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
}

// The single translation unit of basalt.fatbin: every kernel file of kernels.abi, included once. One unit means one
// module image per architecture with no device linking (-rdc=false), and one PTX file for the signature test.
#include "embed_add.cu"
#include "norms.cu"
#include "matmul.cu"
#include "rope.cu"
#include "attention.cu"
#include "activations.cu"
#include "moe.cu"
#include "sampling.cu"
#include "probe.cu"

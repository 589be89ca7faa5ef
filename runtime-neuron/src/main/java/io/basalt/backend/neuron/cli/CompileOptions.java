package io.basalt.backend.neuron.cli;

import java.util.List;

/**
 * What {@code basalt neuron compile} was asked for, checked: the same for the Java stand-in compiler and compile.py.
 *
 * @param target         standin, inf2 or trn1
 * @param tp             ranks per model
 * @param prefillBuckets prefill lengths, ascending
 * @param decodeBatches  decode batch sizes, ascending
 * @param kvLengths      decode KV lengths, ascending
 * @param maxBatch       KV slots
 * @param maxLength      KV positions per slot
 * @param dtype          f32 or bf16
 */
record CompileOptions(String target, int tp, List<Integer> prefillBuckets, List<Integer> decodeBatches, List<Integer> kvLengths,
                      int maxBatch, int maxLength, String dtype) {
    /** compile.py's arguments for these options (kernels/neuron/compile.py --help). */
    List<String> scriptArguments() {
        return List.of("--target", target, "--tp", Integer.toString(tp), "--prefill-buckets", join(prefillBuckets),
                "--decode-batches", join(decodeBatches), "--kv-lengths", join(kvLengths), "--max-batch", Integer.toString(maxBatch),
                "--max-length", Integer.toString(maxLength), "--dtype", dtype);
    }

    private static String join(List<Integer> v) { return String.join(",", v.stream().map(String::valueOf).toList()); }
}

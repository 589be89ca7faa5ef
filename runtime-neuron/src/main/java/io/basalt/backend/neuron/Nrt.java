package io.basalt.backend.neuron;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * The one boundary to libnrt: the JNI bridge {@code libbasalt_neuron.so} (native/neuron), which dlopens
 * {@code libnrt.so.1} at run time. Handles never leave this class: {@link Model}, {@link Tensor} and
 * {@link TensorSet} hold them privately, and every other class of the backend calls these methods.
 * Every NRT status other than NRT_SUCCESS becomes an {@link NrtException} naming the status and the call.
 * Package-private on purpose (see docs/NEURON.md, "The bridge").
 *
 * <p>SKELETON: the API below is the contract the backend is written against; the bodies are filled in with
 * the bridge (issue 18, native part).
 */
final class Nrt implements AutoCloseable {

    /** libnrt's version (nrt_get_version). */
    record Version(long major, long minor, long patch, long maintenance, String detail, String gitHash) { }

    /** One NEFF input or output (nrt_get_model_tensor_info): name, usage, byte size, advisory dtype code, shape. */
    record TensorInfo(String name, boolean input, long size, int dtype, long[] shape) { }

    /** A loaded NEFF on one core (nrt_load / nrt_load_collectives). */
    static final class Model {
        private Model() { }
    }

    /** A device tensor (nrt_tensor_allocate, DEVICE placement); freed once, never used after. */
    static final class Tensor {
        private Tensor() { }

        long size() { throw new UnsupportedOperationException("skeleton"); }
    }

    /** Named tensors for one execute's inputs or outputs (nrt_allocate_tensor_set). */
    static final class TensorSet {
        private TensorSet() { }
    }

    /**
     * Loads the bridge and dlopens libnrt: {@code library} when given, else {@code basalt.nrt.library} (system
     * property), else {@code BASALT_NRT_LIBRARY} (environment), else {@code libnrt.so.1} on the loader path, else
     * {@code /opt/aws/neuron/lib/libnrt.so.1}. Fails with a message that names what was tried.
     */
    static Nrt open(Path library) { throw new UnsupportedOperationException("skeleton"); }

    /** The library that was loaded. */
    Path library() { throw new UnsupportedOperationException("skeleton"); }

    Version version() { throw new UnsupportedOperationException("skeleton"); }

    /** NeuronCores visible to this process (nrt_get_visible_vnc_count, else the nc form); callable before init. */
    int visibleCores() { throw new UnsupportedOperationException("skeleton"); }

    /** nrt_init(NRT_FRAMEWORK_TYPE_NO_FW, "", ""): claims the visible cores for this process. */
    void init() { throw new UnsupportedOperationException("skeleton"); }

    /** nrt_load(neff, size, vnc, -1): {@code neff} is a direct buffer (e.g. a mapped file). */
    Model load(ByteBuffer neff, int vnc) { throw new UnsupportedOperationException("skeleton"); }

    /** nrt_load_collectives(neff, size, vnc, -1, rank, world): one rank of a tensor-parallel NEFF. */
    Model loadCollectives(ByteBuffer neff, int vnc, int rank, int world) { throw new UnsupportedOperationException("skeleton"); }

    void unload(Model model) { throw new UnsupportedOperationException("skeleton"); }

    /** The NEFF's inputs and outputs in its own order (fetched and freed with nrt_free_model_tensor_info). */
    List<TensorInfo> tensorInfo(Model model) { throw new UnsupportedOperationException("skeleton"); }

    /** nrt_tensor_allocate(DEVICE, vnc, size, name). */
    Tensor allocate(int vnc, long size, String name) { throw new UnsupportedOperationException("skeleton"); }

    void free(Tensor tensor) { throw new UnsupportedOperationException("skeleton"); }

    /** nrt_tensor_write of src's remaining bytes at {@code offset}; src is direct. */
    void write(Tensor tensor, long offset, ByteBuffer src) { throw new UnsupportedOperationException("skeleton"); }

    /** nrt_tensor_read into dst's remaining bytes from {@code offset}; dst is direct. */
    void read(Tensor tensor, long offset, ByteBuffer dst) { throw new UnsupportedOperationException("skeleton"); }

    TensorSet newTensorSet() { throw new UnsupportedOperationException("skeleton"); }

    void add(TensorSet set, String name, Tensor tensor) { throw new UnsupportedOperationException("skeleton"); }

    void destroy(TensorSet set) { throw new UnsupportedOperationException("skeleton"); }

    /** nrt_execute: synchronous; for a collective NEFF every rank must be executing at once (one thread each). */
    void execute(Model model, TensorSet inputs, TensorSet outputs) { throw new UnsupportedOperationException("skeleton"); }

    /** nrt_close: releases the cores. Tensors and models must be freed and unloaded first. */
    @Override
    public void close() { throw new UnsupportedOperationException("skeleton"); }
}

package io.basalt.backend.neuron;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one boundary to libnrt: the JNI bridge {@code libbasalt_neuron.so} (native/neuron), which dlopens
 * {@code libnrt.so.1} at run time. Handles never leave this class: {@link Model}, {@link Tensor} and
 * {@link TensorSet} hold them privately, and every other class of the backend calls these methods.
 * Every NRT status other than NRT_SUCCESS becomes an {@link NrtException} naming the status and the call.
 * Package-private on purpose (see docs/NEURON.md, "The bridge").
 *
 * <p>Lifetimes are checked here, before any native call: a freed tensor, an unloaded model, a destroyed set or a
 * closed {@code Nrt} is refused with {@link IllegalStateException}. Freeing a handle while another thread still
 * uses it is the caller's error (the runner frees only after its rank threads are done); no lock is taken around
 * {@link #execute}, because the ranks of a collective NEFF must be inside nrt_execute at the same time.
 */
final class Nrt implements AutoCloseable {

    static final String BRIDGE_RESOURCE = "/native/linux-x86_64/libbasalt_neuron.so";
    static final String LIBRARY_PROPERTY = "basalt.nrt.library";
    static final String LIBRARY_ENV = "BASALT_NRT_LIBRARY";
    static final String LOADER_NAME = "libnrt.so.1";
    static final String SDK_PATH = "/opt/aws/neuron/lib/libnrt.so.1";

    /** libnrt's version (nrt_get_version). */
    record Version(long major, long minor, long patch, long maintenance, String detail, String gitHash) { }

    /** One NEFF input or output (nrt_get_model_tensor_info): name, usage, byte size, advisory dtype code, shape. */
    record TensorInfo(String name, boolean input, long size, int dtype, long[] shape) { }

    /** The state every handle shares: its owner and the native pointer, zeroed once released. */
    private abstract static sealed class Handle permits Model, Tensor, TensorSet {
        private final Nrt owner;
        private final AtomicLong handle;
        private final String what;

        Handle(Nrt owner, long handle, String what) {
            this.owner = owner;
            this.handle = new AtomicLong(handle);
            this.what = what;
        }

        /** The live pointer, or IllegalStateException; checked against the owner so handles never cross runtimes. */
        long live(Nrt nrt) {
            if (owner != nrt) throw new IllegalArgumentException(what + " belongs to another Nrt");
            long h = handle.get();
            if (h == 0) throw new IllegalStateException(what + " was already released");
            return h;
        }

        /** Takes the pointer for releasing: exactly one caller gets it, later ones get IllegalStateException. */
        long release(Nrt nrt) {
            live(nrt);
            long h = handle.getAndSet(0);
            if (h == 0) throw new IllegalStateException(what + " was already released");
            return h;
        }
    }

    /** A loaded NEFF on one core (nrt_load / nrt_load_collectives). */
    static final class Model extends Handle {
        private Model(Nrt owner, long handle) { super(owner, handle, "model"); }
    }

    /** A device tensor (nrt_tensor_allocate, DEVICE placement); freed once, never used after. */
    static final class Tensor extends Handle {
        private final long size;
        private final String name;

        private Tensor(Nrt owner, long handle, long size, String name) {
            super(owner, handle, "tensor '" + name + "'");
            this.size = size;
            this.name = name;
        }

        long size() { return size; }

        /** The debug name given at allocation. */
        String name() { return name; }
    }

    /** Named tensors for one execute's inputs or outputs (nrt_allocate_tensor_set). */
    static final class TensorSet extends Handle {
        private TensorSet(Nrt owner, long handle) { super(owner, handle, "tensor set"); }
    }

    private final long lib;
    private final Path library;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Nrt(long lib, Path library) {
        this.lib = lib;
        this.library = library;
    }

    /**
     * Loads the bridge and dlopens libnrt: {@code library} when given, else {@code basalt.nrt.library} (system
     * property), else {@code BASALT_NRT_LIBRARY} (environment), else {@code libnrt.so.1} on the loader path, else
     * {@code /opt/aws/neuron/lib/libnrt.so.1}. Fails with a message that names what was tried.
     *
     * <p>A configured location (the argument, the property or the variable, the first one set) is the only one
     * tried: silently falling back to another libnrt would hide a misconfiguration.
     */
    static Nrt open(Path library) {
        Bridge.load();
        List<String[]> candidates = new ArrayList<>(); // {path, where it came from}
        String property = System.getProperty(LIBRARY_PROPERTY);
        String env = System.getenv(LIBRARY_ENV);
        if (library != null) {
            candidates.add(new String[] {library.toString(), "given to Nrt.open"});
        } else if (property != null && !property.isBlank()) {
            candidates.add(new String[] {property, "system property " + LIBRARY_PROPERTY});
        } else if (env != null && !env.isBlank()) {
            candidates.add(new String[] {env, "environment variable " + LIBRARY_ENV});
        } else {
            candidates.add(new String[] {LOADER_NAME, "loader path"});
            candidates.add(new String[] {SDK_PATH, "Neuron SDK default"});
        }
        StringBuilder tried = new StringBuilder();
        String lastError = "";
        for (String[] candidate : candidates) {
            String[] error = new String[1];
            long lib = nOpen(candidate[0], error);
            if (lib != 0) return new Nrt(lib, Path.of(candidate[0]));
            lastError = error[0];
            if (!tried.isEmpty()) tried.append(", ");
            tried.append(candidate[0]).append(" (").append(candidate[1]).append(')');
        }
        throw new IllegalStateException("libnrt could not be loaded; tried " + tried + "; last error: " + lastError
                + " (set " + LIBRARY_PROPERTY + " or " + LIBRARY_ENV + " to the library's path)");
    }

    /** The library that was loaded. */
    Path library() { return library; }

    Version version() {
        open();
        long[] numbers = new long[4];
        String[] text = new String[2];
        check("nrt_get_version", nVersion(lib, numbers, text));
        return new Version(numbers[0], numbers[1], numbers[2], numbers[3], text[0], text[1]);
    }

    /** NeuronCores visible to this process (nrt_get_visible_vnc_count, else the nc form); callable before init. */
    int visibleCores() {
        open();
        int[] count = new int[1];
        check("nrt_get_visible_vnc_count", nVisibleCores(lib, count));
        return count[0];
    }

    /** nrt_init(NRT_FRAMEWORK_TYPE_NO_FW, "", ""): claims the visible cores for this process. */
    void init() {
        open();
        check("nrt_init", nInit(lib));
    }

    /** nrt_load(neff, size, vnc, -1): {@code neff} is a direct buffer (e.g. a mapped file); its remaining bytes. */
    Model load(ByteBuffer neff, int vnc) {
        open();
        direct(neff);
        long[] model = new long[1];
        check("nrt_load", nLoad(lib, neff, neff.position(), neff.remaining(), vnc, model));
        return new Model(this, model[0]);
    }

    /** nrt_load_collectives(neff, size, vnc, -1, rank, world): one rank of a tensor-parallel NEFF. */
    Model loadCollectives(ByteBuffer neff, int vnc, int rank, int world) {
        open();
        direct(neff);
        long[] model = new long[1];
        check("nrt_load_collectives",
                nLoadCollectives(lib, neff, neff.position(), neff.remaining(), vnc, rank, world, model));
        return new Model(this, model[0]);
    }

    void unload(Model model) {
        open();
        check("nrt_unload", nUnload(lib, model.release(this)));
    }

    /** The NEFF's inputs and outputs in its own order (fetched and freed with nrt_free_model_tensor_info). */
    List<TensorInfo> tensorInfo(Model model) {
        open();
        Object[] out = new Object[5];
        check("nrt_get_model_tensor_info", nTensorInfo(lib, model.live(this), out));
        String[] names = (String[]) out[0];
        int[] usage = (int[]) out[1];
        long[] sizes = (long[]) out[2];
        int[] dtypes = (int[]) out[3];
        long[][] shapes = (long[][]) out[4];
        List<TensorInfo> infos = new ArrayList<>(names.length);
        for (int i = 0; i < names.length; i++) {
            // usage 0 is NRT_TENSOR_USAGE_INPUT, 1 OUTPUT (nrt_experimental.h).
            infos.add(new TensorInfo(names[i], usage[i] == 0, sizes[i], dtypes[i], shapes[i]));
        }
        return List.copyOf(infos);
    }

    /** nrt_tensor_allocate(DEVICE, vnc, size, name). */
    Tensor allocate(int vnc, long size, String name) {
        open();
        Objects.requireNonNull(name, "name");
        if (size <= 0) throw new IllegalArgumentException("tensor size must be positive: " + size);
        long[] tensor = new long[1];
        check("nrt_tensor_allocate", nAllocate(lib, vnc, size, name, tensor));
        return new Tensor(this, tensor[0], size, name);
    }

    void free(Tensor tensor) {
        open();
        nFree(lib, tensor.release(this));
    }

    /** nrt_tensor_write of src's remaining bytes at {@code offset}; src is direct. Its position does not move. */
    void write(Tensor tensor, long offset, ByteBuffer src) {
        open();
        long h = tensor.live(this);
        direct(src);
        check("nrt_tensor_write", nWrite(lib, h, src, src.position(), offset, src.remaining()));
    }

    /** nrt_tensor_copy: {@code size} bytes from src at srcOffset to dst at dstOffset, on the device (same core). */
    void copy(Tensor src, long srcOffset, Tensor dst, long dstOffset, long size) {
        open();
        check("nrt_tensor_copy", nCopy(lib, src.live(this), srcOffset, dst.live(this), dstOffset, size));
    }

    /** nrt_tensor_read into dst's remaining bytes from {@code offset}; dst is direct. Its position does not move. */
    void read(Tensor tensor, long offset, ByteBuffer dst) {
        open();
        long h = tensor.live(this);
        direct(dst);
        if (dst.isReadOnly()) throw new IllegalArgumentException("read needs a writable buffer");
        check("nrt_tensor_read", nRead(lib, h, dst, dst.position(), offset, dst.remaining()));
    }

    TensorSet newTensorSet() {
        open();
        long[] set = new long[1];
        check("nrt_allocate_tensor_set", nNewTensorSet(lib, set));
        return new TensorSet(this, set[0]);
    }

    void add(TensorSet set, String name, Tensor tensor) {
        open();
        Objects.requireNonNull(name, "name");
        check("nrt_add_tensor_to_tensor_set", nAdd(lib, set.live(this), name, tensor.live(this)));
    }

    void destroy(TensorSet set) {
        open();
        nDestroySet(lib, set.release(this));
    }

    /** nrt_execute: synchronous; for a collective NEFF every rank must be executing at once (one thread each). */
    void execute(Model model, TensorSet inputs, TensorSet outputs) {
        open();
        check("nrt_execute", nExecute(lib, model.live(this), inputs.live(this), outputs.live(this)));
    }

    /** nrt_close: releases the cores. Tensors and models must be freed and unloaded first. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        nClose(lib);
        nRelease(lib);
    }

    private void open() {
        if (closed.get()) throw new IllegalStateException("Nrt (" + library + ") is closed");
    }

    private void check(String call, int status) {
        if (status == 0) return;
        String name = nStatusName(lib, status);
        throw new NrtException(call, status, name != null ? name : "NRT_STATUS_" + status);
    }

    private static void direct(ByteBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        if (!buffer.isDirect()) throw new IllegalArgumentException("libnrt needs a direct buffer");
    }

    /** The JNI library, extracted from the jar to a private temporary file and loaded once per JVM. */
    private static final class Bridge {
        private static boolean loaded;

        static synchronized void load() {
            if (loaded) return;
            try (InputStream in = Nrt.class.getResourceAsStream(BRIDGE_RESOURCE)) {
                if (in == null) throw new IllegalStateException("the jar has no " + BRIDGE_RESOURCE);
                // createTempFile makes the file owner-only; deleted right after loading (Linux keeps the mapping).
                Path file = Files.createTempFile("basalt_neuron", ".so");
                try {
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                    System.load(file.toAbsolutePath().toString());
                } finally {
                    Files.deleteIfExists(file);
                }
                loaded = true;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract " + BRIDGE_RESOURCE, e);
            }
        }
    }

    // The bridge (native/neuron/basalt_neuron.c). Statuses come back as ints; out-parameters are 1-element arrays.
    private static native long nOpen(String path, String[] error);
    private static native void nRelease(long lib);
    private static native String nStatusName(long lib, int status);
    private static native int nVersion(long lib, long[] numbers, String[] text);
    private static native int nVisibleCores(long lib, int[] count);
    private static native int nInit(long lib);
    private static native void nClose(long lib);
    private static native int nLoad(long lib, ByteBuffer neff, long offset, long size, int vnc, long[] model);
    private static native int nLoadCollectives(long lib, ByteBuffer neff, long offset, long size, int vnc, int rank,
                                               int world, long[] model);
    private static native int nUnload(long lib, long model);
    private static native int nTensorInfo(long lib, long model, Object[] out);
    private static native int nAllocate(long lib, int vnc, long size, String name, long[] tensor);
    private static native void nFree(long lib, long tensor);
    private static native int nWrite(long lib, long tensor, ByteBuffer src, long position, long offset, long size);
    private static native int nRead(long lib, long tensor, ByteBuffer dst, long position, long offset, long size);
    private static native int nCopy(long lib, long src, long srcOffset, long dst, long dstOffset, long size);
    private static native int nNewTensorSet(long lib, long[] set);
    private static native int nAdd(long lib, long set, String name, long tensor);
    private static native void nDestroySet(long lib, long set);
    private static native int nExecute(long lib, long model, long in, long out);
}

package io.basalt.backend.torch;

import io.basalt.spi.Backend;
import io.basalt.spi.BackendProvider;

/**
 * Registers the torch backend ("torch") with {@link java.util.ServiceLoader}. Available when DJL's
 * PyTorch engine is on the class path and a libtorch is at hand (the bundled CPU native jar, or
 * {@code PYTORCH_LIBRARY_PATH}); checked without loading native code. DJL runs offline unless the
 * user set {@code ai.djl.offline} themselves: a backend never downloads anything.
 */
public final class TorchBackendProvider implements BackendProvider {
    @Override
    public String name() { return TorchBackend.NAME; }

    @Override
    public boolean isAvailable() {
        try {
            ClassLoader cl = TorchBackendProvider.class.getClassLoader();
            Class.forName("ai.djl.pytorch.engine.PtEngine", false, cl);
            String libraryPath = System.getenv("PYTORCH_LIBRARY_PATH");
            boolean nativeLibs = (libraryPath != null && !libraryPath.isBlank())
                    || cl.getResource("native/lib/pytorch.properties") != null;
            return nativeLibs && cl.getResource("jnilib/pytorch.properties") != null;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    @Override
    public Backend open() { return new TorchBackend(); }

    /** Sets {@code ai.djl.offline=true} unless the user chose (property or DJL_OFFLINE). */
    static void preferOffline() {
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }
}

package io.basalt.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;

/**
 * The system properties the kernels honour, each read here and nowhere else. They are read when a
 * kernel class first needs them (its static initialiser), so the launcher sets them before any model
 * loads: {@code basalt.threads} from {@code --threads}, {@code basalt.vector.bits} and
 * {@code basalt.kernels.inplace} by hand (the latter two to measure one path beside the other).
 */
final class KernelSettings {
    private KernelSettings() {}

    static final String THREADS = "basalt.threads";
    static final String VECTOR_BITS = "basalt.vector.bits";
    static final String IN_PLACE = "basalt.kernels.inplace";

    /** Whether 256-bit fp32/bf16 batches read panels in place ({@code -Dbasalt.kernels.inplace=false}: copy them first). */
    static boolean inPlaceBatches() { return !"false".equals(System.getProperty(IN_PLACE)); }

    /** Threads of a parallel loop: {@code -Dbasalt.threads=N} ({@code serve --threads}), else one per core. */
    static int threads() {
        return threads(System.getProperty(THREADS), Runtime.getRuntime().availableProcessors());
    }

    /** {@code setting} as a number ({@link Integer#decode}), else {@code cores}; at least one. */
    static int threads(String setting, int cores) {
        int n = cores;
        if (setting != null) {
            try {
                n = Integer.decode(setting);
            } catch (NumberFormatException e) {
                // as Integer.getInteger: a setting that is not a number is ignored
            }
        }
        return Math.max(1, n);
    }

    /**
     * Whether the 512-bit kernels run: where 512-bit vectors are the preferred (intrinsified) ones,
     * unless {@code -Dbasalt.vector.bits=256} asks for the narrow path.
     */
    static boolean wideVectors() {
        return wideVectors(FloatVector.SPECIES_PREFERRED.vectorBitSize(), System.getProperty(VECTOR_BITS));
    }

    /** 512-bit kernels are never forced where the machine prefers narrower vectors: they would not be intrinsified. */
    static boolean wideVectors(int preferredBits, String setting) {
        return preferredBits >= 512 && !"256".equals(setting);
    }
}

package io.basalt.cli;

/**
 * {@code --threads}: how many threads run a step's kernels. The cpu backend sizes its worker pool once, when its
 * kernels are first used, from the system property {@code basalt.threads}; libtorch (DJL) reads its own two
 * properties when it starts. Both are set here, before any backend loads.
 */
final class CpuThreads {

    private CpuThreads() {}

    static void set(int threads, String backend) {
        System.setProperty("basalt.threads", Integer.toString(threads));
        if (backend.equals("torch")) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }
}

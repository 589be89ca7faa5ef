package io.basalt.bench;

import io.basalt.model.arch.KvCache;
import io.basalt.model.arch.Model;
import io.basalt.model.arch.ModelLoader;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Single-stream decode speed: prefill a short prompt, then time greedy decode steps and report
 * tokens/s and the weight bytes streamed per second (decode reads every weight once per token,
 * so that figure compares directly with the machine's memory bandwidth).
 *
 * <pre>java ... io.basalt.bench.DecodeBench (MODEL_PATH | --synthetic gpt2|medium|large|xl) [steps]</pre>
 */
public final class DecodeBench {
    private DecodeBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: DecodeBench (MODEL_PATH | --synthetic gpt2|medium|large|xl) [steps]");
            System.exit(2);
        }
        Path path;
        int argi = 1;
        if (args[0].equals("--synthetic")) {
            SyntheticGpt2.Size size = SyntheticGpt2.Size.valueOf(args[1].toUpperCase(java.util.Locale.ROOT));
            path = SyntheticGpt2.cached(size);
            argi = 2;
        } else {
            path = Path.of(args[0]);
        }
        int steps = args.length > argi ? Integer.parseInt(args[argi]) : 64;
        try (Model model = ModelLoader.load(path)) {
            long weightBytes = Files.isDirectory(path) ? dirSize(path) : Files.size(path);
            int[] prompt = {1, 2, 3, 4, 5, 6, 7, 8};
            for (int round = 0; round < 3; round++) { // round 0 warms up the JIT
                KvCache cache = model.newCache();
                float[] logits = model.forward(cache, prompt, Model.Logits.LAST)[0];
                long t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    int next = io.basalt.engine.sampling.SequenceSampler.argmax(logits);
                    logits = model.forward(cache, new int[] {next}, Model.Logits.LAST)[0];
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf("%s round %d: %d decode steps in %.2f s = %.1f tok/s, %.1f GB/s of weights (%.0f MB/token)%n",
                        model.info().architecture(), round, steps, seconds, steps / seconds,
                        weightBytes * steps / seconds / 1e9, weightBytes / 1e6);
            }
        }
    }

    private static long dirSize(Path dir) throws java.io.IOException {
        try (var files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}

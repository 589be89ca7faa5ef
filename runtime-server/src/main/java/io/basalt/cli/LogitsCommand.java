package io.basalt.cli;

import io.basalt.backend.Backends;
import io.basalt.model.layout.LoadOptions;
import io.basalt.parity.ParityRecorder;
import io.basalt.spi.Backend;
import io.basalt.spi.ModelRunner;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The logits after each token (fed through the backend's runner, one per step); written [tokens, vocab] as little-endian float32. */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Write the logits after each of the tokens [tokens, vocab] as little-endian float32 (teacher-forced, one token a step).")
final class LogitsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelSource model;

    @Option(names = "--tokens", required = true, split = ",", description = "Comma-separated token ids, e.g. 0,17,999.")
    List<Integer> tokens;

    @Option(names = "--out", required = true, description = "Output file (float32 LE, row-major [tokens, vocab]).")
    Path out;

    @Mixin
    WeightOptions weights;

    @Mixin
    BackendOption backend;

    @Option(names = "--kv-cache-memory", defaultValue = "128MiB",
            description = "KV cache for the one sequence of tokens (default: ${DEFAULT-VALUE}).")
    String kvCacheMemory;

    @Override
    public Integer call() throws IOException {
        LoadOptions options = weights.toLoadOptions();
        int[] ids = tokens.stream().mapToInt(Integer::intValue).toArray();
        OutputFile.check("--out", out);
        Path path = model.resolve(model.reference(null));
        long kvBytes = ServeCommand.parseBytes("--kv-cache-memory", kvCacheMemory);
        try (Backend b = Backends.open(backend.name());
             ModelRunner runner = b.load(path, new Backend.LoadConfig(kvBytes, 1, Math.max(ids.length, 1),
                     options.storage(), options.quantize()))) {
            float[][] logits = ParityRecorder.logitsAt(runner, b.name(), ids);
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out))) {
                ByteBuffer row = ByteBuffer.allocate(4 * logits[0].length).order(ByteOrder.LITTLE_ENDIAN);
                for (float[] r : logits) {
                    row.clear();
                    row.asFloatBuffer().put(r);
                    os.write(row.array());
                }
            }
            spec.commandLine().getErr().printf("[basalt] wrote logits [%d, %d] to %s%n", logits.length, logits[0].length, out);
        }
        return 0;
    }
}

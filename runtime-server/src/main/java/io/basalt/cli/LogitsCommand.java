package io.basalt.cli;

import io.basalt.model.arch.LoadOptions;
import io.basalt.model.arch.Model;
import io.basalt.model.arch.ModelLoader;
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

/** Full-sequence forward pass; writes logits [tokens, vocab] as little-endian float32. */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Run a full-sequence forward pass and write the logits [tokens, vocab] as little-endian float32.")
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

    @Override
    public Integer call() throws IOException {
        LoadOptions options = weights.toLoadOptions();
        int[] ids = tokens.stream().mapToInt(Integer::intValue).toArray();
        OutputFile.check("--out", out);
        Path path = model.resolve(model.reference(null));
        try (Model m = ModelLoader.load(path, options)) {
            float[][] logits = m.forward(m.newCache(), ids, Model.Logits.ALL);
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

package io.basalt.backend.cpu.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.model.ModelFormatException;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints whose tensors disagree with their configuration fail at load, naming the problem. */
class ArchitectureErrorsTest {
    /** A copy of gpt2-tiny-random/hf whose config.json has one value replaced. */
    private static Path gpt2With(Path dir, String from, String to) throws IOException {
        Path src = Shared.model("gpt2-tiny-random/hf");
        Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        String config = Files.readString(src.resolve("config.json"));
        assertTrue(config.contains(from), "fixture changed: " + from);
        Files.writeString(dir.resolve("config.json"), config.replace(from, to));
        return dir;
    }

    private static String loadError(Path path) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(path).close());
        return e.getMessage();
    }

    @Test
    void shapeThatDisagreesWithConfigNamesTheTensor(@TempDir Path dir) throws IOException {
        String msg = loadError(gpt2With(dir, "\"vocab_size\": 1000", "\"vocab_size\": 999"));
        assertTrue(msg.contains("wte.weight") && msg.contains("[1000, 64]") && msg.contains("[999, 64]"), msg);
        assertTrue(msg.startsWith(dir.toString()), msg);
    }

    @Test
    void missingTensorIsNamed(@TempDir Path dir) throws IOException {
        String msg = loadError(gpt2With(dir, "\"n_layer\": 2", "\"n_layer\": 3"));
        assertTrue(msg.contains("missing tensor 'h.2."), msg);
    }

    @Test
    void headsThatDoNotDivideTheWidthAreRejected(@TempDir Path dir) throws IOException {
        String msg = loadError(gpt2With(dir, "\"n_head\": 4", "\"n_head\": 5"));
        assertTrue(msg.contains("n_embd") && msg.contains("n_head"), msg);
    }

    @Test
    void unknownModelTypeIsRejected(@TempDir Path dir) throws IOException {
        String msg = loadError(gpt2With(dir, "\"model_type\": \"gpt2\"", "\"model_type\": \"bert\""));
        assertTrue(msg.contains("model_type 'bert' is not supported"), msg);
    }

    @Test
    void mistypedConfigValueIsRejected(@TempDir Path dir) throws IOException {
        String msg = loadError(gpt2With(dir, "\"n_embd\": 64", "\"n_embd\": \"sixty-four\""));
        assertTrue(msg.contains("'n_embd' must be a number"), msg);
    }

    @Test
    void gptOssExpertShapeMismatchIsRejected(@TempDir Path dir) throws IOException {
        Path src = Shared.model("gpt-oss-tiny-random/hf");
        Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        String config = Files.readString(src.resolve("config.json")).replace("\"num_local_experts\": 8", "\"num_local_experts\": 16");
        Files.writeString(dir.resolve("config.json"), config);
        String msg = loadError(dir);
        assertTrue(msg.contains("router.weight") || msg.contains("gate_up_proj"), msg);
    }
}

package io.basalt.model;

import io.basalt.model.gguf.GgufReader;
import io.basalt.model.llama2c.Llama2cReader;
import io.basalt.model.llmc.LlmcReader;
import io.basalt.model.safetensors.SafetensorsReader;
import io.basalt.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

class ModelFormatsTest {
    @Test
    void detectsEachFixtureFormat() {
        assertEquals(Format.SAFETENSORS, ModelFormats.detect(Shared.model("gpt2-tiny-random/hf")));
        assertEquals(Format.SAFETENSORS, ModelFormats.detect(Shared.model("gpt2-tiny-random/hf/model.safetensors")));
        // llm.c and llama2.c files are both ".bin": the magic number decides.
        assertEquals(Format.LLMC, ModelFormats.detect(Shared.model("gpt2-tiny-random/llmc/gpt2_tiny_random.bin")));
        assertEquals(Format.LLAMA2C, ModelFormats.detect(Shared.model("stories260K/stories260K.bin")));
        assertEquals(Format.GGUF, ModelFormats.detect(Shared.model("llama-2-tiny-random-gguf/llama-2-tiny-random.gguf")));
    }

    @Test
    void magicWinsOverFileName(@TempDir Path dir) throws Exception {
        Path gguf = Files.copy(Shared.model("llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"), dir.resolve("weights.bin"));
        try (Checkpoint c = ModelFormats.open(gguf)) {
            assertEquals(Format.GGUF, c.format());
            assertEquals(12, c.tensors().size());
        }
    }

    @Test
    @Timeout(10)
    void everyReaderRejectsAnEmptyFileItself(@TempDir Path dir) throws Exception {
        Path empty = Files.createFile(dir.resolve("empty.safetensors"));
        for (Function<Path, Checkpoint> reader : java.util.List.<Function<Path, Checkpoint>>of(
                SafetensorsReader::read, GgufReader::read, Llama2cReader::read, LlmcReader::read)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> reader.apply(empty));
            assertTrue(e.getMessage().contains("empty.safetensors"), e.getMessage());
            assertEquals(empty, e.file());
        }
    }
}

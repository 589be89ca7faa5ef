package io.basalt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.basalt.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default served model name: never a bare "hf" for a Hugging Face directory. */
class ServedNameTest {
    static String of(Path p) { return ServedName.of(p.toString(), p); }

    @Test
    void aDirectoryGetsParentSlashDir() {
        assertEquals("gpt2-tiny-random/hf", of(Shared.model("gpt2-tiny-random/hf")));
        assertEquals("gpt-oss-tiny-random/hf", of(Shared.model("gpt-oss-tiny-random/hf")));
    }

    @Test
    void aFileKeepsItsNameAndARepoIdStaysAsGiven(@TempDir Path tmp) {
        assertEquals("stories260K.bin", of(Shared.model("stories260K/stories260K.bin")));
        assertEquals("openai-community/gpt2", ServedName.of("openai-community/gpt2",
                tmp.resolve("models--openai-community--gpt2/snapshots/0123abc")));
    }

    @Test
    void aHubCacheSnapshotIsNamedByItsRepo(@TempDir Path tmp) throws Exception {
        Path snap = Files.createDirectories(tmp.resolve("models--openai-community--gpt2/snapshots/607a30d783dfa663caf39e06633721c8d4cfcd7e"));
        assertEquals("openai-community/gpt2", of(snap));
    }

    @Test
    void configNameWhenItNamesThisDirectory(@TempDir Path tmp) throws Exception {
        Path llama = Files.createDirectories(tmp.resolve("models/Llama-3.2-1B"));
        Files.writeString(llama.resolve("config.json"), "{\"_name_or_path\": \"meta-llama/Llama-3.2-1B\"}");
        assertEquals("meta-llama/Llama-3.2-1B", of(llama));
        Path hf = Files.createDirectories(tmp.resolve("tiny-gpt2/hf"));
        Files.writeString(hf.resolve("config.json"), "{\"name\": \"sshleifer/tiny-gpt2\"}");
        assertEquals("sshleifer/tiny-gpt2", of(hf));
        // a fine-tune whose config still names its base model, a local path, a broken file: parent/dir
        Path tune = Files.createDirectories(tmp.resolve("runs/my-finetune"));
        Files.writeString(tune.resolve("config.json"), "{\"_name_or_path\": \"meta-llama/Llama-2-7b-hf\"}");
        assertEquals("runs/my-finetune", of(tune));
        Path local = Files.createDirectories(tmp.resolve("ckpt/step-1000"));
        Files.writeString(local.resolve("config.json"), "{\"_name_or_path\": \"/home/me/ckpt/step-1000\"}");
        assertEquals("ckpt/step-1000", of(local));
        Path broken = Files.createDirectories(tmp.resolve("x/model"));
        Files.writeString(broken.resolve("config.json"), "{");
        assertEquals("x/model", of(broken));
    }
}

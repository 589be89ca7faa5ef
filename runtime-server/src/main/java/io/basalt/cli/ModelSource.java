package io.basalt.cli;

import io.basalt.hub.HfHub;
import io.basalt.hub.RepoId;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The model of {@code generate}, {@code logits} and {@code serve}: a positional MODEL or {@code --model}, a local
 * file or directory, or a Hugging Face repo id ({@code owner/name}, downloaded once into the cache), so every
 * command takes a model the same way.
 */
final class ModelSource {
    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL",
            description = "Model file or directory (safetensors dir, GGUF, llama2.c or llm.c .bin), or a Hugging Face repo id "
                    + "(owner/name).")
    String positional;

    @Option(names = "--model", paramLabel = "MODEL", description = "The model, as an option (same as the positional MODEL).")
    String option;

    @Option(names = "--revision", defaultValue = "main", description = "Hub revision: branch, tag or commit (default: ${DEFAULT-VALUE}).")
    String revision;

    @Option(names = "--offline", description = "Never use the network: a repo id must already be in the cache (also HF_HUB_OFFLINE=1).")
    boolean offline;

    /** What the user named, or {@code fallback} (null: a model is required). */
    String reference(String fallback) {
        if (positional != null && option != null && !positional.equals(option)) {
            throw new IllegalArgumentException("two models given: '" + positional + "' and --model '" + option + "'; give one");
        }
        String ref = positional != null ? positional : option;
        if (ref == null) ref = fallback;
        if (ref == null || ref.isBlank()) throw new IllegalArgumentException("no model given: pass MODEL (a path or a Hugging Face repo id)");
        return ref;
    }

    /** A path that exists is a local model; otherwise an owner/name is a Hub repo, fetched or found in the cache. */
    Path resolve(String ref) {
        Path local = Path.of(ref);
        if (Files.exists(local)) return local;
        if (!RepoId.looksLike(ref)) {
            throw new IllegalArgumentException(ref + ": no such file or directory (and not a Hugging Face repo id owner/name)");
        }
        HfHub.Config config = HfHub.Config.fromEnvironment();
        if (offline) config = config.withOffline(true);
        return new HfHub(config).snapshot(ref, revision);
    }
}

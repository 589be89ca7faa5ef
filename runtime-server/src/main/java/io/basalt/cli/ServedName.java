package io.basalt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.hub.RepoId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The name a model is served under when no --served-model-name is given: a Hub repo id as given;
 * a single file by its file name; a directory by a repo-like name, because its own name is often
 * generic ("hf", "model", a snapshot hash):
 * <ol>
 *   <li>a Hugging Face cache snapshot ({@code models--owner--name/snapshots/REV}) → {@code owner/name};</li>
 *   <li>config.json's {@code _name_or_path} or {@code name}, when it is a repo id naming this directory
 *       or its parent (a fine-tune's config often still names its base model, which would mislead);</li>
 *   <li>otherwise {@code parent/dir} of the path, e.g. {@code gpt2-tiny-random/hf}.</li>
 * </ol>
 */
final class ServedName {
    private ServedName() {}

    /**
     * @param ref  the MODEL argument as given
     * @param path where it resolved to (the argument itself, or the downloaded snapshot of a repo id)
     */
    static String of(String ref, Path path) {
        if (!Files.exists(Path.of(ref))) return ref;   // a repo id, downloaded
        Path abs = path.toAbsolutePath().normalize();
        Path name = abs.getFileName();
        if (name == null) return ref;                  // the file system root
        if (!Files.isDirectory(abs)) return name.toString();
        String hub = hubCacheName(abs);
        if (hub != null) return hub;
        String declared = declaredName(abs);
        if (declared != null) return declared;
        Path parent = abs.getParent() == null ? null : abs.getParent().getFileName();
        return parent == null ? name.toString() : parent + "/" + name;
    }

    /** {@code owner/name} for {@code .../models--owner--name/snapshots/REV}, else null. */
    private static String hubCacheName(Path dir) {
        Path snapshots = dir.getParent();
        Path repo = snapshots == null ? null : snapshots.getParent();
        if (repo == null || repo.getFileName() == null || !snapshots.getFileName().toString().equals("snapshots")) return null;
        String folder = repo.getFileName().toString();
        if (!folder.startsWith("models--")) return null;
        String rest = folder.substring("models--".length());
        int sep = rest.indexOf("--");
        if (sep < 0) return null;
        String id = rest.substring(0, sep) + "/" + rest.substring(sep + 2);
        return RepoId.looksLike(id) ? id : null;
    }

    /** config.json's own name for the model, when it is a repo id whose name is this directory's or its parent's. */
    private static String declaredName(Path dir) {
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config)) return null;
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(config.toFile());
        } catch (IOException e) {
            return null;                               // the loader reports a broken config.json
        }
        if (root == null || !root.isObject()) return null;
        for (String key : new String[] {"_name_or_path", "name"}) {
            JsonNode v = root.get(key);
            if (v == null || !v.isTextual() || !RepoId.looksLike(v.textValue())) continue;
            String repoName = RepoId.parse(v.textValue()).name().toLowerCase(Locale.ROOT);
            if (repoName.equals(lower(dir.getFileName())) || repoName.equals(lower(dir.getParent() == null ? null
                    : dir.getParent().getFileName()))) {
                return v.textValue();
            }
        }
        return null;
    }

    private static String lower(Path p) { return p == null ? "" : p.toString().toLowerCase(Locale.ROOT); }
}

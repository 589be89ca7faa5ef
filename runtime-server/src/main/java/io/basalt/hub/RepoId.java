package io.basalt.hub;

import java.util.regex.Pattern;

/** A Hugging Face model repository id, {@code owner/name}. */
public record RepoId(String owner, String name) {
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?");

    public RepoId {
        if (!PART.matcher(owner).matches() || !PART.matcher(name).matches() || owner.contains("..") || name.contains("..")) {
            throw new IllegalArgumentException("'" + owner + "/" + name + "' is not a Hugging Face repo id (owner/name)");
        }
    }

    /** Parses {@code owner/name}; throws {@link IllegalArgumentException} for anything else. */
    public static RepoId parse(String id) {
        int slash = id.indexOf('/');
        if (slash < 0 || slash != id.lastIndexOf('/')) {
            throw new IllegalArgumentException("'" + id + "' is not a Hugging Face repo id (owner/name)");
        }
        return new RepoId(id.substring(0, slash), id.substring(slash + 1));
    }

    /** Whether {@code s} has the shape of a repo id (it may still name a local path: check that first). */
    public static boolean looksLike(String s) {
        try {
            parse(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The cache folder name, as huggingface_hub names it: {@code models--owner--name}. */
    public String cacheFolderName() { return "models--" + owner + "--" + name; }

    @Override
    public String toString() { return owner + "/" + name; }
}

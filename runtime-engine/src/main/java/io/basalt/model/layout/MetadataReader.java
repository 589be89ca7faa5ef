package io.basalt.model.layout;

import io.basalt.model.Checkpoint;
import io.basalt.model.ModelFormatException;
import java.util.List;
import java.util.Map;

/** Typed reads of a checkpoint's metadata: a missing or mistyped key is a clear error, once, at load. */
public final class MetadataReader {
    private final Checkpoint checkpoint;
    private final Map<String, Object> metadata;

    public MetadataReader(Checkpoint checkpoint) {
        this.checkpoint = checkpoint;
        this.metadata = checkpoint.metadata();
    }

    public boolean has(String key) { return metadata.get(key) != null; }

    public int positiveInt(String key) {
        long v = number(key).longValue();
        if (v <= 0 || v > Integer.MAX_VALUE) throw bad(key, "must be a positive integer, got " + v);
        return (int) v;
    }

    public int positiveInt(String key, int fallback) { return has(key) ? positiveInt(key) : fallback; }

    public double real(String key) { return number(key).doubleValue(); }

    public double real(String key, double fallback) { return has(key) ? real(key) : fallback; }

    public boolean bool(String key, boolean fallback) {
        Object v = metadata.get(key);
        if (v == null) return fallback;
        if (v instanceof Boolean b) return b;
        throw bad(key, "must be true or false, got " + v);
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> map(String key) {
        Object v = metadata.get(key);
        if (v instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw bad(key, "must be an object");
    }

    public List<?> list(String key) {
        Object v = metadata.get(key);
        if (v instanceof List<?> l) return l;
        throw bad(key, "must be a list");
    }

    private Number number(String key) {
        Object v = metadata.get(key);
        if (v == null) throw new ModelFormatException(checkpoint.path(), "configuration is missing '" + key + "'");
        if (v instanceof Number n) return n;
        throw bad(key, "must be a number, got " + v);
    }

    public ModelFormatException bad(String key, String problem) {
        return new ModelFormatException(checkpoint.path(), "configuration '" + key + "' " + problem);
    }
}

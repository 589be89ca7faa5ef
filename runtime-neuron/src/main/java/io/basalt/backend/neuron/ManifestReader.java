package io.basalt.backend.neuron;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Reads manifest.json strictly (docs/NEURON.md §3): every field present with its type, no unknown field, then the
 * consistency checks ({@link ManifestCheck}). Every error is a {@link PackageException} that starts with the file
 * name and names the field path, e.g. {@code manifest.json: buckets[2].inputs[7].shape: expected an array of positive
 * integers}.
 */
public final class ManifestReader {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    private final String file;

    private ManifestReader(String file) { this.file = file; }

    /** The manifest of the package directory {@code dir}. */
    public static Manifest read(Path dir) {
        Path path = dir.resolve(Manifest.FILE);
        String text;
        try {
            text = Files.readString(path);
        } catch (NoSuchFileException e) {
            throw new PackageException(path + ": no such file (is " + dir + " a compiled package? basalt neuron compile writes one)");
        } catch (IOException e) {
            throw new PackageException(path + ": cannot read: " + e.getMessage(), e);
        }
        return parse(Manifest.FILE, text);
    }

    /** Parses and checks manifest text; {@code file} names it in errors. */
    public static Manifest parse(String file, String text) {
        ManifestReader r = new ManifestReader(file);
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new PackageException(file + ": not valid JSON: " + e.getOriginalMessage() + " (line "
                    + e.getLocation().getLineNr() + ")");
        }
        if (root == null || root.isMissingNode()) throw new PackageException(file + ": empty");
        Manifest m = r.manifest(root);
        ManifestCheck.check(file, m);
        return m;
    }

    private PackageException bad(String path, String what) { return new PackageException(file + ": " + path + ": " + what); }

    private Manifest manifest(JsonNode n) {
        fields(n, "", List.of("format", "version", "target", "compiler", "checkpoint", "tp_degree", "weight_dtype", "kv",
                "chunked_prefill", "output", "buckets"), List.of());
        String format = string(n, "", "format");
        if (!Manifest.FORMAT.equals(format)) throw bad("format", "expected \"" + Manifest.FORMAT + "\", got \"" + format + "\"");
        int version = integer(n, "", "version");
        if (version != Manifest.VERSION) {
            throw bad("version", "this Basalt reads version " + Manifest.VERSION + ", the package is version " + version
                    + " (recompile it with this Basalt's basalt neuron compile)");
        }
        String target = oneOf(n, "", "target", "standin", "inf2", "trn1");
        String compiler = string(n, "", "compiler");
        Manifest.Checkpoint checkpoint = checkpoint(field(n, "", "checkpoint"), "checkpoint");
        int tp = positive(n, "", "tp_degree");
        String weightDtype = oneOf(n, "", "weight_dtype", "f32", "bf16");
        JsonNode kvNode = field(n, "", "kv");
        fields(kvNode, "kv", List.of("max_batch", "max_length", "dtype"), List.of());
        Manifest.Kv kv = new Manifest.Kv(positive(kvNode, "kv", "max_batch"), positive(kvNode, "kv", "max_length"),
                oneOf(kvNode, "kv", "dtype", "f32", "bf16"));
        boolean chunked = bool(n, "", "chunked_prefill");
        String output = oneOf(n, "", "output", "logits", "token_ids");
        JsonNode bucketsNode = array(n, "", "buckets");
        List<Manifest.Bucket> buckets = new ArrayList<>();
        for (int i = 0; i < bucketsNode.size(); i++) buckets.add(bucket(bucketsNode.get(i), "buckets[" + i + "]"));
        return new Manifest(format, version, target, compiler, checkpoint, tp, weightDtype, kv, chunked, output, buckets);
    }

    private Manifest.Checkpoint checkpoint(JsonNode n, String path) {
        fields(n, path, List.of("architecture", "files", "config"), List.of());
        String arch = string(n, path, "architecture");
        JsonNode filesNode = array(n, path, "files");
        List<Manifest.FileEntry> files = new ArrayList<>();
        for (int i = 0; i < filesNode.size(); i++) {
            String p = path + ".files[" + i + "]";
            JsonNode f = filesNode.get(i);
            fields(f, p, List.of("name", "bytes", "sha256"), List.of());
            long bytes = longValue(f, p, "bytes");
            if (bytes < 0) throw bad(p + ".bytes", "expected a size of 0 or more, got " + bytes);
            files.add(new Manifest.FileEntry(string(f, p, "name"), bytes, sha256(f, p, "sha256")));
        }
        if (files.isEmpty()) throw bad(path + ".files", "expected at least one file");
        JsonNode c = field(n, path, "config");
        String cp = path + ".config";
        fields(c, cp, List.of("num_layers", "hidden_size", "intermediate_size", "num_heads", "num_kv_heads", "vocab_size",
                "max_positions", "rms_eps", "rope_theta", "rotary_dims", "rope_style"), List.of());
        Manifest.Config config = new Manifest.Config(positive(c, cp, "num_layers"), positive(c, cp, "hidden_size"),
                positive(c, cp, "intermediate_size"), positive(c, cp, "num_heads"), positive(c, cp, "num_kv_heads"),
                positive(c, cp, "vocab_size"), positive(c, cp, "max_positions"), real(c, cp, "rms_eps"), real(c, cp, "rope_theta"),
                positive(c, cp, "rotary_dims"), oneOf(c, cp, "rope_style", "interleaved", "half"));
        return new Manifest.Checkpoint(arch, files, config);
    }

    private Manifest.Bucket bucket(JsonNode n, String path) {
        fields(n, path, List.of("tag", "batch", "length", "kv_length", "neff", "sha256", "inputs", "outputs"), List.of());
        String tag = oneOf(n, path, "tag", Manifest.Bucket.PREFILL, Manifest.Bucket.DECODE);
        JsonNode in = array(n, path, "inputs");
        List<Manifest.Input> inputs = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) inputs.add(input(in.get(i), path + ".inputs[" + i + "]"));
        JsonNode out = array(n, path, "outputs");
        List<Manifest.Output> outputs = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            String p = path + ".outputs[" + i + "]";
            JsonNode o = out.get(i);
            fields(o, p, List.of("name", "kind", "shape", "dtype"), List.of());
            outputs.add(new Manifest.Output(string(o, p, "name"), string(o, p, "kind"), shape(o, p), dtype(o, p)));
        }
        String neff = string(n, path, "neff");
        if (neff.isEmpty() || neff.contains("/") || neff.contains("\\") || neff.startsWith(".")) {
            throw bad(path + ".neff", "expected a file name inside the package, got \"" + neff + "\"");
        }
        return new Manifest.Bucket(tag, positive(n, path, "batch"), positive(n, path, "length"), positive(n, path, "kv_length"),
                neff, sha256(n, path, "sha256"), inputs, outputs);
    }

    private Manifest.Input input(JsonNode n, String path) {
        String role = oneOf(n, path, "role", Manifest.Input.USER, Manifest.Input.WEIGHT, Manifest.Input.STATE);
        List<String> required = new ArrayList<>(List.of("name", "role", "kind", "shape", "dtype"));
        List<String> optional = new ArrayList<>();
        switch (role) {
            case Manifest.Input.WEIGHT -> { required.add("checkpoint_key"); optional.add("shard"); }
            case Manifest.Input.STATE -> required.add("alias");
            default -> { }
        }
        fields(n, path, required, optional);
        Integer axis = null;
        if (n.has("shard")) {
            JsonNode s = n.get("shard");
            fields(s, path + ".shard", List.of("axis"), List.of());
            axis = integer(s, path + ".shard", "axis");
            if (axis != 0 && axis != 1) throw bad(path + ".shard.axis", "expected 0 or 1, got " + axis);
        }
        return new Manifest.Input(string(n, path, "name"), role, string(n, path, "kind"),
                n.has("checkpoint_key") ? string(n, path, "checkpoint_key") : null, shape(n, path), dtype(n, path), axis,
                n.has("alias") ? string(n, path, "alias") : null);
    }

    // --- typed field access: each names the path on failure ---

    private void fields(JsonNode n, String path, List<String> required, List<String> optional) {
        if (n == null || !n.isObject()) throw bad(path.isEmpty() ? "(top level)" : path, "expected an object");
        for (String r : required) {
            if (!n.has(r)) throw bad(join(path, r), "missing");
        }
        Set<String> known = new HashSet<>(required);
        known.addAll(optional);
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) throw bad(join(path, f), "unknown field (expected one of " + String.join(", ", known.stream().sorted().toList()) + ")");
        }
    }

    private static String join(String path, String name) { return path.isEmpty() ? name : path + "." + name; }

    private JsonNode field(JsonNode n, String path, String name) {
        JsonNode v = n.get(name);
        if (v == null) throw bad(join(path, name), "missing");
        return v;
    }

    private String string(JsonNode n, String path, String name) {
        JsonNode v = field(n, path, name);
        if (!v.isTextual()) throw bad(join(path, name), "expected a string, got " + v);
        return v.asText();
    }

    private String oneOf(JsonNode n, String path, String name, String... allowed) {
        String s = string(n, path, name);
        for (String a : allowed) if (a.equals(s)) return s;
        throw bad(join(path, name), "expected one of " + String.join(", ", allowed) + ", got \"" + s + "\"");
    }

    private String dtype(JsonNode n, String path) { return oneOf(n, path, "dtype", "f32", "bf16", "int32"); }

    private String sha256(JsonNode n, String path, String name) {
        String s = string(n, path, name);
        if (!s.matches("[0-9a-f]{64}")) throw bad(join(path, name), "expected 64 lowercase hex digits, got \"" + s + "\"");
        return s;
    }

    private long longValue(JsonNode n, String path, String name) {
        JsonNode v = field(n, path, name);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw bad(join(path, name), "expected an integer, got " + v);
        return v.asLong();
    }

    private int integer(JsonNode n, String path, String name) {
        JsonNode v = field(n, path, name);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw bad(join(path, name), "expected an integer, got " + v);
        return v.asInt();
    }

    private int positive(JsonNode n, String path, String name) {
        JsonNode v = field(n, path, name);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() <= 0) throw bad(join(path, name), "expected a positive integer, got " + v);
        return v.asInt();
    }

    private double real(JsonNode n, String path, String name) {
        JsonNode v = field(n, path, name);
        if (!v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) throw bad(join(path, name), "expected a positive number, got " + v);
        return v.asDouble();
    }

    private boolean bool(JsonNode n, String path, String name) {
        JsonNode v = field(n, path, name);
        if (!v.isBoolean()) throw bad(join(path, name), "expected true or false, got " + v);
        return v.asBoolean();
    }

    private JsonNode array(JsonNode n, String path, String name) {
        JsonNode v = field(n, path, name);
        if (!v.isArray()) throw bad(join(path, name), "expected an array, got " + v.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        return v;
    }

    private long[] shape(JsonNode n, String path) {
        JsonNode v = field(n, path, "shape");
        String p = join(path, "shape");
        if (!v.isArray() || v.isEmpty()) throw bad(p, "expected an array of positive integers");
        long[] s = new long[v.size()];
        for (int i = 0; i < s.length; i++) {
            JsonNode d = v.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() <= 0) throw bad(p, "expected an array of positive integers");
            s[i] = d.asLong();
        }
        return s;
    }
}

package io.basalt.backend.neuron;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes manifest.json in the field order of docs/NEURON.md §3; what it writes, {@link ManifestReader} reads back. */
public final class ManifestWriter {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ManifestWriter() {}

    /** Checks the manifest as the reader would, then writes {@code dir/manifest.json}. */
    public static Path write(Path dir, Manifest m) {
        String text = text(m);
        ManifestReader.parse(Manifest.FILE, text); // never write what cannot be read back
        try {
            return Files.writeString(dir.resolve(Manifest.FILE), text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(Manifest.FILE), e);
        }
    }

    public static String text(Manifest m) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", m.format());
        root.put("version", m.version());
        root.put("target", m.target());
        root.put("compiler", m.compiler());
        ObjectNode ck = root.putObject("checkpoint");
        ck.put("architecture", m.checkpoint().architecture());
        ArrayNode files = ck.putArray("files");
        for (Manifest.FileEntry f : m.checkpoint().files()) {
            files.addObject().put("name", f.name()).put("bytes", f.bytes()).put("sha256", f.sha256());
        }
        Manifest.Config c = m.checkpoint().config();
        ck.putObject("config").put("num_layers", c.numLayers()).put("hidden_size", c.hiddenSize())
                .put("intermediate_size", c.intermediateSize()).put("num_heads", c.numHeads()).put("num_kv_heads", c.numKvHeads())
                .put("vocab_size", c.vocabSize()).put("max_positions", c.maxPositions()).put("rms_eps", c.rmsEps())
                .put("rope_theta", c.ropeTheta()).put("rotary_dims", c.rotaryDims()).put("rope_style", c.ropeStyle());
        root.put("tp_degree", m.tpDegree());
        root.put("weight_dtype", m.weightDtype());
        root.putObject("kv").put("max_batch", m.kv().maxBatch()).put("max_length", m.kv().maxLength()).put("dtype", m.kv().dtype());
        root.put("chunked_prefill", m.chunkedPrefill());
        root.put("output", m.output());
        ArrayNode buckets = root.putArray("buckets");
        for (Manifest.Bucket b : m.buckets()) {
            ObjectNode o = buckets.addObject();
            o.put("tag", b.tag()).put("batch", b.batch()).put("length", b.length()).put("kv_length", b.kvLength())
                    .put("neff", b.neff()).put("sha256", b.sha256());
            ArrayNode in = o.putArray("inputs");
            for (Manifest.Input i : b.inputs()) {
                ObjectNode n = in.addObject().put("name", i.name()).put("role", i.role()).put("kind", i.kind());
                if (i.checkpointKey() != null) n.put("checkpoint_key", i.checkpointKey());
                shape(n, i.shape());
                n.put("dtype", i.dtype());
                if (i.shardAxis() != null) n.putObject("shard").put("axis", i.shardAxis());
                if (i.alias() != null) n.put("alias", i.alias());
            }
            ArrayNode out = o.putArray("outputs");
            for (Manifest.Output x : b.outputs()) {
                ObjectNode n = out.addObject().put("name", x.name()).put("kind", x.kind());
                shape(n, x.shape());
                n.put("dtype", x.dtype());
            }
        }
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void shape(ObjectNode n, long[] shape) {
        ArrayNode a = n.putArray("shape");
        for (long s : shape) a.add(s);
    }
}

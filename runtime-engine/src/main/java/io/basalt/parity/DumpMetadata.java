package io.basalt.parity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.util.List;
import java.util.Map;

/**
 * What a dump describes, stored as JSON in the safetensors {@code __metadata__} (key {@value #KEY}).
 * Everything here is known before the first step runs, so the header is written once, up front.
 *
 * @param kind        {@code run} (recorded by {@code parity run}) or {@code import} (a peer's raw logits)
 * @param model       the model path as given on the recording machine (informational)
 * @param modelHash   {@link ModelFingerprint} of the model files, or empty when unknown (imports)
 * @param precision   the class that picks default thresholds ({@link Precision#label()})
 * @param logits      {@link LogitsMode#spec()}
 * @param numLayers   layers in each hidden-state tensor (0 without hidden states)
 * @param hiddenSize  width of each hidden state (0 without hidden states)
 * @param machine     os, arch, cpu, cores of the recording machine (or the import's description)
 * @param versions    basalt, java and backend library versions
 * @param source      free text: where the numbers came from (imports), or the backend's description
 */
public record DumpMetadata(int version, String kind, String model, String modelHash, String modelHashMethod,
                           String backend, String dtype, String quantize, String precision, String logits,
                           int vocabSize, int numLayers, int hiddenSize, Map<String, String> machine,
                           Map<String, String> versions, String created, String source, List<Prompt> prompts) {
    public static final String FORMAT = "basalt-parity-dump";
    public static final int VERSION = 1;
    /** The {@code __metadata__} key that holds this record as JSON. */
    public static final String KEY = "basalt.parity";

    /**
     * One prompt: the text when the prompt was text (null for token prompts), how many leading
     * positions are the prompt (teacher-forced), and how many positions were recorded in all.
     */
    public record Prompt(String text, int promptLength, int positions) {
        public Prompt {
            if (promptLength <= 0 || positions < promptLength) {
                throw new ParityInputException("a prompt needs 0 < prompt length <= positions, got " + promptLength + ", " + positions);
            }
        }
    }

    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public DumpMetadata {
        machine = Map.copyOf(machine);
        versions = Map.copyOf(versions);
        prompts = List.copyOf(prompts);
        modelHash = modelHash == null ? "" : modelHash;
        if (vocabSize <= 0) throw new ParityInputException("vocabulary size must be positive, got " + vocabSize);
        if ((numLayers == 0) != (hiddenSize == 0) || numLayers < 0 || hiddenSize < 0) {
            throw new ParityInputException("hidden states need both a layer count and a width, got " + numLayers + ", " + hiddenSize);
        }
        LogitsMode.parse(logits);
        Precision.parse(precision);
    }

    public boolean hasHidden() { return numLayers > 0; }

    public LogitsMode logitsMode() { return LogitsMode.parse(logits); }

    public Precision precisionClass() { return Precision.parse(precision); }

    /** A one-line description for reports, e.g. "cpu fp32 on Intel Xeon … (linux/amd64)". */
    public String describe() {
        String what = kind.equals("import") ? "import: " + source : backend + " dtype=" + dtype
                + (quantize.equals("none") ? "" : " quantize=" + quantize);
        String cpu = machine.getOrDefault("cpu", "");
        return what + (cpu.isEmpty() ? "" : " on " + cpu + " (" + machine.getOrDefault("os", "?") + "/" + machine.getOrDefault("arch", "?") + ")");
    }

    String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static DumpMetadata fromJson(String json) throws JsonProcessingException { return JSON.readValue(json, DumpMetadata.class); }
}

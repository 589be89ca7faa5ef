package io.basalt.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The server's own tokenizer over HTTP, for building prompts of exact lengths without a local copy:
 * vLLM's {@code POST /tokenize} ({"model", "prompt", "add_special_tokens": false} → {"tokens": [...],
 * "count", "max_model_len"}) and {@code POST /detokenize} ({"model", "tokens"} → {"prompt"}), which
 * this runtime serves too. Special tokens are left out, as the local tokenizers' encode does.
 */
public final class ServerTokenizer implements RandomText.Codec, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The server did not answer as /tokenize does; {@code connection}: it could not be reached at all. */
    public static final class Failed extends RuntimeException {
        private final boolean connection;

        Failed(String message, boolean connection) {
            super(message);
            this.connection = connection;
        }

        public boolean connection() { return connection; }
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    private final String root;
    private final String model;
    private final String apiKey;
    private volatile int maxModelLen = -1;

    /** @param baseUrl the server root (a trailing /v1 is accepted: vLLM serves /tokenize beside it, not under it) */
    public ServerTokenizer(String baseUrl, String model, String apiKey) {
        this.root = baseUrl.replaceAll("/+$", "").replaceAll("/v1$", "");
        this.model = model;
        this.apiKey = apiKey == null ? "" : apiKey;
    }

    /** The server's context length, as its last /tokenize answer gave it; -1 when it did not say. */
    public int maxModelLen() { return maxModelLen; }

    @Override
    public int[] encode(String text) {
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("model", model).put("prompt", text).put("add_special_tokens", false);
        JsonNode r = post("/tokenize", body);
        JsonNode tokens = r.get("tokens");
        if (tokens == null || !tokens.isArray()) throw new Failed("POST /tokenize: the answer has no \"tokens\" array", false);
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!tokens.get(i).canConvertToInt()) throw new Failed("POST /tokenize: \"tokens\" holds " + tokens.get(i) + ", not a token id", false);
            ids[i] = tokens.get(i).asInt();
        }
        if (r.path("max_model_len").canConvertToInt()) maxModelLen = r.get("max_model_len").asInt();
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("model", model);
        ArrayNode tokens = body.putArray("tokens");
        for (int id : ids) tokens.add(id);
        JsonNode prompt = post("/detokenize", body).get("prompt");
        if (prompt == null || !prompt.isTextual()) throw new Failed("POST /detokenize: the answer has no \"prompt\" string", false);
        return prompt.textValue();
    }

    /**
     * The ids random prompts are drawn from: those of a few hundred ordinary words as this tokenizer
     * splits them (the vocabulary itself cannot be listed over HTTP), in order of first appearance.
     */
    public int[] pieces() {
        Set<Integer> seen = new LinkedHashSet<>();
        for (int id : encode(WordText.words(new SplittableRandom(0), 400) + " " + String.join(" ", WordText.WORDS))) seen.add(id);
        return seen.stream().mapToInt(Integer::intValue).toArray();
    }

    private JsonNode post(String path, ObjectNode body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(root + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (!apiKey.isEmpty()) b.header("Authorization", "Bearer " + apiKey);
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new Failed("cannot connect to " + root + path + ": " + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted", true);
        }
        if (r.statusCode() != 200) throw new Failed("POST " + path + ": http_" + r.statusCode() + ": " + message(r.body()), false);
        try {
            JsonNode n = JSON.readTree(r.body());
            if (n != null && n.isObject()) return n;
        } catch (IOException ignored) {
            // reported below
        }
        throw new Failed("POST " + path + ": the answer is not a JSON object", false);
    }

    /** The error's own words: OpenAI's error.message, FastAPI's detail, else the start of the body. */
    static String message(String body) {
        try {
            JsonNode n = JSON.readTree(body);
            if (n.path("error").path("message").isTextual()) return n.path("error").path("message").asText();
            if (n.path("message").isTextual()) return n.path("message").asText();
            if (n.path("detail").isTextual()) return n.path("detail").asText();
        } catch (IOException | RuntimeException ignored) {
            // not JSON: show the start of what came
        }
        String s = body == null ? "" : body.strip();
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    @Override
    public void close() { http.close(); }
}

package io.basalt.server.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/** A plain-Java streaming client for /v1/completions that records how each stream ended. */
public final class SseClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SseClient() {}

    /**
     * How one streamed request ended.
     *
     * @param status         HTTP status, 0 when no response came
     * @param done           saw {@code data: [DONE]}
     * @param finishReason   the last finish_reason seen, or null
     * @param errorEvent     an SSE error event's body, or null
     * @param transportError the I/O failure, or null
     * @param doneAtNanos    System.nanoTime() when the stream ended
     * @param chunks         content chunks received
     */
    public record Outcome(int status, boolean done, String finishReason, String errorEvent, String transportError,
                          long doneAtNanos, int chunks, String text) {
        /** Completed, or ended with an error event, or was refused up front: anything but a cut stream. */
        public boolean cleanlyEnded() {
            if (transportError != null) return status == 0; // refused before any response: fine
            if (status != 200) return status == 429 || status == 503;
            return (done && finishReason != null) || errorEvent != null;
        }

        public boolean completed() { return status == 200 && done && finishReason != null && errorEvent == null; }

        @Override
        public String toString() {
            String t = text.length() > 40 ? text.substring(0, 40).replace('\n', ' ') + "..." : text;
            return "Outcome[status=" + status + ", done=" + done + ", finish=" + finishReason + ", error=" + errorEvent
                    + ", transport=" + transportError + ", chunks=" + chunks + ", text=" + t + "]";
        }
    }

    public static HttpClient http() { return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(); }

    /** POSTs a streamed completion; counts {@code firstChunk} down at the first content chunk. */
    public static Outcome stream(HttpClient http, URI completions, String model, int maxTokens, int seed, CountDownLatch firstChunk) {
        String body = "{\"model\":\"" + model + "\",\"prompt\":\"Once upon a time\",\"max_tokens\":" + maxTokens
                + ",\"temperature\":0.8,\"seed\":" + seed + ",\"stream\":true}";
        HttpRequest req = HttpRequest.newBuilder(completions).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(120)).build();
        int status = 0;
        boolean done = false;
        String finish = null;
        String error = null;
        int chunks = 0;
        StringBuilder text = new StringBuilder();
        try {
            HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            status = r.statusCode();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (!line.startsWith("data:")) continue;
                    String data = line.substring(5).strip();
                    if (data.equals("[DONE]")) {
                        done = true;
                        continue;
                    }
                    JsonNode event = JSON.readTree(data);
                    if (event.has("error")) {
                        error = event.get("error").toString();
                        continue;
                    }
                    chunks++;
                    if (chunks == 1 && firstChunk != null) firstChunk.countDown();
                    for (JsonNode c : event.path("choices")) {
                        text.append(c.path("text").asText(""));
                        if (c.hasNonNull("finish_reason")) finish = c.get("finish_reason").asText();
                    }
                }
            }
            return new Outcome(status, done, finish, error, null, System.nanoTime(), chunks, text.toString());
        } catch (IOException e) {
            return new Outcome(status, done, finish, error, e.toString(), System.nanoTime(), chunks, text.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(status, done, finish, error, e.toString(), System.nanoTime(), chunks, text.toString());
        }
    }
}

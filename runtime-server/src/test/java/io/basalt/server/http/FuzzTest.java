package io.basalt.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Thousands of seeded, malformed requests: every answer must be a 4xx in OpenAI's error shape (never
 * a 5xx, never a hang), and afterwards the server is healthy and the engine holds no KV block.
 */
class FuzzTest {
    static final long SEED = 20250806L;
    static TestServer server;

    @BeforeAll
    static void start() { server = TestServer.start(); }

    @AfterAll
    static void stop() { server.close(); }

    record Case(String path, byte[] body, String description) { }

    /** Values that are invalid whatever else the body says. */
    static final Map<String, List<String>> BAD_COMMON = new LinkedHashMap<>();
    static final Map<String, List<String>> BAD_COMPLETIONS = new LinkedHashMap<>();
    static final Map<String, List<String>> BAD_CHAT = new LinkedHashMap<>();

    static {
        BAD_COMMON.put("temperature", List.of("-1", "-1e30", "\"x\"", "true", "[]", "{}", "1e400", "-0.0001"));
        BAD_COMMON.put("top_p", List.of("0", "-0.5", "1.5", "\"x\"", "1e400", "[0.5]"));
        BAD_COMMON.put("top_k", List.of("-2", "-100", "1.5", "\"x\"", "1e20", "99999999999"));
        BAD_COMMON.put("min_p", List.of("-0.1", "1.1", "\"x\"", "false"));
        BAD_COMMON.put("repetition_penalty", List.of("0", "-1", "\"x\"", "1e400"));
        BAD_COMMON.put("presence_penalty", List.of("2.01", "-3", "1e10", "\"x\""));
        BAD_COMMON.put("frequency_penalty", List.of("-2.01", "3", "-1e10", "{}"));
        BAD_COMMON.put("logit_bias", List.of("\"x\"", "[1]", "{\"a\":1}", "{\"1\":1000}", "{\"-1\":1}", "{\"99999999\":1}",
                "{\"1\":\"x\"}", "{\"1\":null}", "{\"1.5\":1}", "5"));
        BAD_COMMON.put("n", List.of("0", "-1", "1000000", "1000000000000", "2.5", "\"2\"", "17", "[1]"));
        BAD_COMMON.put("seed", List.of("\"x\"", "1.5", "1e30", "123456789012345678901234567890", "{}"));
        BAD_COMMON.put("max_tokens", List.of("0", "-1", "-1000000000", "1000000000000", "\"10\"", "1.5", "true"));
        BAD_COMMON.put("min_tokens", List.of("-1", "\"x\"", "1000000000000", "2.5"));
        BAD_COMMON.put("stop", List.of("5", "[1]", "[\"\"]", "\"\"", "{\"a\":1}", "[null]", "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\","
                + "\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]", "\"" + "s".repeat(5000) + "\""));
        BAD_COMMON.put("stop_token_ids", List.of("-1", "[-1]", "[\"x\"]", "[1e12]", "\"x\"", "[100000]", "[1.5]"));
        BAD_COMMON.put("stream", List.of("\"x\"", "1", "{}", "[]"));
        BAD_COMMON.put("stream_options", List.of("\"x\"", "1", "{\"include_usage\":\"yes\"}", "[]"));
        BAD_COMMON.put("ignore_eos", List.of("\"x\"", "1"));
        BAD_COMMON.put("priority", List.of("\"x\"", "1.5", "1e20"));
        BAD_COMMON.put("model", List.of("5", "\"gpt-4\"", "[]", "{}", "\"\"", "\"stories260K \"", "true"));
        BAD_COMPLETIONS.put("logprobs", List.of("-1", "21", "true", "\"x\"", "1e9"));
        BAD_COMPLETIONS.put("echo", List.of("\"x\"", "1"));
        BAD_COMPLETIONS.put("best_of", List.of("2", "3", "0", "-1"));
        BAD_COMPLETIONS.put("suffix", List.of("\"x\"", "5"));
        BAD_COMPLETIONS.put("prompt", List.of("5", "{}", "[]", "[-1]", "[1.5]", "[\"a\",\"b\"]", "[[1],[2]]", "[99999]", "true",
                "[[]]", "[\"a\",5]", "[1,\"a\"]", "[[1,-1]]", "[1e12]"));
        BAD_CHAT.put("messages", List.of("[]", "\"x\"", "[1]", "[{\"role\":\"x\",\"content\":\"a\"}]", "[{\"role\":\"user\"}]",
                "[{\"role\":\"user\",\"content\":5}]", "[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]",
                "[{\"role\":5,\"content\":\"a\"}]", "[{\"content\":\"a\"}]", "[{\"role\":\"user\",\"content\":[5]}]",
                "[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]", "[{\"role\":\"user\",\"content\":{}}]",
                "[{\"role\":\"assistant\",\"content\":\"a\",\"reasoning_content\":5}]", "[null]", "{}"));
        BAD_CHAT.put("top_logprobs", List.of("-1", "21", "\"x\"", "1e12"));
        BAD_CHAT.put("logprobs", List.of("\"x\"", "1"));
        BAD_CHAT.put("tools", List.of("[{\"type\":\"function\"}]", "\"x\"", "5", "[{\"type\":\"custom\"}]",
                "[{\"type\":\"function\",\"function\":{\"name\":\"a b\"}}]", "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":5}}]",
                "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"strict\":\"yes\"}}]", "[null]"));
        BAD_CHAT.put("tool_choice", List.of("\"sometimes\"", "5", "[]", "{}", "{\"type\":\"function\"}",
                "{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}", "{\"type\":\"allowed_tools\"}", "\"required\""));
        BAD_CHAT.put("parallel_tool_calls", List.of("\"x\"", "1", "[]"));
        BAD_CHAT.put("response_format", List.of("{\"type\":\"regex\"}", "\"x\"", "5", "{\"type\":5}", "{}",
                "{\"type\":\"json_schema\"}", "{\"type\":\"json_schema\",\"json_schema\":5}",
                "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\"}}",
                "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":[1]}}",
                "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"type\":\"object\",\"patternProperties\":{}}}}"));
        BAD_CHAT.put("reasoning_effort", List.of("\"extreme\"", "5", "[]"));
        BAD_CHAT.put("add_generation_prompt", List.of("\"x\"", "0"));
    }

    /** Fields set to valid values (or null, which means "not given") around the broken ones. */
    static String validField(Random r, String name) {
        if (r.nextInt(5) == 0) return "null";
        return switch (name) {
            case "temperature" -> String.valueOf(r.nextFloat() * 2);
            case "top_p" -> String.valueOf(0.05f + r.nextFloat() * 0.95f);
            case "top_k" -> String.valueOf(r.nextInt(50));
            case "max_tokens" -> String.valueOf(1 + r.nextInt(3));
            case "seed" -> String.valueOf(r.nextLong());
            case "presence_penalty" -> String.valueOf(r.nextFloat() * 2 - 1);
            case "user" -> "\"u" + r.nextInt(100) + "\"";
            case "metadata" -> "{\"nested\":\"x\",\"k\":\"v\"}";
            default -> "null";
        };
    }

    static List<Case> cases(Random r) {
        List<Case> out = new ArrayList<>();
        String[] valids = {"temperature", "top_p", "top_k", "max_tokens", "seed", "presence_penalty", "user", "metadata"};
        for (int i = 0; i < 3600; i++) {
            boolean chat = r.nextBoolean();
            Map<String, String> fields = new LinkedHashMap<>();
            if (chat) fields.put("messages", "[{\"role\":\"user\",\"content\":\"Once\"}]");
            else fields.put("prompt", r.nextBoolean() ? "\"Once upon a time\"" : "[1, 403, 407]");
            for (String v : valids) if (r.nextInt(3) == 0) fields.put(v, validField(r, v));
            List<Map<String, List<String>>> pools = new ArrayList<>(List.of(BAD_COMMON, chat ? BAD_CHAT : BAD_COMPLETIONS));
            int broken = 1 + r.nextInt(3);
            List<String> what = new ArrayList<>();
            for (int b = 0; b < broken; b++) {
                Map<String, List<String>> pool = pools.get(r.nextInt(pools.size()));
                List<String> keys = new ArrayList<>(pool.keySet());
                String key = keys.get(r.nextInt(keys.size()));
                List<String> bad = pool.get(key);
                String value = bad.get(r.nextInt(bad.size()));
                if (key.equals("max_tokens")) fields.remove("max_tokens");
                fields.put(key, value);
                what.add(key + "=" + (value.length() > 30 ? value.substring(0, 30) : value));
            }
            List<String> keys = new ArrayList<>(fields.keySet());
            Collections.shuffle(keys, r);
            StringBuilder sb = new StringBuilder("{");
            for (String k : keys) sb.append(sb.length() > 1 ? "," : "").append('"').append(k).append("\":").append(fields.get(k));
            sb.append('}');
            out.add(new Case(chat ? "/v1/chat/completions" : "/v1/completions", sb.toString().getBytes(StandardCharsets.UTF_8),
                    String.join(", ", what)));
        }
        String[] paths = {"/v1/completions", "/v1/chat/completions", "/tokenize", "/detokenize"};
        for (int i = 0; i < 1400; i++) {
            String path = paths[r.nextInt(paths.length)];
            byte[] body = switch (r.nextInt(9)) {
                case 0 -> randomBytes(r, r.nextInt(200));
                case 1 -> truncate(r, "{\"prompt\":\"Once upon a time\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tokens\":[1,2]}");
                case 2 -> nested(r);
                case 3 -> invalidUtf8(r);
                case 4 -> List.of("[]", "1", "\"x\"", "null", "true", "[{}]", "{}", "-1e999", "{\"\":1}").get(r.nextInt(9))
                        .getBytes(StandardCharsets.UTF_8);
                case 5 -> ("{\"prompt\":" + hugeNumber(r) + ",\"messages\":" + hugeNumber(r) + ",\"tokens\":" + hugeNumber(r) + "}")
                        .getBytes(StandardCharsets.UTF_8);
                case 6 -> ("{\"model\":null,\"prompt\":null,\"messages\":null,\"tokens\":null,\"max_tokens\":null,\"n\":null}")
                        .getBytes(StandardCharsets.UTF_8);
                case 7 -> ("{\"tokens\":[" + r.nextInt(100) + ",-" + r.nextInt(100) + "],\"prompt\":" + r.nextInt() + "}")
                        .getBytes(StandardCharsets.UTF_8);
                default -> ("{\"model\":\"m" + r.nextInt(1000) + "\",\"prompt\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                        + "\"tokens\":[1]}").getBytes(StandardCharsets.UTF_8);
            };
            out.add(new Case(path, body, "raw"));
        }
        return out;
    }

    static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    static byte[] truncate(Random r, String s) {
        return s.substring(0, r.nextInt(s.length() - 1)).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] nested(Random r) {
        int depth = 65 + r.nextInt(20_000);
        String open = r.nextBoolean() ? "[" : "{\"a\":";
        return ("{\"prompt\":" + open.repeat(depth)).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] invalidUtf8(Random r) {
        byte[] prefix = "{\"prompt\":\"Once ".getBytes(StandardCharsets.UTF_8);
        byte[][] bad = {{(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF0, (byte) 0x28, (byte) 0x8C},
                {(byte) 0x80}};
        byte[] b = bad[r.nextInt(bad.length)];
        byte[] suffix = "\",\"messages\":5}".getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[prefix.length + b.length + suffix.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(b, 0, out, prefix.length, b.length);
        System.arraycopy(suffix, 0, out, prefix.length + b.length, suffix.length);
        return out;
    }

    static String hugeNumber(Random r) {
        return switch (r.nextInt(5)) {
            case 0 -> "1e308";
            case 1 -> "-1e308";
            case 2 -> "9".repeat(1 + r.nextInt(90));
            case 3 -> "-" + "9".repeat(30);
            default -> "1." + "5".repeat(50) + "e-400";
        };
    }

    @Test
    void malformedBodiesAlwaysGetAnOpenAi4xx() throws Exception {
        List<Case> cases = cases(new Random(SEED));
        assertTrue(cases.size() >= 5000);
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (Case c : cases) {
                fs.add(pool.submit(() -> {
                    HttpResponse<String> resp = server.post(c.path(), c.body());
                    String problem = check(resp);
                    if (problem != null) {
                        failures.add(c.path() + " [" + c.description() + "] " + new String(c.body(), 0, Math.min(300, c.body().length),
                                StandardCharsets.UTF_8) + " -> " + resp.statusCode() + " " + problem + ": " + resp.body());
                    }
                }));
            }
            for (Future<?> f : fs) f.get();
        } finally {
            pool.shutdownNow();
        }
        assertTrue(failures.isEmpty(), failures.size() + " bad answers, e.g.\n" + String.join("\n", failures.stream().limit(10).toList()));
        assertEquals(200, server.get("/health").statusCode());
        server.assertIdleSoon();
        assertEquals(0, server.engine.stats().kvUsedBlocks());
    }

    private static String check(HttpResponse<String> r) {
        if (r.statusCode() < 400 || r.statusCode() >= 500) return "not a 4xx";
        JsonNode e;
        try {
            e = TestServer.JSON.readTree(r.body()).get("error");
        } catch (Exception ex) {
            return "not JSON";
        }
        if (e == null || !e.has("message") || !e.has("type") || !e.has("param") || !e.has("code")) return "not the error shape";
        return null;
    }

    @Test
    void tenMegabyteBodiesAre413() {
        for (int i = 0; i < 3; i++) {
            String big = "{\"prompt\":\"" + "x".repeat(10 << 20) + "\"}";
            HttpResponse<String> r = server.post(i == 0 ? "/v1/completions" : i == 1 ? "/v1/chat/completions" : "/tokenize", big);
            TestServer.assertError(r, 413);
        }
        assertEquals(200, server.get("/health").statusCode());
    }

    @Test
    void garbageHttpGets400OrAClose() throws Exception {
        Random r = new Random(SEED + 1);
        for (int i = 0; i < 60; i++) {
            try (Socket s = new Socket("127.0.0.1", server.http.port())) {
                s.setSoTimeout(5000);
                OutputStream out = s.getOutputStream();
                byte[] junk = switch (i % 4) {
                    case 0 -> randomBytes(r, 1 + r.nextInt(300));
                    case 1 -> ("GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
                    case 2 -> ("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII);
                    default -> ("POST /v1/completions HTTP/1.1\r\nHost: x\r\nX: " + "h".repeat(20_000) + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII);
                };
                out.write(junk);
                out.write("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                s.shutdownOutput();
                String answer = readAll(s.getInputStream());
                assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 4"), "case " + i + ": " + answer);
            }
        }
        assertEquals(200, server.get("/health").statusCode());
    }

    static String readAll(InputStream in) throws java.io.IOException {
        try {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        } catch (java.net.SocketException e) {
            return "";                  // reset by the server: also a refusal
        }
    }
}

package io.basalt.bench.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench serve --base-url URL --model NAME} with the random dataset and no --tokenizer, against
 * a server without /tokenize ({@link FakeOpenAiServer}: its usage counts one token per word): the
 * prompts are random words sized by the server's measured tokens per word, and the tool says so. A
 * server that offers neither /tokenize nor usage is one "basalt: ..." line asking for --tokenizer.
 * (With /tokenize: {@link RealServerTest}.)
 */
class PromptsWithoutTokenizerTest {
    /** The prompts the dataset asks for, by length (whatever makes the text): promptTokens and outputTokens. */
    static List<Prompt> asked(Dataset.Synthetic d, int n, long seed) {
        TextSource exact = new TextSource() {
            @Override
            public Text text(SplittableRandom random, int tokens) { return new Text("x", tokens); }

            @Override
            public int count(String text) { throw new AssertionError(); }
        };
        return d.prompts(n, seed, exact);
    }

    @Test
    void withoutTokenizeTheServersUsageSizesTheWords(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("r.json");
        try (FakeOpenAiServer server = new FakeOpenAiServer()) {
            FailedRequestsTest.Outcome o = FailedRequestsTest.bench(FailedRequestsTest.args(server.baseUrl() + "/v1", "serve", "--model", "fake",
                    "--random-input-len", "20", "--random-output-len", "3", "--random-range-ratio", "0.5", "--num-prompts", "8",
                    "--warmup", "0", "--seed", "4", "--out", json.toString()));
            assertEquals(0, o.rc(), o.err());
            assertEquals(1, o.errLines().size(), o.err());
            String line = o.errLines().getFirst();
            assertTrue(line.startsWith("basalt: no --tokenizer and no /tokenize on the server (POST /tokenize: http_404: ")
                    && line.endsWith("): the random prompts are random words, 1.00 tokens each by the server's usage, so their lengths are "
                    + "approximate; tokens are counted from its usage"), line);
            assertEquals(10, server.requests.get(), "two requests measured the tokens per word, then the eight prompts");
            BenchResult r = BenchResult.read(json);
            List<Integer> asked = asked(new Dataset.RandomLengths(20, 3, 0.5), 8, 4).stream().map(Prompt::promptTokens).toList();
            for (RequestRecord rec : r.requests()) {
                assertEquals(asked.get(rec.index()), rec.usagePromptTokens(), "request " + rec.index() + ": the asked length, by the server's count");
                assertEquals(rec.usagePromptTokens(), rec.promptTokens());
            }
            assertTrue(asked.stream().distinct().count() > 3, "lengths vary: " + asked);
            assertEquals("server usage (approximate)", r.config().get("prompt_text"));
            assertEquals("usage", r.summary().tokenSource());
        }
    }

    @Test
    void neitherTokenizeNorUsageIsOneLineAskingForTokenizer() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer()) {
            for (String model : List.of("no-usage", "wrong")) {
                FailedRequestsTest.Outcome o = FailedRequestsTest.bench(FailedRequestsTest.args(server.baseUrl(), "serve", "--model", model,
                        "--num-prompts", "3"));
                assertEquals(2, o.rc(), o.err());
                assertEquals(1, o.errLines().size(), o.err());
                String line = o.errLines().getFirst();
                assertTrue(line.startsWith("basalt: the random dataset needs token counts: the server's /tokenize did not work (POST /tokenize: http_404")
                        && line.endsWith("; pass --tokenizer"), line);
                assertTrue(line.contains(model.equals("wrong") ? "nor did measuring its usage (http_404: The model 'wrong' does not exist)"
                        : "nor did measuring its usage (the server sends no usage counts)"), line);
            }
        }
    }
}

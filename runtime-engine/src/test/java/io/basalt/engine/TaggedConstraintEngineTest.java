package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.basalt.api.Constraint;
import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ShapePolicy;
import io.basalt.structured.SchemaException;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tagged constraints through the engine: a {@link FakeRunner} (its greedy token is a hash of the context, so the
 * unconstrained continuation of any context is known) with stories260K's 512-piece vocabulary. The trigger is taken from
 * the model's own unconstrained output, so the tagged request must match it token for token up to the trigger; the region
 * after it must validate against the tag's schema (networknt's validator, independent of the grammar engine); after the
 * region the output must be the model's unconstrained continuation again.
 */
class TaggedConstraintEngineTest {
    private static final int VOCAB = 512;
    private static final Tokenizer TOKENIZER = Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), VOCAB);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int[] PROMPT = {1, 45, 300, 87};
    private static final int MAX_TOKENS = 120;
    /** Every value bounded, so a region ends by itself whatever the logits. */
    private static final String SCHEMA = """
            {"type":"object","properties":{"color":{"enum":["red","green","blue"]},"count":{"type":"integer","minimum":0,"maximum":99},
             "tags":{"type":"array","items":{"enum":["a","b","c"]},"maxItems":3},"ok":{"type":"boolean"}},
             "required":["color","count","tags","ok"],"additionalProperties":false}""";
    private static Schema validator;
    private static Engine engine;
    private static int nextId;

    @BeforeAll
    static void setUp() {
        validator = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(read(SCHEMA));
        FakeRunner runner = new FakeRunner(VOCAB, 1024, FakeRunner.capabilities(new ShapePolicy.Dynamic(), true, new KvLayout.Paged(16), 128));
        engine = new Engine(runner, TOKENIZER, EngineTests.fitting(runner, EngineConfig.defaults()));
    }

    @AfterAll
    static void tearDown() { engine.close(); }

    private static JsonNode read(String s) {
        try {
            return JSON.readTree(s);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static SamplingParams.Builder greedy() { return SamplingParams.builder().temperature(0).maxTokens(MAX_TOKENS); }

    private static Constraint tagged(int[]... triggers) {
        List<Constraint.Tag> tags = new ArrayList<>();
        for (int[] t : triggers) tags.add(new Constraint.Tag(t, SCHEMA));
        return new Constraint.Tagged(tags);
    }

    private static RequestHandle submit(int[] prompt, SamplingParams p) {
        return engine.submit(new EngineRequest("r" + nextId++, prompt, p, 0));
    }

    private static RequestHandle.Choice runAlone(int[] prompt, SamplingParams p) {
        RequestHandle h = submit(prompt, p);
        EngineTests.runUntilIdle(engine, 5000);
        return EngineTests.done(h).choices().get(0);
    }

    /** Where {@code pattern} first ends in {@code ids} at or after {@code from} (occurrences wholly from {@code from} on), or -1. */
    private static int firstEnd(int[] ids, int from, int[] pattern) {
        for (int end = from + pattern.length - 1; end < ids.length; end++) {
            if (Arrays.equals(ids, end - pattern.length + 1, end + 1, pattern, 0, pattern.length)) return end;
        }
        return -1;
    }

    /** The first bigram of {@code g} ending at index ≥ 3 that does not occur earlier in it. */
    private static int[] freshBigram(int[] g) {
        for (int i = 3; i < g.length; i++) {
            int[] b = {g[i - 1], g[i]};
            if (firstEnd(g, 0, b) == i) return b;
        }
        throw new AssertionError("no fresh bigram in " + Arrays.toString(g));
    }

    /**
     * The region that starts at {@code start}: tokens until their bytes form a whole JSON value (a region's last token ends
     * exactly at its value's end). Returns the index of the region's last token; validates the value.
     */
    private static int checkRegion(int[] ids, int start, String what) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = start; i < ids.length; i++) {
            bytes.writeBytes(TOKENIZER.decodeBytes(-1, ids[i]));
            JsonNode value;
            try {
                value = JSON.readTree(bytes.toByteArray());
            } catch (Exception incomplete) {
                continue;
            }
            assertEquals(List.of(), validator.validate(value), what + ": " + value);
            assertFalse(bytes.toString().contains(" "), what + ": compact JSON: " + bytes);
            return i;
        }
        throw new AssertionError(what + ": the region never completed: " + bytes);
    }

    /**
     * Checks a tagged output against the model: free stretches are the model's unconstrained continuation of their context,
     * each trigger opens a region that validates. Returns how many regions it saw.
     */
    private static int checkOutput(int[] prompt, int[] out, int[] trigger, String what) {
        int regions = 0;
        int free = 0;   // where the current free stretch starts
        while (free < out.length) {
            int end = firstEnd(out, free, trigger);
            int stop = end < 0 ? out.length : end + 1;
            for (int i = free; i < stop; i++) {
                int[] ctx = concat(prompt, Arrays.copyOf(out, i));
                assertEquals(FakeRunner.next(ctx, ctx.length, VOCAB), out[i], what + ": free token " + i + " is the model's own");
            }
            if (end < 0 || end + 1 == out.length) break;
            int last = checkRegion(out, end + 1, what + " region " + regions);
            regions++;
            free = last + 1;
        }
        return regions;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void theRegionAfterATriggerValidatesAndTheOutputIsFreeAroundIt() {
        int[] g = runAlone(PROMPT, greedy().build()).tokenIds();
        assertArrayEquals(FakeRunner.expected(PROMPT, MAX_TOKENS, VOCAB), g, "the unconstrained output");
        int[] trigger = freshBigram(g);
        int at = firstEnd(g, 0, trigger);
        RequestHandle.Choice c = runAlone(PROMPT, greedy().constraint(tagged(trigger)).build());
        int[] t = c.tokenIds();
        assertEquals(FinishReason.LENGTH, c.finishReason(), "closing a region does not end the choice");
        assertArrayEquals(Arrays.copyOf(g, at + 1), Arrays.copyOf(t, at + 1), "unconstrained up to and including the trigger");
        int last = checkRegion(t, at + 1, "region");
        assertTrue(last < t.length - 10, "free text follows the region: " + (t.length - 1 - last) + " tokens");
        assertTrue(checkOutput(PROMPT, t, trigger, "tagged") >= 1);
    }

    @Test
    void triggersTheModelNeverEmitsOrThatStartInThePromptLeaveTheOutputUntouched() {
        SamplingParams seeded = SamplingParams.builder().temperature(1f).seed(42).maxTokens(MAX_TOKENS).build();
        int[] g = runAlone(PROMPT, seeded).tokenIds();
        int absent = 3;
        while (firstEnd(g, 0, new int[] {absent}) >= 0) absent++;
        int[] acrossThePrompt = {PROMPT[PROMPT.length - 1], g[0]};
        assertEquals(-1, firstEnd(g, 0, acrossThePrompt), "precondition: the bigram spans the prompt's end only");
        int[] inThePrompt = Arrays.copyOfRange(PROMPT, 1, 3);
        assertEquals(-1, firstEnd(g, 0, inThePrompt), "precondition: only the prompt has it");
        Constraint c = tagged(new int[] {absent, absent}, acrossThePrompt, inThePrompt);
        int[] t = runAlone(PROMPT, seeded.toBuilder().constraint(c).build()).tokenIds();
        assertArrayEquals(g, t, "no region opened: the same seed gives the same tokens");
    }

    @Test
    void unconstrainedRequestsBesideTaggedOnesGetTheirTokensAlone() {
        int[][] prompts = {{1, 45, 300, 87}, {1, 9, 10, 11, 12}, {1, 200}};
        int[][] alone = new int[prompts.length][];
        int[][] taggedAlone = new int[prompts.length][];
        Constraint[] constraints = new Constraint[prompts.length];
        for (int i = 0; i < prompts.length; i++) {
            SamplingParams free = SamplingParams.builder().temperature(1f).seed(7 + i).maxTokens(MAX_TOKENS).build();
            alone[i] = runAlone(prompts[i], free).tokenIds();
            constraints[i] = tagged(freshBigram(alone[i]));
            taggedAlone[i] = runAlone(prompts[i], free.toBuilder().constraint(constraints[i]).build()).tokenIds();
        }
        List<RequestHandle> mixedFree = new ArrayList<>(), mixedTagged = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) {
            SamplingParams free = SamplingParams.builder().temperature(1f).seed(7 + i).maxTokens(MAX_TOKENS).build();
            mixedTagged.add(submit(prompts[i], free.toBuilder().constraint(constraints[i]).build()));
            mixedFree.add(submit(prompts[i], free));
            engine.step();
        }
        EngineTests.runUntilIdle(engine, 5000);
        for (int i = 0; i < prompts.length; i++) {
            assertArrayEquals(alone[i], EngineTests.done(mixedFree.get(i)).choices().get(0).tokenIds(), "free request " + i);
            assertArrayEquals(taggedAlone[i], EngineTests.done(mixedTagged.get(i)).choices().get(0).tokenIds(), "tagged request " + i);
            assertFalse(Arrays.equals(alone[i], taggedAlone[i]), "the tagged request " + i + " did open a region");
        }
    }

    @Test
    void eachOfNChoicesOpensAndClosesItsOwnRegions() {
        int[] g = runAlone(PROMPT, greedy().build()).tokenIds();
        int[] trigger = freshBigram(g);
        SamplingParams p = SamplingParams.builder().temperature(1f).seed(3).n(3).maxTokens(MAX_TOKENS).constraint(tagged(trigger)).build();
        RequestHandle h = submit(PROMPT, p);
        EngineTests.runUntilIdle(engine, 5000);
        List<RequestHandle.Choice> choices = EngineTests.done(h).choices();
        assertEquals(3, choices.size());
        for (RequestHandle.Choice c : choices) {
            assertNull(c.error());
            // At temperature 1 the fake's winner (logit 20 against < 1) is all but certain outside a region.
            assertTrue(checkOutput(PROMPT, c.tokenIds(), trigger, "choice " + c.index()) >= 1, "choice " + c.index());
        }
    }

    @Test
    void aTagsSchemaErrorFailsTheSubmitNamingTheTag() {
        String bad = "{\"type\":\"object\",\"patternProperties\":{\"^x\":{}}}";
        Constraint c = new Constraint.Tagged(List.of(new Constraint.Tag(new int[] {5}, SCHEMA), new Constraint.Tag(new int[] {6}, bad)));
        var e = assertThrows(IllegalArgumentException.class, () -> submit(PROMPT, greedy().constraint(c).build()));
        assertInstanceOf(SchemaException.class, e);
        assertTrue(e.getMessage().startsWith("tags[1]: ") && e.getMessage().contains("patternProperties"), e.getMessage());
        Constraint outside = tagged(new int[] {5, VOCAB});
        var o = assertThrows(IllegalArgumentException.class, () -> submit(PROMPT, greedy().constraint(outside).build()));
        assertTrue(o.getMessage().contains("outside the vocabulary"), o.getMessage());
    }
}

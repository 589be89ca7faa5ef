package io.basalt.engine;

import static io.basalt.engine.EngineTests.done;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * response_format through the engine on a real model (stories260K, temperature 1): every constrained choice ends with
 * {@code stop} and parses (json_object) or validates against its schema (json_schema, checked by networknt's
 * validator, independent of the grammar engine); unconstrained requests in the same batch get exactly the tokens
 * they get alone; a bad schema fails the submit, naming the keyword.
 */
class StructuredOutputTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int MAX_TOKENS = 400;
    /** Every value bounded (enums, a bounded integer, booleans, a bounded array): each output must end by itself. */
    static final String SCHEMA = """
            {"type":"object","properties":{"color":{"enum":["red","green","blue"]},"count":{"type":"integer","minimum":0,"maximum":99},
             "tags":{"type":"array","items":{"enum":["a","b","c"]},"maxItems":3},"ok":{"type":"boolean"}},
             "required":["color","count","tags","ok"],"additionalProperties":false}""";
    static Engine engine;
    /**
     * stories260K tells stories: inside a free JSON string it would go on until max_tokens (any JSON object is
     * unbounded), so the json_object requests lean toward closing: +12 on every token holding a '}', +4 on one holding a '"'. The mask
     * is applied before the bias, so the bias only chooses among what the grammar allows.
     */
    static java.util.Map<Integer, Float> closers;

    @BeforeAll
    static void load() {
        engine = EngineTestSupport.engine(EngineTestSupport.load(EngineTestSupport.STORIES, 64L << 20), EngineConfig.defaults());
        closers = io.basalt.testing.JsonClosers.bias(engine.tokenizer());
    }

    private static SamplingParams objectParams(long seed) {
        return params(seed, new Constraint.JsonObject()).toBuilder().logitBias(closers).build();
    }

    @AfterAll
    static void close() { engine.close(); }

    private static SamplingParams params(long seed, Constraint c) {
        return SamplingParams.builder().temperature(1f).seed(seed).maxTokens(MAX_TOKENS).constraint(c).build();
    }

    @Test
    void jsonObjectAtTemperatureOneAlwaysEndsWithStopAndParses() throws Exception {
        List<RequestHandle> hs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            hs.add(engine.submit(new EngineRequest("obj" + i, new int[] {1}, objectParams(100 + i), 0)));
        }
        EngineTests.runUntilIdle(engine, 20_000);
        int parsed = 0;
        for (RequestHandle h : hs) {
            RequestHandle.Choice c = done(h).choices().get(0);
            assertEquals(FinishReason.STOP, c.finishReason(), h.requestId() + ": " + c.text());
            JsonNode n = JSON.readTree(c.text());
            assertTrue(n.isObject(), h.requestId() + ": not an object: " + c.text());
            parsed++;
        }
        assertEquals(16, parsed);
    }

    @Test
    void jsonSchemaOutputsValidate() throws Exception {
        Schema validator = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(JSON.readTree(SCHEMA));
        List<RequestHandle> hs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            hs.add(engine.submit(new EngineRequest("schema" + i, new int[] {1},
                    params(200 + i, new Constraint.JsonSchema(SCHEMA, true)), 0)));
        }
        EngineTests.runUntilIdle(engine, 20_000);
        for (RequestHandle h : hs) {
            RequestHandle.Choice c = done(h).choices().get(0);
            assertEquals(FinishReason.STOP, c.finishReason(), h.requestId() + ": " + c.text());
            List<com.networknt.schema.Error> errors = validator.validate(JSON.readTree(c.text()));
            assertEquals(List.of(), errors, h.requestId() + ": " + c.text());
        }
    }

    @Test
    void unconstrainedRequestsInAConstrainedBatchGetTheirTokensAlone() {
        long[] seeds = {7, 8, 9};
        int[][] alone = new int[seeds.length][];
        for (int i = 0; i < seeds.length; i++) {
            RequestHandle h = engine.submit(new EngineRequest("alone" + i, new int[] {1}, params(seeds[i], null), 0));
            EngineTests.runUntilIdle(engine, 2000);
            alone[i] = done(h).choices().get(0).tokenIds();
        }
        List<RequestHandle> mixed = new ArrayList<>();
        for (int i = 0; i < seeds.length; i++) {
            engine.submit(new EngineRequest("c" + i, new int[] {1}, objectParams(300 + i), 0));
            mixed.add(engine.submit(new EngineRequest("free" + i, new int[] {1}, params(seeds[i], null), 0)));
            engine.submit(new EngineRequest("s" + i, new int[] {1}, params(400 + i, new Constraint.JsonSchema(SCHEMA, false)), 0));
            engine.step();
        }
        EngineTests.runUntilIdle(engine, 20_000);
        for (int i = 0; i < seeds.length; i++) {
            assertArrayEquals(alone[i], done(mixed.get(i)).choices().get(0).tokenIds(), "seed " + seeds[i]);
        }
    }

    @Test
    void nTwoGivesTwoValidChoices() throws Exception {
        SamplingParams p = objectParams(55).toBuilder().n(2).build();
        RequestHandle h = engine.submit(new EngineRequest("n2", new int[] {1}, p, 0));
        EngineTests.runUntilIdle(engine, 20_000);
        List<RequestHandle.Choice> cs = done(h).choices();
        assertEquals(2, cs.size());
        for (RequestHandle.Choice c : cs) {
            assertEquals(FinishReason.STOP, c.finishReason(), c.text());
            assertTrue(JSON.readTree(c.text()).isObject(), c.text());
        }
    }

    @Test
    void aSchemaErrorFailsTheSubmitNamingTheKeyword() {
        String bad = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\",\"patternProperties\":{\"^x\":{}}}}}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> engine.submit(
                new EngineRequest("bad", new int[] {1}, params(1, new Constraint.JsonSchema(bad, true)), 0)));
        assertTrue(e.getMessage().contains("patternProperties"), e.getMessage());
        assertTrue(e instanceof io.basalt.structured.SchemaException, e.getClass().getName());
    }
}

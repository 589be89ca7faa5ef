package io.basalt.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.SamplingParams;
import io.basalt.api.grpc.GenerateRequest;
import io.basalt.server.SamplingField;
import io.basalt.server.openai.Json;
import io.basalt.server.openai.SamplingRequest;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** OpenAI JSON, basalt.v1 Generate and KServe parameters: one table, the same parameters. */
class SamplingMappingTest {
    private static String describe(SamplingParams p) {
        return p.toString().replaceAll("stopTokenIds=\\[I@[0-9a-f]+", "stopTokenIds=" + Arrays.toString(p.stopTokenIds()));
    }

    @Test
    void theThreeFrontEndsMapTheSameSettingsToTheSameParameters() {
        ObjectNode json = Json.parseObject("""
                {"temperature":0.5,"top_p":0.9,"top_k":7,"min_p":0.05,"repetition_penalty":1.3,"presence_penalty":0.4,
                 "frequency_penalty":-0.2,"seed":-11,"stop":["x","yz"],"stop_token_ids":[3,4],"max_tokens":33,"min_tokens":2,
                 "ignore_eos":true}""".getBytes(StandardCharsets.UTF_8));
        SamplingParams openAi = SamplingRequest.parse(json, 512).toParams(10, "prompt", 100, 16, false, 0, "logprobs");

        SamplingParams grpc = GenerateRequests.sampling(GenerateRequest.newBuilder().setTemperature(0.5f).setTopP(0.9f).setTopK(7)
                .setMinP(0.05f).setRepetitionPenalty(1.3f).setPresencePenalty(0.4f).setFrequencyPenalty(-0.2f).setSeed(-11)
                .addAllStop(List.of("x", "yz")).addStopTokenIds(3).addStopTokenIds(4).setMaxTokens(33).setMinTokens(2)
                .setIgnoreEos(true).build());

        // As Triton clients send them: typed parameters, or strings from a sampling_parameters JSON object.
        Map<String, Object> kserve = new LinkedHashMap<>();
        kserve.put("temperature", 0.5);
        kserve.put("top_p", "0.9");
        kserve.put("top_k", 7L);
        kserve.put("min_p", "0.05");
        kserve.put("repetition_penalty", 1.3);
        kserve.put("presence_penalty", 0.4);
        kserve.put("frequency_penalty", -0.2);
        kserve.put("seed", "-11");
        kserve.put("stop", List.of("x", "yz"));
        kserve.put("stop_token_ids", List.of("3", "4"));
        kserve.put("max_tokens", 33L);
        kserve.put("min_tokens", 2.0);
        kserve.put("ignore_eos", "true");
        SamplingParams kserveParams = KServeParameters.sampling(kserve).toParams();

        assertEquals(describe(openAi), describe(grpc));
        assertEquals(describe(openAi), describe(kserveParams));
    }

    @Test
    void kserveRefusesUnknownParametersNamingThem() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("temperature", 0.0);
        p.put("max_token", 8L);     // a typo: silently ignoring it would sample 16 tokens
        p.put("beam_width", 2L);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KServeParameters.sampling(p));
        assertTrue(e.getMessage().startsWith("unknown parameters 'max_token', 'beam_width'; ModelInfer takes temperature,"),
                e.getMessage());
        assertTrue(e.getMessage().contains("max_tokens"), e.getMessage());

        // Fields of the table that have no meaning for one text_output are refused too.
        for (String key : List.of("n", "logprobs", "top_logprobs", "logit_bias")) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> KServeParameters.sampling(Map.of(key, 1L)));
            assertTrue(x.getMessage().startsWith("unknown parameter '" + key + "'"), x.getMessage());
        }
        // An unknown key without a value is still a typo.
        Map<String, Object> nullValue = new LinkedHashMap<>();
        nullValue.put("temprature", null);
        assertThrows(IllegalArgumentException.class, () -> KServeParameters.sampling(nullValue));
    }

    @Test
    void kserveAcceptsTritonsReservedParametersAndIgnoresThem() {
        Map<String, Object> p = new LinkedHashMap<>();
        for (String k : KServeParameters.TRITON_RESERVED) p.put(k, 1L);
        p.put("triton_enable_empty_final_response", true);
        p.put("max_tokens", 5L);
        p.put("temperature", null);   // a known key without a value: not given
        var values = KServeParameters.sampling(p);
        assertEquals(Map.of(SamplingField.MAX_TOKENS, 5), values.given());
        assertFalse(values.has(SamplingField.TEMPERATURE));
    }
}

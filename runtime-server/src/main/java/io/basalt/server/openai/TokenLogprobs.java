package io.basalt.server.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.engine.sampling.Sample;
import io.basalt.engine.sampling.TokenLogprob;
import java.util.List;

/**
 * One choice's logprobs in the two OpenAI shapes, built as tokens arrive (streamed chunks carry only
 * their own tokens; offsets and token texts continue across chunks). A token's text is the bytes it
 * adds after the token before it (so SentencePiece's "no space after BOS" rule applies), as UTF-8.
 * Alternatives at a position are decoded after the same predecessor as the chosen token.
 */
final class TokenLogprobs {
    private final OpenAiModel model;
    private int previousId;
    private int textOffset;

    /** @param previousId the last prompt token; @param textOffset where the choice's text begins (echo: the prompt's length) */
    TokenLogprobs(OpenAiModel model, int previousId, int textOffset) {
        this.model = model;
        this.previousId = previousId;
        this.textOffset = textOffset;
    }

    /** Chat: {"content":[{token, logprob, bytes, top_logprobs:[{token, logprob, bytes}]}], "refusal": null}. */
    ObjectNode chat(List<Sample> samples) {
        ObjectNode out = Json.object();
        ArrayNode content = out.putArray("content");
        for (Sample s : samples) {
            ObjectNode entry = content.addObject();
            entry(entry, s.tokenId(), s.logprob());
            ArrayNode top = entry.putArray("top_logprobs");
            for (TokenLogprob t : s.topLogprobs()) entry(top.addObject(), t.tokenId(), t.logprob());
            previousId = s.tokenId();
        }
        out.putNull("refusal");
        return out;
    }

    private void entry(ObjectNode o, int id, float logprob) {
        byte[] bytes = model.tokenBytes(previousId, id);
        o.put("token", new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
        o.put("logprob", Json.logprob(logprob));
        ArrayNode b = o.putArray("bytes");
        for (byte x : bytes) b.add(x & 0xFF);
    }

    /**
     * Legacy completions: {"tokens", "token_logprobs", "top_logprobs": [{token: logprob}], "text_offset"}.
     * As vLLM does, each top_logprobs map also holds the chosen token, so logprobs=0 still names it.
     */
    ObjectNode completions(List<Sample> samples) {
        ObjectNode out = Json.object();
        ArrayNode tokens = out.putArray("tokens");
        ArrayNode tokenLogprobs = out.putArray("token_logprobs");
        ArrayNode tops = out.putArray("top_logprobs");
        ArrayNode offsets = out.putArray("text_offset");
        for (Sample s : samples) {
            String text = model.tokenText(previousId, s.tokenId());
            tokens.add(text);
            tokenLogprobs.add(Json.logprob(s.logprob()));
            ObjectNode top = tops.addObject();
            for (TokenLogprob t : s.topLogprobs()) {
                String alt = model.tokenText(previousId, t.tokenId());
                if (!top.has(alt)) top.put(alt, Json.logprob(t.logprob()));
            }
            if (!top.has(text)) top.put(text, Json.logprob(s.logprob()));
            offsets.add(textOffset);
            textOffset += text.length();
            previousId = s.tokenId();
        }
        return out;
    }
}

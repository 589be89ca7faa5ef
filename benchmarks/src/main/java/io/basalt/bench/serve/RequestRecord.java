package io.basalt.bench.serve;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One measured request, as written to the results JSON. Times are client-side: {@code startS} is
 * when the request was sent (seconds from the start of the run), {@code scheduledS} when its
 * arrival was due (later sends mean the client queued it under --max-concurrency); TTFT is the
 * first chunk that carried text, ITL the gaps between text chunks, E2E until the stream ended.
 *
 * @param promptTokens          prompt length as counted (see {@code tokenSource} in the summary)
 * @param outputTokens          output length as counted
 * @param usagePromptTokens     the server's usage.prompt_tokens, or -1 when it sent none
 * @param usageCompletionTokens the server's usage.completion_tokens, or -1
 * @param chunks                SSE chunks that carried text
 * @param ttftMs                null when no text arrived
 * @param error                 null for a success; else http_STATUS, timeout, connection or bad_stream
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RequestRecord(int index, double scheduledS, double startS, int promptTokens, int outputTokens,
                            int usagePromptTokens, int usageCompletionTokens, int chunks, Double ttftMs, double e2eMs,
                            double[] itlMs, String error, String errorDetail) {
    public RequestRecord {
        itlMs = itlMs == null ? new double[0] : itlMs;
    }

    public boolean ok() { return error == null; }

    /** Time per output token after the first: (E2E − TTFT)/(output − 1); 0 when there is at most one token. */
    public double tpotMs() {
        return outputTokens > 1 && ttftMs != null ? (e2eMs - ttftMs) / (outputTokens - 1) : 0;
    }

    public double maxItlMs() {
        double m = 0;
        for (double v : itlMs) m = Math.max(m, v);
        return m;
    }

    public double endS() { return startS + e2eMs / 1000; }
}

package io.basalt.parity;

import java.util.List;

/**
 * The result of comparing dump A (the reference) with dump B.
 *
 * @param hiddenNote why hidden states were not compared, or null when they were
 * @param warnings   things a reader must know that do not fail the comparison (different model hashes, lengths)
 */
public record Comparison(DumpMetadata a, DumpMetadata b, List<PromptResult> prompts, LogitStats overall, List<LayerStats> layers,
                         String hiddenNote, List<String> warnings) {
    public Comparison {
        prompts = List.copyOf(prompts);
        layers = List.copyOf(layers);
        warnings = List.copyOf(warnings);
    }

    public boolean hiddenCompared() { return hiddenNote == null; }

    public int comparedPositions() { return prompts.stream().mapToInt(PromptResult::compared).sum(); }

    public int excludedPositions() { return prompts.stream().mapToInt(PromptResult::excluded).sum(); }

    /**
     * One prompt.
     *
     * @param promptLength           the shorter of the two prompt lengths (positions teacher-forced on both sides)
     * @param compared               positions whose logits entered the metrics
     * @param excluded               positions left out because the inputs differed at or before them (greedy divergence)
     * @param unmatched              positions only the longer dump has
     * @param firstArgmaxDivergence  first compared position where the greedy choices (argmax) differ, or -1
     * @param contextDivergence      first position whose input token differs, or -1 (from there on rows are excluded)
     * @param maxAbsByPosition       max |Δlogit| of each compared position
     * @param klByPosition           KL(P_A ‖ P_B) of each compared position
     * @param relRmsByPosition       relative RMS of the last layer's hidden state per compared position (empty without hidden states)
     */
    public record PromptResult(int index, String text, int promptLength, int compared, int excluded, int unmatched,
                               int firstArgmaxDivergence, int contextDivergence, LogitStats stats, List<LayerStats> layers,
                               double[] maxAbsByPosition, double[] klByPosition, double[] relRmsByPosition) {
        public PromptResult {
            layers = List.copyOf(layers);
        }
    }
}

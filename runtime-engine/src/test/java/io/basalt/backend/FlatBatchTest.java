package io.basalt.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.spi.Architecture;
import io.basalt.spi.Batch;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rows every dynamic runner consumes, from a mixed prefill/decode step over scattered blocks. */
class FlatBatchTest {
    static final ModelSpec MODEL = new ModelSpec(Architecture.LLAMA, 100, 64, 2, 8, 64);

    static FlatBatch of(SequenceInput... in) {
        return FlatBatch.of(new Batch(List.of(), List.of(in), Batch.HiddenStates.NONE), 4, MODEL);
    }

    @Test
    void rowsSlotsAndLogitRowsOfAMixedStep() {
        // A prefill chunk of 5 at positions 6..10 in blocks [7, 2, 9] (blocks of 4), not asking for logits;
        // a decode at position 3 in block 5; a prefill of 2 from 0 in block 0 that asks.
        FlatBatch b = of(new SequenceInput(11, new int[] {1, 2, 3, 4, 5}, 6, new int[] {7, 2, 9}, false),
                new SequenceInput(12, new int[] {6}, 3, new int[] {5}, true),
                new SequenceInput(13, new int[] {7, 8}, 0, new int[] {0}, true));
        assertEquals(8, b.numRows());
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6, 7, 8}, b.tokenIds());
        assertArrayEquals(new int[] {6, 7, 8, 9, 10, 3, 0, 1}, b.positions());
        // position p of a sequence: table[p / 4] · 4 + p % 4
        assertArrayEquals(new int[] {2 * 4 + 2, 2 * 4 + 3, 9 * 4, 9 * 4 + 1, 9 * 4 + 2, 5 * 4 + 3, 0, 1}, b.slots());
        assertArrayEquals(new int[] {5, 7}, b.logitRows());
        int[] sequenceOfRow = new int[8];
        for (int r = 0; r < 8; r++) {
            sequenceOfRow[r] = b.sequence(r);
            assertEquals(b.slots()[r], b.slot(r));
            assertEquals(b.positions()[r], b.position(r));
            assertEquals(b.tokenIds()[r], b.tokenId(r));
        }
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 1, 2, 2}, sequenceOfRow);
        assertEquals(3, b.numSequences());
        assertArrayEquals(new long[] {11, 12, 13}, new long[] {b.seqId(0), b.seqId(1), b.seqId(2)});
        assertArrayEquals(new int[] {0, 5, 6}, new int[] {b.firstRow(0), b.firstRow(1), b.firstRow(2)});
        assertArrayEquals(new int[] {5, 1, 2}, new int[] {b.numTokens(0), b.numTokens(1), b.numTokens(2)});
        assertArrayEquals(new int[] {6, 3, 0}, new int[] {b.startPosition(0), b.startPosition(1), b.startPosition(2)});
        assertArrayEquals(new int[] {11, 4, 2}, new int[] {b.endPosition(0), b.endPosition(1), b.endPosition(2)});
        // the keys a sequence attends to, before this step's rows too
        assertEquals(7 * 4, b.slot(0, 0));
        assertEquals(7 * 4 + 3, b.slot(0, 3));
        assertEquals(2 * 4, b.slot(0, 4));
        assertEquals(5 * 4, b.slot(1, 0));
        assertEquals(11, b.maxLength());
        assertEquals(4, b.blockSize());
    }

    @Test
    void arraysAreCopiesAndLogitRowsCanBeReplaced() {
        SequenceInput in = new SequenceInput(1, new int[] {3, 4, 5}, 0, new int[] {0}, true);
        FlatBatch b = of(in);
        b.tokenIds()[0] = 99;
        b.slots()[0] = 99;
        b.logitRows()[0] = 0;
        in.tokenIds()[1] = 98; // the batch took its own copy
        assertArrayEquals(new int[] {3, 4, 5}, b.tokenIds());
        assertArrayEquals(new int[] {0, 1, 2}, b.slots());
        assertArrayEquals(new int[] {2}, b.logitRows());
        assertArrayEquals(new int[] {0, 1, 2}, b.withLogitRows(new int[] {0, 1, 2}).logitRows());
        assertArrayEquals(new int[0], b.withLogitRows(new int[0]).logitRows());
        assertArrayEquals(new int[] {2}, b.logitRows(), "withLogitRows makes a new batch");
        assertThrows(IllegalArgumentException.class, () -> b.withLogitRows(new int[] {1, 0}));
        assertThrows(IllegalArgumentException.class, () -> b.withLogitRows(new int[] {3}));
    }

    @Test
    void oneSequenceOverOneLongBlockHasSlotsEqualToPositions() {
        // The CPU's contiguous single-sequence cache: block 0 of the context's length.
        FlatBatch b = FlatBatch.ofSequence(new int[] {9, 8, 7}, 40, new int[] {0}, 64, MODEL);
        assertArrayEquals(new int[] {40, 41, 42}, b.slots());
        assertArrayEquals(new int[] {2}, b.logitRows());
        assertEquals(0L, b.seqId(0));
    }

    @Test
    void inputsOutsideTheModelOrTheTableAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> of(new SequenceInput(1, new int[] {1, 2}, 63, new int[16], true)));
        assertEquals("sequence of 65 positions exceeds the model's context length of 64", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> of(new SequenceInput(7, new int[] {1}, 4, new int[] {0}, true)));
        assertEquals("block table of sequence 7 has 1 blocks for 5 positions", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> of(new SequenceInput(1, new int[] {100}, 0, new int[] {0}, true)));
        assertEquals("token id 100 is outside the vocabulary [0, 100)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> of(new SequenceInput(1, new int[] {-1}, 0, new int[] {0}, true)));
        assertTrue(e.getMessage().contains("token id -1"), e.getMessage());
        // a pool too large for int slots fails instead of wrapping
        assertThrows(ArithmeticException.class,
                () -> of(new SequenceInput(1, new int[] {1}, 0, new int[] {Integer.MAX_VALUE / 2}, true)));
    }

    @Test
    void anEmptyStepHasNoRows() {
        FlatBatch b = of();
        assertEquals(0, b.numRows());
        assertEquals(0, b.numSequences());
        assertEquals(0, b.maxLength());
        assertArrayEquals(new int[0], b.logitRows());
    }
}

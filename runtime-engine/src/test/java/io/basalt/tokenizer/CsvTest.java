package io.basalt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {
    @Test
    void quotedFieldsKeepCommasNewlinesAndQuotes(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("x.csv");
        Files.writeString(f, "input,output\r\n\"a, \"\"b\"\"\nc\",\"[1, 2]\"\nplain,[]\n");
        List<List<String>> rows = Csv.read(f);
        assertEquals(List.of(List.of("input", "output"), List.of("a, \"b\"\nc", "[1, 2]"), List.of("plain", "[]")), rows);
        assertArrayEquals(new int[] {1, 2}, Csv.ids(rows.get(1).get(1)));
        assertArrayEquals(new int[0], Csv.ids("[]"));
    }
}

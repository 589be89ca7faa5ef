package io.basalt.structured;

import io.basalt.testing.Shared;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** docs/STRUCTURED.md §4 and the README list exactly the engine's keyword table, in order. */
class KeywordTableTest {
    @Test void docsEqualTheEngineTable() throws Exception {
        String doc = Files.readString(Shared.root().getParent().resolve("docs/STRUCTURED.md"));
        String section = doc.substring(doc.indexOf("## 4. Supported JSON Schema keywords"));
        int next = section.indexOf("\n## ", 5);
        if (next > 0) section = section.substring(0, next);
        List<String> documented = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\| `([^`]+)` \\|").matcher(section);
        while (m.find()) documented.add(m.group(1));
        assertEquals(new ArrayList<>(SchemaCompiler.SUPPORTED_KEYWORDS.keySet()), documented);
    }

    @Test void readmeListsTheEngineTable() throws Exception {
        String readme = Files.readString(Shared.root().getParent().resolve("README.md"));
        int from = readme.indexOf("Supported keywords:");
        String list = readme.substring(from, readme.indexOf("(ignored)", from)).replaceAll("\\s+", " ");
        List<String> listed = new ArrayList<>();
        Matcher m = Pattern.compile("`([^`]+)`").matcher(list);
        while (m.find()) listed.add(m.group(1));
        assertEquals(new ArrayList<>(SchemaCompiler.SUPPORTED_KEYWORDS.keySet()), listed);
    }
}

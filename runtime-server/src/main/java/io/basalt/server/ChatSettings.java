package io.basalt.server;

import io.basalt.frontend.tools.ToolCallFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * How chat requests are rendered and read, beyond what the model ships ({@code --chat-template},
 * {@code --tool-call-parser}).
 *
 * @param template       a Jinja chat template that replaces the model's own, or null for the model's
 * @param templateOrigin where {@code template} came from (a file name, for messages), or null
 * @param toolCallFormat how the model writes tool calls, or null to detect it from the template
 */
public record ChatSettings(String template, String templateOrigin, ToolCallFormat toolCallFormat) {
    /** The model's own template, the format detected from it. */
    public static final ChatSettings DEFAULT = new ChatSettings(null, null, null);

    /** The template in {@code file}; an unreadable file is an IllegalArgumentException naming it. */
    public static String readTemplate(Path file) {
        try {
            String s = Files.readString(file);
            if (s.isBlank()) throw new IllegalArgumentException("--chat-template " + file + ": the file is empty");
            return s;
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--chat-template " + file + ": no such file");
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException i && i.getMessage().startsWith("--chat-template")) throw i;
            throw new IllegalArgumentException("--chat-template " + file + ": cannot read it (" + e + ")");
        }
    }

    public ChatSettings withTemplate(String source, String origin) { return new ChatSettings(source, origin, toolCallFormat); }

    public ChatSettings withToolCallFormat(ToolCallFormat f) { return new ChatSettings(template, templateOrigin, f); }
}

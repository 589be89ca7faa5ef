package io.basalt.cli;

import io.basalt.backend.BackendCommand;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * A backend's own command ({@code basalt neuron ...}) as a subcommand: every argument after the command word, options
 * and {@code --help} included, goes to the backend, which parses them itself; the CLI never names a backend's classes.
 */
final class BackendSubcommand implements Callable<Integer> {
    private final BackendCommand command;

    @Spec
    CommandSpec spec;

    @Unmatched
    List<String> args = new ArrayList<>();

    private BackendSubcommand(BackendCommand command) { this.command = command; }

    /** Adds one subcommand per installed {@link BackendCommand}; a name the CLI already uses stays the CLI's. */
    static void registerAll(CommandLine cl) {
        for (BackendCommand c : ServiceLoader.load(BackendCommand.class)) {
            if (cl.getSubcommands().containsKey(c.name())) continue;
            CommandSpec spec = CommandSpec.forAnnotatedObject(new BackendSubcommand(c));
            spec.name(c.name());
            spec.usageMessage().description(c.description());
            // No options of its own: the first argument is unmatched, and it and all after it are handed over as typed.
            spec.parser().stopAtUnmatched(true);
            cl.addSubcommand(c.name(), spec);
        }
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (PrintStream o = stream(out); PrintStream e = stream(err)) {
            return command.run(List.copyOf(args), o, e);
        }
    }

    /** The backend writes to a PrintStream; picocli (and the tests) hold Writers: text goes across as UTF-8 on each flush. */
    private static PrintStream stream(Writer w) {
        OutputStream bytes = new OutputStream() {
            private final java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();

            @Override
            public void write(int b) { pending.write(b); }

            @Override
            public void write(byte[] b, int off, int len) { pending.write(b, off, len); }

            @Override
            public void flush() {
                try {
                    w.write(pending.toString(StandardCharsets.UTF_8));
                    pending.reset();
                    w.flush();
                } catch (java.io.IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
            }

            @Override
            public void close() { flush(); }
        };
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }
}

package io.basalt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code basalt} command line. */
@Command(name = "basalt", mixinStandardHelpOptions = true, version = "basalt 0.1.0",
        description = "Basalt: an inference runtime for GPT-2, gpt-oss and Llama models.",
        subcommands = {GenerateCommand.class, LogitsCommand.class, ServeCommand.class, ParityCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(System.err); }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (tests run it in-process). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // Generated text is UTF-8 whatever the platform charset; flushed per write so tokens stream.
        cl.setOut(new java.io.PrintWriter(new java.io.OutputStreamWriter(
                new java.io.FileOutputStream(java.io.FileDescriptor.out), java.nio.charset.StandardCharsets.UTF_8), true));
        // A bad model file or argument is the user's problem to fix: one line naming it, no stack trace.
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("basalt: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            if (Boolean.getBoolean("basalt.debug")) e.printStackTrace(cmd.getErr());
            return 2;
        });
        return cl;
    }
}

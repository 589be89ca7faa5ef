package io.basalt.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.List;
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
        configureLogging();
        System.exit(commandLine().execute(args));
    }

    /** One line per log record, unless the user configured logging. */
    private static void configureLogging() {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null
                && System.getProperty("java.util.logging.config.file") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
        }
    }

    /** The configured command line (tests run it in-process). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // Backends' own commands (basalt neuron ...), found on the class path; added before the handlers so they apply.
        BackendSubcommand.registerAll(cl);
        // Generated text is UTF-8 whatever the platform charset; flushed per write so tokens stream.
        cl.setOut(new java.io.PrintWriter(new java.io.OutputStreamWriter(
                new java.io.FileOutputStream(java.io.FileDescriptor.out), java.nio.charset.StandardCharsets.UTF_8), true));
        // A mistyped option is one line that names it and where to look, not a page of usage.
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            cmd.getErr().println("basalt: " + parameterMessage(e));
            cmd.getErr().flush();
            return 2;
        });
        // A bad model file or argument is the user's problem to fix: one line naming it, no stack trace.
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("basalt: " + message(e));
            if (Boolean.getBoolean("basalt.debug")) e.printStackTrace(cmd.getErr());
            cmd.getErr().flush();
            return 2;
        });
        return cl;
    }

    /** picocli's complaint in one line: what is wrong, a suggestion when a near option exists, where the options are. */
    static String parameterMessage(CommandLine.ParameterException e) {
        String command = e.getCommandLine().getCommandSpec().qualifiedName(" ");
        String help = " (see '" + command + " --help')";
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String first = u.getUnmatched().getFirst();
            List<String> near = u.getSuggestions();
            String hint = near.isEmpty() ? "" : "; did you mean " + String.join(" or ", near.subList(0, Math.min(3, near.size()))) + "?";
            return (first.startsWith("-") ? "unknown option '" + first + "'" : "unexpected argument '" + first + "'") + hint + help;
        }
        String m = e.getMessage() == null ? e.toString() : e.getMessage().strip();
        int newline = m.indexOf('\n');
        if (newline >= 0) m = m.substring(0, newline);
        return m + help;
    }

    /** An exception as one line; file-system errors say what went wrong with the file, not only its name. */
    static String message(Throwable e) {
        if (e instanceof java.io.UncheckedIOException u && u.getCause() instanceof FileSystemException f && u.getMessage() != null
                && u.getMessage().endsWith(f.getMessage())) {
            e = f;
        }
        return switch (e) {
            case NoSuchFileException f -> f.getFile() + ": no such file or directory" + (f.getOtherFile() == null ? "" : " (" + f.getOtherFile() + ")");
            case AccessDeniedException f -> f.getFile() + ": permission denied";
            case FileAlreadyExistsException f -> f.getFile() + ": already exists";
            case NotDirectoryException f -> f.getFile() + ": not a directory";
            case FileSystemException f -> f.getFile() + ": " + (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName());
            default -> e.getMessage() != null ? e.getMessage() : e.toString();
        };
    }
}

package io.basalt.backend.neuron.cli;

import io.basalt.backend.BackendCommand;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code basalt neuron compile|check} (docs/NEURON.md §6), found by the CLI through {@link BackendCommand}. */
public final class NeuronCommand implements BackendCommand {
    @Override
    public String name() { return "neuron"; }

    @Override
    public String description() { return "AWS Inferentia2/Trainium1: compile a model into a package, check a package on this host."; }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Root());
        cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        // The same one-line errors, exit 2, as the rest of the CLI (io.basalt.cli.Main).
        cl.setParameterExceptionHandler((e, a) -> {
            String m = e.getMessage() == null ? e.toString() : e.getMessage().strip().lines().findFirst().orElse("");
            e.getCommandLine().getErr().println("basalt: " + m + " (see '" + e.getCommandLine().getCommandSpec().qualifiedName(" ") + " --help')");
            return 2;
        });
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("basalt: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            if (Boolean.getBoolean("basalt.debug")) e.printStackTrace(cmd.getErr());
            return 2;
        });
        try {
            return cl.execute(args.toArray(String[]::new));
        } finally {
            cl.getOut().flush();
            cl.getErr().flush();
        }
    }

    @Command(name = "basalt neuron", mixinStandardHelpOptions = true,
            description = "AWS Inferentia2/Trainium1 (docs/NEURON.md): compile a model into a package, check one on this host.",
            subcommands = {CompileCommand.class, CheckCommand.class})
    static final class Root implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() { spec.commandLine().usage(spec.commandLine().getErr()); }
    }
}

package io.basalt.backend.cuda.check;

import io.basalt.backend.BackendCommand;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code basalt cuda check} (docs/CUDA.md §7), found by the CLI through {@link BackendCommand}. */
public final class CudaCommand implements BackendCommand {
    @Override
    public String name() { return "cuda"; }

    @Override
    public String description() { return "NVIDIA GPUs: check this host's GPU (ceilings, kernels, parity with cpu, decode speed) in one command."; }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Root());
        cl.setOut(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true));
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

    /** For the GPU bundle, which runs the check without the server's CLI (and its jars): {@code java -cp ... CudaCommand check ...}. */
    public static void main(String[] args) {
        System.exit(new CudaCommand().run(List.of(args), System.out, System.err));
    }

    @Command(name = "basalt cuda", mixinStandardHelpOptions = true,
            description = "NVIDIA GPUs (docs/CUDA.md): check this host's GPU and the cuda backend on it.",
            subcommands = {CheckCommand.class})
    static final class Root implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() { spec.commandLine().usage(spec.commandLine().getErr()); }
    }
}

package io.basalt.bench.serve;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code basalt bench serve | sweep | compare}: the serving benchmark (load generator) for any
 * OpenAI-compatible endpoint. Plain {@code basalt bench} stays the kernel/engine benchmark
 * ({@link io.basalt.bench.Bench}); the launcher sends these three subcommands here.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, version = "basalt bench 0.1.0",
        description = "Serving benchmark for OpenAI-compatible endpoints.",
        subcommands = {BenchCli.Serve.class, BenchCli.Sweep.class, BenchCli.Compare.class})
public final class BenchCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private static List<String> argv = List.of();

    @Override
    public void run() { spec.commandLine().usage(System.err); }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    /**
     * Runs the command line in-process (tests): 0 on success (some requests may have failed: their
     * errors are summarized on stderr), 1 when no request succeeded (the errors, then one "basalt: ..."
     * line), 2 for bad input (one "basalt: ..." line).
     */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        argv = List.of(args);
        CommandLine cl = new CommandLine(new BenchCli());
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        cl.setParameterExceptionHandler((e, a) -> {
            err.println("basalt: " + e.getMessage());
            return 2;
        });
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof Errors.RunFailed f) {
                cmd.getOut().flush();
                java.io.PrintWriter w = cmd.getErr();
                w.println("basalt: errors (first message of each kind):");
                Errors.print(w, f.kinds());
                w.println("basalt: " + f.getMessage());
                w.flush();
                return 1;
            }
            err.println("basalt: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            if (Boolean.getBoolean("basalt.debug")) e.printStackTrace(err);
            return 2;
        });
        cl.setExecutionStrategy(new CommandLine.RunLast());
        return cl.execute(args);
    }

    static PrintStream out(CommandLine.Model.CommandSpec spec) {
        return new PrintStream(new java.io.OutputStream() { // picocli's writer, as a PrintStream for the table code
            final java.io.PrintWriter w = spec.commandLine().getOut();

            @Override
            public void write(int b) { w.write(b); }

            @Override
            public void write(byte[] b, int off, int len) { w.write(new String(b, off, len, java.nio.charset.StandardCharsets.UTF_8)); }

            @Override
            public void flush() { w.flush(); }
        }, true, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Command(name = "serve", mixinStandardHelpOptions = true,
            description = "Send a load (Poisson/gamma arrivals or a concurrency cap) and measure TTFT, TPOT, ITL, E2E, throughput and goodput.")
    static final class Serve implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        LoadOptions load;

        @Option(names = "--request-rate", defaultValue = "inf", description = "Requests per second, or inf to send all at once.")
        String requestRate;

        @Option(names = "--max-concurrency", description = "At most this many requests in flight (the client queues the rest).")
        Integer maxConcurrency;

        @Option(names = "--out", description = "Write the results (configuration, environment, summary, every request) as JSON.")
        Path out;

        @Override
        public Integer call() {
            if (maxConcurrency != null && maxConcurrency < 1) throw new IllegalArgumentException("--max-concurrency must be >= 1");
            BenchResult r = load.run(LoadOptions.rate(requestRate, "--request-rate"), maxConcurrency, argv, spec.commandLine().getErr());
            PrintStream o = out(spec);
            ResultTable.print(o, r, load.percentiles);
            if (out != null) {
                r.write(out);
                o.println("results: " + out);
            }
            o.flush();
            if (r.summary().completed() == 0) {
                throw new Errors.RunFailed("no request succeeded (" + r.summary().failed() + " failed)", Errors.of(r.requests()));
            }
            Errors.report(spec.commandLine().getErr(), "", r);
            return 0;
        }
    }

    @Command(name = "sweep", mixinStandardHelpOptions = true,
            description = "Run the same load at a series of rates or concurrencies: one results JSON per point, a summary, plots.")
    static final class Sweep implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        LoadOptions load;

        @Option(names = "--rates", description = "Request rates, e.g. 1,2,4,inf.")
        String rates;

        @Option(names = "--concurrencies", split = ",", description = "Concurrency caps (all sent at once), e.g. 1,2,4,8.")
        List<Integer> concurrencies;

        @Option(names = "--max-concurrency", description = "With --rates: a concurrency cap for every point.")
        Integer maxConcurrency;

        @Option(names = "--out-dir", required = true, description = "Directory for the point files, summary.json and plots.")
        Path outDir;

        @Override
        public Integer call() {
            if ((rates == null) == (concurrencies == null)) throw new IllegalArgumentException("give either --rates or --concurrencies");
            List<String> values = new ArrayList<>();
            if (rates != null) values.addAll(List.of(rates.split(",")).stream().map(String::trim).filter(s -> !s.isEmpty()).toList());
            else for (int c : concurrencies) {
                if (c < 1) throw new IllegalArgumentException("--concurrencies must be >= 1, got " + c);
                values.add(Integer.toString(c));
            }
            if (values.isEmpty()) throw new IllegalArgumentException("the sweep has no points");
            String axis = rates != null ? "rate" : "concurrency";
            for (String v : values) if (axis.equals("rate")) LoadOptions.rate(v, "--rates");
            PrintStream o = out(spec);
            java.io.PrintWriter err = spec.commandLine().getErr();
            List<SweepResult.Point> points = new ArrayList<>();
            List<String> noSuccess = new ArrayList<>();
            for (String v : values) {
                double rate = axis.equals("rate") ? LoadOptions.rate(v, "--rates") : Double.POSITIVE_INFINITY;
                Integer conc = axis.equals("rate") ? maxConcurrency : Integer.valueOf(v);
                String point = axis + "=" + v;
                err.println("basalt: sweep point " + point);
                err.flush();
                BenchResult r;
                try {
                    r = load.run(rate, conc, argv, err);
                } catch (Errors.RunFailed f) { // the warm-up failed: the later points would too; keep what was measured
                    if (!points.isEmpty()) new SweepResult(load.label(), axis, points).write(outDir.resolve("summary.json"));
                    throw new Errors.RunFailed("sweep point " + point + ": " + f.getMessage(), f.kinds());
                }
                String file = axis + "-" + v + ".json";
                r.write(outDir.resolve(file));
                points.add(new SweepResult.Point(v, axis.equals("rate") ? rate : conc, file, r.summary(), r.server()));
                o.println(pointLine(axis, v, r.summary()));
                o.flush();
                Errors.report(err, point + ": ", r);
                if (r.summary().completed() == 0) noSuccess.add(point);
            }
            SweepResult sweep = new SweepResult(load.label(), axis, points);
            sweep.write(outDir.resolve("summary.json"));
            SweepResult.Point sat = sweep.saturation();
            if (sat != null && sat.summary().outputThroughput() > 0) {
                o.printf(Locale.ROOT, "output throughput saturates at about %.1f tok/s (%.2f req/s), first reached at %s=%s%n",
                        sat.summary().outputThroughput(), sat.summary().requestThroughput(), axis, sat.value());
            }
            List<Path> plots = io.basalt.bench.serve.Compare.plots(io.basalt.bench.serve.Compare.load(outDir.resolve("summary.json")), outDir);
            o.println("summary: " + outDir.resolve("summary.json") + "; plots: " + plots.size() + " SVG files in " + outDir);
            o.flush();
            if (!noSuccess.isEmpty()) { // some points measured nothing: the sweep is not a result to compare
                err.println("basalt: no request succeeded at " + String.join(", ", noSuccess)
                        + (noSuccess.size() == points.size() ? " (every point of the sweep)" : ""));
                err.flush();
                return 1;
            }
            return 0;
        }

        static String pointLine(String axis, String v, Summary s) {
            return String.format(Locale.ROOT, "%s=%-6s ok %4d fail %3d  %8.2f req/s %9.1f out tok/s  TTFT mean %8.1f p99 %8.1f ms  "
                            + "TPOT mean %7.2f ms  E2EL mean %8.1f ms", axis, v, s.completed(), s.failed(), s.requestThroughput(),
                    s.outputThroughput(), s.ttftMs().mean(), s.ttftMs().percentile(99), s.tpotMs().mean(), s.e2eMs().mean());
        }
    }

    @Command(name = "compare", mixinStandardHelpOptions = true,
            description = "Side-by-side table of results (bench serve files or sweep summaries), cost per 1M tokens, SVG plots.")
    static final class Compare implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(arity = "1..*", paramLabel = "RESULT.json", description = "Results of bench serve, or summary.json of bench sweep.")
        List<Path> files;

        @Option(names = "--price", description = "LABEL=USD_PER_HOUR of a deployment (repeatable), e.g. --price inf2=1.97.")
        List<String> prices = new ArrayList<>();

        @Option(names = "--out-dir", defaultValue = "bench-compare", description = "Where the SVG plots go (default: bench-compare).")
        Path outDir;

        @Option(names = "--percentiles", defaultValue = "90,99", split = ",", description = "Percentiles shown (from the results).")
        List<Double> percentiles;

        @Override
        public Integer call() {
            Map<String, Double> priced = new LinkedHashMap<>();
            for (String p : prices) {
                int eq = p.lastIndexOf('=');
                double usd;
                try {
                    usd = eq <= 0 ? Double.NaN : Double.parseDouble(p.substring(eq + 1));
                } catch (NumberFormatException e) {
                    usd = Double.NaN;
                }
                if (!(usd > 0)) throw new IllegalArgumentException("--price must be LABEL=USD_PER_HOUR with a positive price, got '" + p + "'");
                priced.put(p.substring(0, eq), usd);
            }
            PrintStream o = out(spec);
            List<Path> plots = io.basalt.bench.serve.Compare.run(files, priced, outDir, percentiles, o);
            o.println("plots: " + String.join(", ", plots.stream().map(Path::toString).toList()));
            o.flush();
            return 0;
        }
    }
}

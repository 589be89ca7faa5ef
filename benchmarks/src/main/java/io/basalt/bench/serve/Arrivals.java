package io.basalt.bench.serve;

import java.util.SplittableRandom;

/**
 * When each request is sent, as offsets in seconds from the start (vLLM's {@code bench serve}
 * method): gaps drawn from a gamma distribution with shape = burstiness and scale =
 * 1/(rate·burstiness) — burstiness 1 is a Poisson process, below 1 burstier, above 1 more regular —
 * then rescaled so the last arrival is at exactly N/rate, which keeps throughput stable across seeds.
 * An infinite rate sends everything at once.
 */
public final class Arrivals {
    private Arrivals() {}

    public static double[] offsets(int n, double rate, double burstiness, long seed) {
        if (n < 0) throw new IllegalArgumentException("number of requests must be >= 0");
        if (!(rate > 0)) throw new IllegalArgumentException("--request-rate must be positive (or inf), got " + rate);
        if (!(burstiness > 0) || Double.isInfinite(burstiness)) {
            throw new IllegalArgumentException("--burstiness must be a positive number, got " + burstiness);
        }
        double[] out = new double[n];
        if (Double.isInfinite(rate) || n == 0) return out;
        SplittableRandom random = new SplittableRandom(seed);
        double theta = 1.0 / (rate * burstiness), t = 0;
        for (int i = 0; i < n; i++) {
            t += gamma(random, burstiness) * theta;
            out[i] = t;
        }
        double scale = (n / rate) / out[n - 1];
        for (int i = 0; i < n; i++) out[i] *= scale;
        return out;
    }

    /** A Gamma(shape, 1) draw: Marsaglia and Tsang's method; shapes below 1 boosted by U^(1/shape). */
    static double gamma(SplittableRandom random, double shape) {
        if (shape < 1) return gamma(random, shape + 1) * Math.pow(uniformOpen(random), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x, v;
            do {
                x = normal(random);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = uniformOpen(random);
            if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
        }
    }

    private static double uniformOpen(SplittableRandom random) {
        double u;
        do u = random.nextDouble(); while (u == 0);
        return u;
    }

    private static double normal(SplittableRandom random) { // Box–Muller; one value per call is enough here
        return Math.sqrt(-2 * Math.log(uniformOpen(random))) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}

/** Benchmarks: JMH microbenchmarks for kernels and the serving load generator (later issues). */
package io.basalt.bench;

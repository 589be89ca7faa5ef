#!/usr/bin/env bash
# Structured-output benchmarks (grammar compile and mask time under JMH, mixed-batch inter-token latency).
# Build first, from the reactor root:  mvn -B -q -o package -pl benchmarks -am -DskipTests
#   benchmarks/structured-bench.sh jmh GrammarCompileBench [JMH options]   e.g. -p vocab=o200k
#   benchmarks/structured-bench.sh jmh GrammarMaskBench [JMH options]      e.g. -p vocab=o200k -p grammar=fresh
#   benchmarks/structured-bench.sh mixed [rounds=5] [N=4] [T=200]   (BASALT_JAVA_OPTS=-Dbasalt.threads=1: one kernel thread)
# The class path is this checkout's own build (benchmarks/target/classes, runtime-server/target/lib) plus JMH's
# jars from the local Maven repository: the project's own jars there may come from another checkout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if [ -z "${JAVA_HOME:-}" ]; then  # as ./basalt does: the newest JDK 25+ under /usr/lib/jvm
  for d in /usr/lib/jvm/*; do [ -x "$d/bin/javac" ] && "$d/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])' && JAVA="$d/bin/java"; done
fi
M2="${M2_REPO:-$HOME/.m2/repository}"
JMH="$M2/org/openjdk/jmh/jmh-core/1.37/jmh-core-1.37.jar:$M2/net/sf/jopt-simple/jopt-simple/5.0.4/jopt-simple-5.0.4.jar:$M2/org/apache/commons/commons-math3/3.6.1/commons-math3-3.6.1.jar"
CP="$ROOT/benchmarks/target/classes:$ROOT/runtime-server/target/runtime-server.jar:$ROOT/runtime-server/target/lib/*:$JMH"
FLAGS=(${BASALT_JAVA_OPTS:-} --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Dbasalt.home="$ROOT")
cd "$ROOT"
case "${1:-}" in
  jmh)   shift; exec "$JAVA" "${FLAGS[@]}" -cp "$CP" org.openjdk.jmh.Main -t 1 "$@" ;;
  mixed) shift; exec "$JAVA" "${FLAGS[@]}" -cp "$CP" io.basalt.bench.structured.MixedBatchBench "$@" ;;
  *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac

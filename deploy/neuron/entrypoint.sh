#!/usr/bin/env bash
# Dockerfile.neuron's entrypoint: `basalt serve MODEL --backend neuron --compiled PACKAGE` from the environment.
#   BASALT_MODEL      the checkpoint the package was compiled from (required; a mounted file or directory)
#   BASALT_COMPILED   the package directory: manifest.json + NEFFs (required)
#   BASALT_PORT       HTTP port (default 8000); BASALT_GRPC_PORT gRPC port (default 50051)
#   BASALT_ARGS       more serve options, split on spaces (e.g. "--max-num-seqs 4 --served-model-name llama")
#   BASALT_JAVA       the java to run (default: java on PATH); BASALT_HOME the install root (default /opt/basalt)
# Arguments given to the container are appended to serve's. NEURON_RT_VISIBLE_CORES passes through untouched.
set -euo pipefail

die() { echo "basalt: $*" >&2; exit 2; }

[ -n "${BASALT_MODEL:-}" ] || die "BASALT_MODEL is not set (the checkpoint the package was compiled from, mounted into the container)"
[ -n "${BASALT_COMPILED:-}" ] || die "BASALT_COMPILED is not set (the package directory from 'basalt neuron compile', mounted into the container)"
[ -e "$BASALT_MODEL" ] || die "BASALT_MODEL $BASALT_MODEL: no such file or directory (is the volume mounted?)"
[ -d "$BASALT_COMPILED" ] || die "BASALT_COMPILED $BASALT_COMPILED: not a directory (is the volume mounted?)"
[ -f "$BASALT_COMPILED/manifest.json" ] || die "BASALT_COMPILED $BASALT_COMPILED: no manifest.json (not a compiled package)"

HOME_DIR="${BASALT_HOME:-/opt/basalt}"
JAVA="${BASALT_JAVA:-java}"
read -r -a extra <<< "${BASALT_ARGS:-}"

# exec: the JVM is PID 1's child no more, so SIGTERM from `docker stop` reaches serve, which drains and exits 0.
exec "$JAVA" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  ${BASALT_JAVA_OPTS:-} -Dbasalt.home="$HOME_DIR" -jar "$HOME_DIR/runtime-server.jar" \
  serve "$BASALT_MODEL" --backend neuron --compiled "$BASALT_COMPILED" \
  --host 0.0.0.0 --port "${BASALT_PORT:-8000}" --grpc-port "${BASALT_GRPC_PORT:-50051}" \
  "${extra[@]}" "$@"

#!/usr/bin/env bash
# Dockerfile.cuda's entrypoint: `basalt serve MODEL --backend cuda` from the environment.
#   BASALT_MODEL      the checkpoint to serve (required; a mounted file or directory)
#   BASALT_PORT       HTTP port (default 8000); BASALT_GRPC_PORT gRPC port (default 50051)
#   BASALT_ARGS       more serve options, split on spaces (e.g. "--max-num-seqs 64 --dtype bf16")
#   BASALT_JAVA       the java to run (default: the image's jlinked /opt/basalt/jdk, else java on PATH)
#   BASALT_HOME       the install root (default /opt/basalt)
# Arguments given to the container are appended to serve's. libcuda.so.1 is not in the image: the NVIDIA Container
# Toolkit injects it (`docker run --gpus all`); without it serve fails in one line naming the library it looked for.
set -euo pipefail

die() { echo "basalt: $*" >&2; exit 2; }

[ -n "${BASALT_MODEL:-}" ] || die "BASALT_MODEL is not set (the checkpoint to serve, mounted into the container)"
[ -e "$BASALT_MODEL" ] || die "BASALT_MODEL $BASALT_MODEL: no such file or directory (is the volume mounted?)"

HOME_DIR="${BASALT_HOME:-/opt/basalt}"
if [ -n "${BASALT_JAVA:-}" ]; then JAVA="$BASALT_JAVA"
elif [ -x "$HOME_DIR/jdk/bin/java" ]; then JAVA="$HOME_DIR/jdk/bin/java"
else JAVA=java
fi
read -r -a extra <<< "${BASALT_ARGS:-}"

# exec: SIGTERM from `docker stop` reaches serve itself, which drains and exits 0.
exec "$JAVA" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  ${BASALT_JAVA_OPTS:-} -Dbasalt.home="$HOME_DIR" -jar "$HOME_DIR/runtime-server.jar" \
  serve "$BASALT_MODEL" --backend cuda \
  --host 0.0.0.0 --port "${BASALT_PORT:-8000}" --grpc-port "${BASALT_GRPC_PORT:-50051}" \
  "${extra[@]}" "$@"

#!/usr/bin/env bash
# The GPU bundle (docs/CUDA.md §7, shared CUDA.md §8): everything `basalt cuda check` needs on a GPU machine that has no
# JDK and no network, in .gpu/ at the repository root (gitignored), under 60 MiB with the tree it travels with:
#   .gpu/jdk.tgz       a jlinked JDK 25 (the modules the jars need, by jdeps), packed (unpacked on the device: ~45 MB)
#   .gpu/lib/*.jar     runtime-cuda (with the fatbin) and the jars it runs on; the server's own jars (netty, gRPC,
#                      libtorch) stay behind: the check runs CudaCommand's main, not the server CLI
#   .gpu/run-check.sh  the one command on the device: `basalt cuda check --out DIR` under an outer `timeout 480`
# Usage: deploy/cuda/gpu-bundle.sh [--no-build] [--allow-no-fatbin] [--dry-run]
#   --no-build         use the jars already in runtime-server/target (else: mvn -o -DskipTests package -pl runtime-server -am)
#   --allow-no-fatbin  bundle a runtime-cuda jar without kernels (only useful against the stand-in)
#   --dry-run          say what would be bundled, write nothing
set -euo pipefail

die() { echo "basalt: $*" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=1; ALLOW_NO_FATBIN=0; DRY=0
for a in "$@"; do
  case "$a" in
    --no-build) BUILD=0 ;;
    --allow-no-fatbin) ALLOW_NO_FATBIN=1 ;;
    --dry-run) DRY=1 ;;
    *) die "gpu-bundle.sh: unknown option $a (see the header of deploy/cuda/gpu-bundle.sh)" ;;
  esac
done
LIMIT_MIB=${BASALT_BUNDLE_LIMIT_MIB:-60}
JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
for t in jlink jdeps; do [ -x "$JAVA_HOME/bin/$t" ] || die "no $t in JAVA_HOME=$JAVA_HOME (a JDK 25 is needed to build the bundle)"; done

if [ "$BUILD" = 1 ] && [ "$DRY" = 0 ]; then
  (cd "$ROOT" && mvn -B -q -o -DskipTests package -pl runtime-server -am) || die "the Maven build failed"
fi
LIB="$ROOT/runtime-server/target/lib"
[ -d "$LIB" ] || die "$LIB: not built (run without --no-build)"

# The check's class path: our modules but the torch and neuron backends, and the libraries they use.
JARS=()
for j in "$LIB"/*.jar; do
  case "$(basename "$j")" in
    runtime-torch-*|runtime-neuron-*|runtime-server-*) ;;
    runtime-*|jackson-*|picocli-*|jtokkit-*) JARS+=("$j") ;;
  esac
done
CUDA_JAR=$(printf '%s\n' "${JARS[@]}" | grep '/runtime-cuda-' || true)
[ -n "$CUDA_JAR" ] || die "no runtime-cuda jar in $LIB (does runtime-server depend on runtime-cuda?)"
if ! unzip -l "$CUDA_JAR" kernels/cuda/basalt.fatbin >/dev/null 2>&1; then
  [ "$ALLOW_NO_FATBIN" = 1 ] || [ "$DRY" = 1 ] || die "$(basename "$CUDA_JAR") has no kernels/cuda/basalt.fatbin (nvcc was not found at build time); a GPU run would check nothing"
  echo "warning: $(basename "$CUDA_JAR") has no fatbin: the bundle can only run against the stand-in" >&2
fi

CP=$(IFS=:; echo "${JARS[*]}")
# jdeps names what the jars reference; java.desktop (≈ 12 MB, for Jackson's optional java.beans and picocli's AWT
# converters, both guarded) is left out, which the stand-in run of the bundle (CudaBundleTest) shows to be safe.
DEPS=$("$JAVA_HOME/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 -cp "$CP" "${JARS[@]}" 2>/dev/null \
  | tail -1 | tr ',' '\n' | grep -E '^(java|jdk)\.[a-z.]+$' | grep -vx 'java.desktop' || true)
MODULES=$(printf '%s\n' java.base jdk.unsupported java.logging jdk.incubator.vector $DEPS | sort -u | paste -sd, -)

if [ "$DRY" = 1 ]; then
  echo "modules: $MODULES"
  printf 'jar: %s\n' "${JARS[@]##*/}"
  exit 0
fi

OUTDIR="$ROOT/.gpu"
rm -rf "$OUTDIR"
mkdir -p "$OUTDIR/lib"
STAGE=$(mktemp -d); trap 'rm -rf "$STAGE"' EXIT
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages --compress=zip-9 \
  --output "$STAGE/jdk" 2> >(grep -v 'Using incubator modules' >&2)
tar czf "$OUTDIR/jdk.tgz" -C "$STAGE" jdk
cp "${JARS[@]}" "$OUTDIR/lib/"

cat > "$OUTDIR/run-check.sh" <<'RUN'
#!/usr/bin/env bash
# Written by deploy/cuda/gpu-bundle.sh. On the GPU machine, from the repository root: .gpu/run-check.sh OUT [check options]
# Unpacks the jlinked JDK into a scratch directory and runs `basalt cuda check --out OUT` under an outer timeout of 480 s
# (the check stops starting steps after its own --budget-seconds 420); the log goes to OUT/log.txt as well.
set -uo pipefail
OUT="${1:?usage: .gpu/run-check.sh OUT [basalt cuda check options]}"; shift
HERE=$(cd "$(dirname "$0")" && pwd)
S=$(mktemp -d); trap 'rm -rf "$S"' EXIT
tar xzf "$HERE/jdk.tgz" -C "$S" || { echo "basalt: cannot unpack $HERE/jdk.tgz" >&2; exit 2; }
mkdir -p "$OUT"
timeout "${BASALT_CHECK_TIMEOUT:-480}" "$S/jdk/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow -cp "$HERE/lib/*" io.basalt.backend.cuda.check.CudaCommand \
  check --out "$OUT" --testdata "$HERE/../testdata" "$@" 2>&1 | tee "$OUT/log.txt"
exit "${PIPESTATUS[0]}"
RUN
chmod +x "$OUTDIR/run-check.sh"

BYTES=$(du -sb "$OUTDIR" | cut -f1)
MIB=$(( (BYTES + 1048575) / 1048576 ))
if [ "$MIB" -ge "$LIMIT_MIB" ]; then
  die ".gpu/ is $MIB MiB, over the $LIMIT_MIB MiB limit (the device carries 64 MiB with the tree)"
fi
echo "bundle: .gpu/ $MIB MiB (jdk.tgz $(( $(stat -c %s "$OUTDIR/jdk.tgz") / 1048576 )) MiB, ${#JARS[@]} jars), modules $MODULES"
echo "on the GPU machine, from the repository root (carry .gpu):"
echo '  .gpu/run-check.sh "$OUT"'

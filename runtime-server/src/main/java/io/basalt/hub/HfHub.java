package io.basalt.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Fetches the files a model needs from the Hugging Face Hub into a local cache, and finds them
 * there again without any network call.
 *
 * <p>Cache layout (under {@code BASALT_CACHE}, default {@code ~/.cache/basalt}), after huggingface_hub's:
 * <pre>
 * models--owner--name/refs/main                    the commit sha that "main" pointed to
 * models--owner--name/snapshots/SHA/config.json    the files, as in the repo
 * models--owner--name/snapshots/SHA/.basalt-complete   written last: "size\tpath" for every file
 * </pre>
 * A download goes to {@code FILE.part} (resumed with {@code Range: bytes=N-} after a cut or a crash),
 * is checked against the size and, for LFS files, the sha256 the Hub announces
 * ({@code X-Linked-Size}, {@code X-Linked-Etag}), and is renamed into place only when complete.
 */
public final class HfHub {
    /** What the runtime loads from a repo besides the weights; each is fetched when the repo has it. */
    static final List<String> OPTIONAL_FILES = List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json",
            "special_tokens_map.json", "chat_template.jinja");
    static final String COMPLETE_MARKER = ".basalt-complete";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REDIRECTS = 8;

    /**
     * @param endpoint     the Hub's base URL (HF_ENDPOINT; https://huggingface.co)
     * @param token        bearer token (HF_TOKEN), or "" for none; sent to the endpoint's host only
     * @param cacheDir     where snapshots live
     * @param offline      no network at all: only what the cache holds (--offline, HF_HUB_OFFLINE=1)
     * @param progress     where progress bars and download notes go, or null for silence
     * @param maxAttempts  tries per request before a network failure is final (resuming each time)
     * @param retryDelay   pause before the second try; doubled for each further one
     */
    public record Config(URI endpoint, String token, Path cacheDir, boolean offline, PrintStream progress, int maxAttempts,
                         Duration retryDelay) {
        public Config {
            String e = endpoint.toString();
            if (e.endsWith("/")) endpoint = URI.create(e.substring(0, e.length() - 1));
            token = token == null ? "" : token.strip();
            if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be >= 1");
        }

        /** From HF_ENDPOINT, HF_TOKEN (or HUGGING_FACE_HUB_TOKEN), BASALT_CACHE and HF_HUB_OFFLINE. */
        public static Config fromEnvironment() { return fromEnvironment(System.getenv()); }

        public static Config fromEnvironment(Map<String, String> env) {
            String endpoint = env.getOrDefault("HF_ENDPOINT", "");
            String token = env.getOrDefault("HF_TOKEN", env.getOrDefault("HUGGING_FACE_HUB_TOKEN", ""));
            String cache = env.getOrDefault("BASALT_CACHE", "");
            Path cacheDir = cache.isBlank() ? Path.of(System.getProperty("user.home"), ".cache", "basalt") : Path.of(cache);
            return new Config(URI.create(endpoint.isBlank() ? "https://huggingface.co" : endpoint.strip()), token, cacheDir,
                    isTrue(env.get("HF_HUB_OFFLINE")), System.err, 5, Duration.ofSeconds(1));
        }

        public Config withOffline(boolean v) { return new Config(endpoint, token, cacheDir, v, progress, maxAttempts, retryDelay); }

        public Config withEndpoint(URI v) { return new Config(v, token, cacheDir, offline, progress, maxAttempts, retryDelay); }

        public Config withToken(String v) { return new Config(endpoint, v, cacheDir, offline, progress, maxAttempts, retryDelay); }

        public Config withCacheDir(Path v) { return new Config(endpoint, token, v, offline, progress, maxAttempts, retryDelay); }

        public Config withProgress(PrintStream v) { return new Config(endpoint, token, cacheDir, offline, v, maxAttempts, retryDelay); }

        public Config withRetries(int attempts, Duration delay) {
            return new Config(endpoint, token, cacheDir, offline, progress, attempts, delay);
        }
    }

    private final Config config;
    private final HttpClient http;
    private final AtomicInteger requests = new AtomicInteger();

    public HfHub(Config config) {
        this.config = config;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(15)).build();
    }

    public Config config() { return config; }

    /** HTTP requests this client has sent (tests check that a cache hit sends none). */
    public int requestCount() { return requests.get(); }

    static boolean isTrue(String v) {
        return v != null && Set.of("1", "true", "yes", "on").contains(v.strip().toLowerCase(Locale.ROOT));
    }

    /**
     * The local folder holding {@code repo} at {@code revision} (a branch, tag or commit sha),
     * downloading what is missing. A complete snapshot already in the cache is returned without
     * touching the network.
     */
    public Path snapshot(String repo, String revision) {
        RepoId id = RepoId.parse(repo);
        Path repoDir = config.cacheDir().resolve(id.cacheFolderName());
        String sha = COMMIT.matcher(revision).matches() ? revision : readRef(repoDir, revision);
        if (sha != null) {
            Path snap = repoDir.resolve("snapshots").resolve(sha);
            if (isComplete(snap)) return snap;
        }
        if (config.offline()) {
            throw new HubException("model '" + id + "' (revision " + revision + ") is not " + (sha == null ? "" : "completely ")
                    + "in the cache " + config.cacheDir() + " and offline mode (--offline or HF_HUB_OFFLINE=1) forbids "
                    + "downloading it; run once online or pass a local model path");
        }
        JsonNode info = repoInfo(id, revision);
        String commit = info.path("sha").asText("");
        if (!COMMIT.matcher(commit).matches()) {
            throw new HubException("the Hub's answer for '" + id + "' has no commit sha (endpoint " + config.endpoint() + ")");
        }
        Set<String> siblings = new TreeSet<>();
        for (JsonNode s : info.path("siblings")) siblings.add(s.path("rfilename").asText());
        writeRef(repoDir, revision, commit);
        Path snap = repoDir.resolve("snapshots").resolve(commit);
        if (isComplete(snap)) return snap;
        // Another process downloading the same repo would write the same .part files: take turns.
        try (FileChannel lockFile = FileChannel.open(repoDir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            if (isComplete(snap)) return snap; // the other one finished it
            return download(id, revision, commit, siblings, snap);
        } catch (IOException e) {
            throw new HubException("cannot lock the cache folder " + repoDir + ": " + e.getMessage(), e);
        }
    }

    private Path download(RepoId id, String revision, String commit, Set<String> siblings, Path snap) {

        if (!siblings.contains("config.json")) {
            throw new HubException("repo '" + id + "' has no config.json: Basalt serves Hugging Face safetensors repos "
                    + "(for a GGUF or llama2.c file, download it and pass its path)");
        }
        say("basalt: downloading " + id + " (revision " + revision + ", commit " + commit.substring(0, 10) + ") into " + snap);
        List<String> files = new ArrayList<>();
        files.add("config.json");
        if (siblings.contains("model.safetensors")) {
            files.add("model.safetensors");
        } else if (siblings.contains("model.safetensors.index.json")) {
            fetch(id, commit, snap, "model.safetensors.index.json");
            files.add("model.safetensors.index.json");
            for (String shard : shardsOf(snap.resolve("model.safetensors.index.json"))) {
                if (!siblings.contains(shard)) {
                    throw new HubException("repo '" + id + "': the safetensors index names '" + shard + "', which the repo lacks");
                }
                files.add(shard);
            }
        } else {
            throw new HubException("repo '" + id + "' has neither model.safetensors nor model.safetensors.index.json "
                    + "(only safetensors weights are supported)");
        }
        for (String f : OPTIONAL_FILES) if (siblings.contains(f)) files.add(f);
        for (String f : files) fetch(id, commit, snap, f);
        writeMarker(snap, files);
        return snap;
    }

    // ---------------------------------------------------------------- cache bookkeeping

    private static String refFileName(String revision) { return URLEncoder.encode(revision, StandardCharsets.UTF_8); }

    private static String readRef(Path repoDir, String revision) {
        Path ref = repoDir.resolve("refs").resolve(refFileName(revision));
        try {
            String sha = Files.isRegularFile(ref) ? Files.readString(ref).strip() : null;
            return sha != null && COMMIT.matcher(sha).matches() ? sha : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static void writeRef(Path repoDir, String revision, String sha) {
        if (COMMIT.matcher(revision).matches()) return;
        try {
            Path refs = Files.createDirectories(repoDir.resolve("refs"));
            Path tmp = Files.createTempFile(refs, ".ref", ".tmp");
            Files.writeString(tmp, sha);
            move(tmp, refs.resolve(refFileName(revision)));
        } catch (IOException e) {
            throw new HubException("cannot write to the cache " + repoDir + ": " + e.getMessage(), e);
        }
    }

    /** A snapshot is complete when its marker exists and every file it lists is there with its size. */
    static boolean isComplete(Path snap) {
        Path marker = snap.resolve(COMPLETE_MARKER);
        if (!Files.isRegularFile(marker)) return false;
        try {
            for (String line : Files.readAllLines(marker)) {
                if (line.isBlank()) continue;
                int tab = line.indexOf('\t');
                if (tab < 0) return false;
                Path f = snap.resolve(line.substring(tab + 1));
                if (!Files.isRegularFile(f) || Files.size(f) != Long.parseLong(line.substring(0, tab))) return false;
            }
            return true;
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    private static void writeMarker(Path snap, List<String> files) {
        try {
            StringBuilder sb = new StringBuilder();
            for (String f : new LinkedHashSet<>(files)) sb.append(Files.size(snap.resolve(f))).append('\t').append(f).append('\n');
            Path tmp = Files.createTempFile(snap, ".marker", ".tmp");
            Files.writeString(tmp, sb);
            move(tmp, snap.resolve(COMPLETE_MARKER));
        } catch (IOException e) {
            throw new HubException("cannot write to the cache " + snap + ": " + e.getMessage(), e);
        }
    }

    private static List<String> shardsOf(Path index) {
        try {
            JsonNode map = JSON.readTree(index.toFile()).path("weight_map");
            Set<String> shards = new TreeSet<>();
            map.forEach(v -> shards.add(v.asText()));
            if (shards.isEmpty()) throw new HubException(index + " has no weight_map");
            return List.copyOf(shards);
        } catch (IOException e) {
            throw new HubException("cannot read " + index + ": " + e.getMessage(), e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    // ---------------------------------------------------------------- network

    private JsonNode repoInfo(RepoId id, String revision) {
        URI uri = URI.create(config.endpoint() + "/api/models/" + id + "/revision/"
                + URLEncoder.encode(revision, StandardCharsets.UTF_8));
        return withRetries("listing the files of '" + id + "'", () -> {
            HttpResponse<byte[]> r = send(uri, null, HttpResponse.BodyHandlers.ofByteArray());
            int status = r.statusCode();
            if (status == 200) return JSON.readTree(r.body());
            if (status == 401 || status == 403) {
                throw new HubException("the Hub refused access to '" + id + "' (HTTP " + status + "): it is gated or private; "
                        + (config.token().isEmpty() ? "set HF_TOKEN to a token that has access" : "HF_TOKEN has no access to it"));
            }
            if (status == 404) {
                throw new HubException("model '" + id + "' (revision " + revision + ") was not found on " + config.endpoint()
                        + (config.token().isEmpty() ? " (if it is private, set HF_TOKEN)" : ""));
            }
            throw new Retryable("HTTP " + status + " from " + uri);
        });
    }

    /** Makes sure {@code snap/file} exists, downloading (or resuming) it when it does not. */
    private void fetch(RepoId id, String commit, Path snap, String file) {
        Path target = safeResolve(snap, file);
        if (Files.isRegularFile(target)) return;
        URI uri = URI.create(config.endpoint() + "/" + id + "/resolve/" + commit + "/" + encodePath(file));
        withRetries("downloading " + file + " of '" + id + "'", () -> {
            downloadOnce(uri, target, file);
            return null;
        });
    }

    private static Path safeResolve(Path dir, String file) {
        Path p = dir.resolve(file).normalize();
        if (file.isEmpty() || file.startsWith("/") || file.contains("\\") || !p.startsWith(dir.normalize())) {
            throw new HubException("refusing the repo file name '" + file + "'");
        }
        return p;
    }

    private static String encodePath(String file) {
        StringBuilder sb = new StringBuilder();
        for (String seg : file.split("/")) {
            if (!sb.isEmpty()) sb.append('/');
            sb.append(URLEncoder.encode(seg, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return sb.toString();
    }

    /** A failure worth another try (a cut connection, a 5xx, a timeout). */
    private static final class Retryable extends IOException {
        Retryable(String message) { super(message); }
    }

    private interface Attempt<T> {
        T run() throws IOException, InterruptedException;
    }

    private <T> T withRetries(String what, Attempt<T> attempt) {
        long delay = config.retryDelay().toMillis();
        for (int i = 1; ; i++) {
            try {
                return attempt.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(what + " was interrupted");
            } catch (IOException e) {
                String msg = describe(e);
                if (i >= config.maxAttempts()) {
                    throw new HubException(what + " failed after " + i + (i == 1 ? " try" : " tries") + ": " + msg
                            + (e instanceof ConnectException ? " (is " + config.endpoint() + " reachable? set HF_ENDPOINT, "
                            + "or use --offline with a cached model, or pass a local path)" : ""), e);
                }
                say("basalt: " + what + ": " + msg + "; retrying (" + (i + 1) + "/" + config.maxAttempts() + ")");
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new HubException(what + " was interrupted");
                }
                delay = Math.min(delay * 2, 30_000);
            }
        }
    }

    private static String describe(IOException e) {
        if (e instanceof HttpTimeoutException) return "timed out";
        if (e instanceof ConnectException) return "cannot connect" + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")");
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private boolean sameHostAsEndpoint(URI uri) {
        URI e = config.endpoint();
        return e.getHost() != null && e.getHost().equalsIgnoreCase(uri.getHost()) && e.getPort() == uri.getPort()
                && e.getScheme().equalsIgnoreCase(uri.getScheme());
    }

    /** One response after following redirects, with the Hub's X-Linked-* headers kept from the hop that had them. */
    private record Fetched<T>(HttpResponse<T> response, long linkedSize, String linkedEtag) { }

    private <T> HttpResponse<T> send(URI uri, String range, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        return sendFollowing(uri, range, handler).response();
    }

    private <T> Fetched<T> sendFollowing(URI uri, String range, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        long linkedSize = -1;
        String linkedEtag = null;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).GET()
                    .header("User-Agent", "basalt/0.1.0; java/" + Runtime.version().feature());
            if (!config.token().isEmpty() && sameHostAsEndpoint(uri)) b.header("Authorization", "Bearer " + config.token());
            if (range != null) b.header("Range", range);
            requests.incrementAndGet();
            HttpResponse<T> r;
            try {
                r = http.send(b.build(), handler);
            } catch (ConnectException e) {
                throw e;
            } catch (IOException e) {
                throw new Retryable(describe(e));
            }
            HttpHeaders h = r.headers();
            if (linkedSize < 0) linkedSize = h.firstValueAsLong("X-Linked-Size").orElse(-1);
            if (linkedEtag == null) linkedEtag = h.firstValue("X-Linked-Etag").orElse(null);
            int status = r.statusCode();
            if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                closeBody(r);
                String location = h.firstValue("Location").orElseThrow(() -> new Retryable("HTTP " + status + " without Location"));
                if (hop >= MAX_REDIRECTS) throw new IOException("too many redirects from " + uri);
                uri = uri.resolve(location);
                continue;
            }
            if (status == 429 || status >= 500) {
                closeBody(r);
                throw new Retryable("HTTP " + status + " from " + uri.getHost());
            }
            return new Fetched<>(r, linkedSize, linkedEtag);
        }
    }

    private static void closeBody(HttpResponse<?> r) {
        if (r.body() instanceof InputStream in) {
            try {
                in.close();
            } catch (IOException ignored) {
                // the connection is discarded either way
            }
        }
    }

    private static String unquoteEtag(String etag) {
        if (etag == null) return null;
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e.toLowerCase(Locale.ROOT);
    }

    private void downloadOnce(URI uri, Path target, String display) throws IOException, InterruptedException {
        Files.createDirectories(target.getParent());
        Path part = target.resolveSibling(target.getFileName() + ".part");
        long have = Files.isRegularFile(part) ? Files.size(part) : 0;
        Fetched<InputStream> f = sendFollowing(uri, have > 0 ? "bytes=" + have + "-" : null,
                HttpResponse.BodyHandlers.ofInputStream());
        HttpResponse<InputStream> r = f.response();
        int status = r.statusCode();
        long total = f.linkedSize();
        try (InputStream body = r.body()) {
            if (status == 401 || status == 403) {
                throw new HubException("the Hub refused " + display + " (HTTP " + status + "): the repo is gated or private; "
                        + (config.token().isEmpty() ? "set HF_TOKEN" : "HF_TOKEN has no access to it"));
            }
            if (status == 404) throw new HubException("the Hub has no file " + display + " at " + uri);
            if (status == 416) {
                // The part is already whole (or longer than the file): check it, else start over.
                long size = total >= 0 ? total : r.headers().firstValue("Content-Range").map(HfHub::rangeTotal).orElse(-1L);
                if (size == have) {
                    finish(part, target, display, have, size, expectedSha(f, r));
                    return;
                }
                Files.deleteIfExists(part);
                throw new Retryable("the server refused to resume " + display + "; starting over");
            }
            if (status != 200 && status != 206) throw new HubException("HTTP " + status + " for " + display + " from " + uri);
            long start = 0;
            if (status == 206) {
                Matcher m = CONTENT_RANGE.matcher(r.headers().firstValue("Content-Range").orElse(""));
                if (!m.matches() || Long.parseLong(m.group(1)) != have) {
                    Files.deleteIfExists(part);
                    throw new Retryable("the server resumed " + display + " at the wrong offset; starting over");
                }
                start = have;
                if (total < 0 && !m.group(3).equals("*")) total = Long.parseLong(m.group(3));
            } else if (total < 0) {
                total = r.headers().firstValueAsLong("Content-Length").orElse(-1);
            }
            String sha = expectedSha(f, r);
            MessageDigest digest = sha == null ? null : sha256();
            if (digest != null && start > 0) {
                try (InputStream old = Files.newInputStream(part)) {
                    byte[] buf = new byte[1 << 20];
                    for (int n; (n = old.read(buf)) > 0; ) digest.update(buf, 0, n);
                }
            }
            long written = start;
            try (OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    start > 0 ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
                 ProgressBar bar = progressBar(display, total, start)) {
                byte[] buf = new byte[1 << 16];
                try {
                    for (int n; (n = body.read(buf)) > 0; ) {
                        out.write(buf, 0, n);
                        if (digest != null) digest.update(buf, 0, n);
                        written += n;
                        if (bar != null) bar.stepTo(written);
                    }
                } catch (IOException e) {
                    throw new Retryable("the connection broke after " + written + (total >= 0 ? " of " + total : "")
                            + " bytes of " + display + " (" + describe(e) + ")");
                }
            }
            if (total >= 0 && written != total) {
                throw new Retryable("the connection closed after " + written + " of " + total + " bytes of " + display);
            }
            finish(part, target, display, written, total, sha, digest);
        }
    }

    private static long rangeTotal(String contentRange) {
        int slash = contentRange.lastIndexOf('/');
        try {
            return slash < 0 ? -1 : Long.parseLong(contentRange.substring(slash + 1).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The sha256 an LFS file must have: X-Linked-Etag, else the ETag, when either is 64 hex digits. */
    private static String expectedSha(Fetched<?> f, HttpResponse<?> r) {
        String linked = unquoteEtag(f.linkedEtag());
        if (linked != null && SHA256.matcher(linked).matches()) return linked;
        String etag = unquoteEtag(r.headers().firstValue("ETag").orElse(null));
        return etag != null && SHA256.matcher(etag).matches() ? etag : null;
    }

    private void finish(Path part, Path target, String display, long size, long total, String sha) throws IOException {
        MessageDigest digest = null;
        if (sha != null) {
            digest = sha256();
            try (InputStream in = Files.newInputStream(part)) {
                byte[] buf = new byte[1 << 20];
                for (int n; (n = in.read(buf)) > 0; ) digest.update(buf, 0, n);
            }
        }
        finish(part, target, display, size, total, sha, digest);
    }

    private void finish(Path part, Path target, String display, long size, long total, String sha, MessageDigest digest)
            throws IOException {
        if (total >= 0 && size != total) throw new Retryable(display + " has " + size + " bytes, expected " + total);
        if (sha != null) {
            String got = HexFormat.of().formatHex(digest.digest());
            if (!got.equals(sha)) {
                Files.deleteIfExists(part);
                throw new HubException("the download of " + display + " is corrupt: sha256 " + got + ", the Hub says " + sha
                        + " (deleted; run again to retry)");
            }
        }
        move(part, target);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private ProgressBar progressBar(String name, long total, long start) {
        if (config.progress() == null || (total >= 0 && total < (256 << 10))) return null; // small files: no bar
        return new ProgressBarBuilder().setTaskName(name).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setUnit(total >= (64L << 20) ? "MiB" : "KiB", total >= (64L << 20) ? 1 << 20 : 1 << 10).showSpeed().setUpdateIntervalMillis(500).startsFrom(start, Duration.ZERO)
                .setConsumer(new ConsoleProgressBarConsumer(config.progress(), 100)).build();
    }

    private void say(String line) {
        if (config.progress() != null) config.progress().println(line);
    }
}

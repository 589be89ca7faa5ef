package io.basalt.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Fetches the files a model needs from the Hugging Face Hub into a local cache, and finds them
 * there again without any network call: which files a repo's snapshot needs, here; the cache's
 * layout in {@link HubCache}; requests, redirects and retries in {@link HubHttp}; one resumable,
 * checked download in {@link ResumableDownload}.
 */
public final class HfHub {
    /** What the runtime loads from a repo besides the weights; each is fetched when the repo has it. */
    static final List<String> OPTIONAL_FILES = List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json",
            "special_tokens_map.json", "chat_template.jinja");
    private static final ObjectMapper JSON = new ObjectMapper();

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
    private final HubCache cache;
    private final HubHttp http;
    private final ResumableDownload downloads;

    public HfHub(Config config) {
        this.config = config;
        this.cache = new HubCache(config.cacheDir());
        this.http = new HubHttp(config);
        this.downloads = new ResumableDownload(http, config);
    }

    public Config config() { return config; }

    /** HTTP requests this client has sent (tests check that a cache hit sends none). */
    public int requestCount() { return http.requestCount(); }

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
        Path repoDir = cache.repoDir(id);
        String sha = HubCache.isCommit(revision) ? revision : HubCache.readRef(repoDir, revision);
        if (sha != null) {
            Path snap = HubCache.snapshotDir(repoDir, sha);
            if (HubCache.isComplete(snap)) return snap;
        }
        if (config.offline()) {
            throw new HubException("model '" + id + "' (revision " + revision + ") is not " + (sha == null ? "" : "completely ")
                    + "in the cache " + config.cacheDir() + " and offline mode (--offline or HF_HUB_OFFLINE=1) forbids "
                    + "downloading it; run once online or pass a local model path");
        }
        JsonNode info = repoInfo(id, revision);
        String commit = info.path("sha").asText("");
        if (!HubCache.isCommit(commit)) {
            throw new HubException("the Hub's answer for '" + id + "' has no commit sha (endpoint " + config.endpoint() + ")");
        }
        Set<String> siblings = new TreeSet<>();
        for (JsonNode s : info.path("siblings")) siblings.add(s.path("rfilename").asText());
        HubCache.writeRef(repoDir, revision, commit);
        Path snap = HubCache.snapshotDir(repoDir, commit);
        if (HubCache.isComplete(snap)) return snap;
        // Another process downloading the same repo would write the same .part files: take turns.
        try (FileChannel ignored = HubCache.lock(repoDir)) {
            if (HubCache.isComplete(snap)) return snap; // the other one finished it
            return download(id, revision, commit, siblings, snap);
        } catch (IOException e) {
            throw new HubException("cannot unlock the cache folder " + repoDir + ": " + e.getMessage(), e);
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
        HubCache.writeMarker(snap, files);
        return snap;
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

    private JsonNode repoInfo(RepoId id, String revision) {
        URI uri = URI.create(config.endpoint() + "/api/models/" + id + "/revision/"
                + URLEncoder.encode(revision, StandardCharsets.UTF_8));
        return http.withRetries("listing the files of '" + id + "'", () -> {
            HttpResponse<byte[]> r = http.send(uri, HttpResponse.BodyHandlers.ofByteArray());
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
            throw new HubHttp.Retryable("HTTP " + status + " from " + uri);
        });
    }

    /** Makes sure {@code snap/file} exists, downloading (or resuming) it when it does not. */
    private void fetch(RepoId id, String commit, Path snap, String file) {
        Path target = safeResolve(snap, file);
        if (Files.isRegularFile(target)) return;
        URI uri = URI.create(config.endpoint() + "/" + id + "/resolve/" + commit + "/" + encodePath(file));
        http.withRetries("downloading " + file + " of '" + id + "'", () -> {
            downloads.once(uri, target, file);
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

    private void say(String line) {
        if (config.progress() != null) config.progress().println(line);
    }
}

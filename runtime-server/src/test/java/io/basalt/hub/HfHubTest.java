package io.basalt.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.backend.cpu.model.Model;
import io.basalt.backend.cpu.model.ModelLoader;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Hub download cache against a local fake Hub: never the real internet. */
class HfHubTest {
    static final String REPO = "fake-org/gpt2-tiny";
    static final String SHA = "0123456789abcdef0123456789abcdef01234567";
    static final String SHARDED = "fake-org/sharded";
    static final String SHARDED_SHA = "89abcdef0123456789abcdef0123456789abcdef";

    FakeHub fake;
    @TempDir Path cache;
    Map<String, byte[]> files;

    @BeforeEach
    void start() throws IOException {
        fake = new FakeHub();
        Path hf = Shared.model("gpt2-tiny-random/hf");
        files = new LinkedHashMap<>();
        files.put(".gitattributes", "*.safetensors filter=lfs\n".getBytes(StandardCharsets.UTF_8));
        files.put("README.md", "# tiny\n".getBytes(StandardCharsets.UTF_8));
        files.put("config.json", Files.readAllBytes(hf.resolve("config.json")));
        files.put("model.safetensors", Files.readAllBytes(hf.resolve("model.safetensors")));
        files.put("generation_config.json", "{\"bos_token_id\": 999, \"eos_token_id\": 999}".getBytes(StandardCharsets.UTF_8));
        files.put("pytorch_model.bin", new byte[20_000]); // another format of the same weights: not needed
        files.put("onnx/model.onnx", new byte[30_000]);
        fake.addRepo(REPO, SHA, files);

        Map<String, byte[]> sharded = new LinkedHashMap<>();
        sharded.put("config.json", "{\"model_type\": \"gpt_oss\"}".getBytes(StandardCharsets.UTF_8));
        sharded.put("model.safetensors.index.json", ("{\"metadata\": {}, \"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\", "
                + "\"b\": \"model-00002-of-00002.safetensors\", \"c\": \"model-00001-of-00002.safetensors\"}}").getBytes(StandardCharsets.UTF_8));
        sharded.put("model-00001-of-00002.safetensors", filled(50_000, 1));
        sharded.put("model-00002-of-00002.safetensors", filled(40_000, 2));
        sharded.put("original/model.safetensors", filled(60_000, 3));
        sharded.put("original/config.json", "{}".getBytes(StandardCharsets.UTF_8));
        sharded.put("tokenizer.json", "{\"model\": {}}".getBytes(StandardCharsets.UTF_8));
        sharded.put("tokenizer_config.json", "{}".getBytes(StandardCharsets.UTF_8));
        fake.addRepo(SHARDED, SHARDED_SHA, sharded);
    }

    @AfterEach
    void stop() { fake.close(); }

    static byte[] filled(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + seed);
        return b;
    }

    HfHub hub() { return hub(fake.endpoint().toString()); }

    HfHub hub(String endpoint) {
        return new HfHub(HfHub.Config.fromEnvironment(Map.of("HF_ENDPOINT", endpoint, "BASALT_CACHE", cache.toString()))
                .withProgress(null).withRetries(3, Duration.ofMillis(10)));
    }

    static List<String> listFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void downloadsWhatTheRuntimeNeedsAndTheModelLoads() throws IOException {
        Path dir = hub().snapshot(REPO, "main");
        assertEquals(cache.resolve("models--fake-org--gpt2-tiny/snapshots/" + SHA), dir);
        assertEquals(List.of(HubCache.COMPLETE_MARKER, "config.json", "generation_config.json", "model.safetensors"), listFiles(dir));
        assertArrayEquals(files.get("model.safetensors"), Files.readAllBytes(dir.resolve("model.safetensors")));
        assertArrayEquals(files.get("config.json"), Files.readAllBytes(dir.resolve("config.json")));
        assertEquals(SHA, Files.readString(cache.resolve("models--fake-org--gpt2-tiny/refs/main")));
        try (Model m = ModelLoader.load(dir)) {
            assertEquals(1000, m.info().vocabSize());
        }
        // The LFS file came from the CDN after a redirect; the small ones straight from the Hub.
        assertEquals(1, fake.requestsFor("/resolve/" + SHA + "/model.safetensors").size());
        assertEquals("cdn", fake.requestsFor("/blobs/" + FakeHub.sha256(files.get("model.safetensors"))).getFirst().server());
    }

    @Test
    void aCompleteSnapshotIsFoundWithoutAnyNetworkCall() {
        Path first = hub().snapshot(REPO, "main");
        int before = fake.requestCount();
        HfHub again = hub();
        assertEquals(first, again.snapshot(REPO, "main"));
        assertEquals(0, again.requestCount());
        assertEquals(before, fake.requestCount());
        // Offline, and by commit sha, too; even with the endpoint gone.
        fake.close();
        HfHub offline = new HfHub(again.config().withOffline(true));
        assertEquals(first, offline.snapshot(REPO, "main"));
        assertEquals(first, hub().snapshot(REPO, SHA));
    }

    @Test
    void aCommitShaDownloadsIntoAnEmptyCache() throws IOException {
        // No ref is written for a commit, so nothing else creates the repo's folder before it is locked.
        Path dir = hub().snapshot(REPO, SHA);
        assertEquals(cache.resolve("models--fake-org--gpt2-tiny/snapshots/" + SHA), dir);
        assertArrayEquals(files.get("model.safetensors"), Files.readAllBytes(dir.resolve("model.safetensors")));
        assertFalse(Files.exists(cache.resolve("models--fake-org--gpt2-tiny/refs")));
    }

    @Test
    void aCutConnectionIsResumedWithARangeRequest() throws IOException {
        fake.cutOnce.put("model.safetensors", 100_000L);
        Path dir = hub().snapshot(REPO, "main");
        assertEquals(1, fake.cuts.get());
        assertArrayEquals(files.get("model.safetensors"), Files.readAllBytes(dir.resolve("model.safetensors")));
        List<FakeHub.Seen> cdn = fake.requestsFor("/blobs/" + FakeHub.sha256(files.get("model.safetensors")));
        assertEquals(2, cdn.size());
        assertNull(cdn.get(0).range());
        assertEquals("bytes=100000-", cdn.get(1).range());
        assertFalse(Files.exists(dir.resolve("model.safetensors.part")));
    }

    @Test
    void aPartialFileSurvivesAFailedRunAndTheNextRunResumesIt() throws IOException {
        fake.cutOnce.put("model.safetensors", 300_000L);
        HfHub once = new HfHub(hub().config().withRetries(1, Duration.ZERO));
        HubException e = assertThrows(HubException.class, () -> once.snapshot(REPO, "main"));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("connection broke"), e.getMessage());
        Path snap = cache.resolve("models--fake-org--gpt2-tiny/snapshots/" + SHA);
        // The server closes after 300,000 bytes; a reset can drop the tail the client had not read yet.
        long partial = Files.size(snap.resolve("model.safetensors.part"));
        assertTrue(partial > 0 && partial <= 300_000L, "partial file of " + partial + " bytes");
        assertFalse(Files.exists(snap.resolve(HubCache.COMPLETE_MARKER)));

        Path dir = hub().snapshot(REPO, "main");
        assertArrayEquals(files.get("model.safetensors"), Files.readAllBytes(dir.resolve("model.safetensors")));
        List<FakeHub.Seen> cdn = fake.requestsFor("/blobs/" + FakeHub.sha256(files.get("model.safetensors")));
        assertEquals("bytes=" + partial + "-", cdn.getLast().range());
    }

    @Test
    void aCorruptedDownloadIsRejected() throws IOException {
        fake.corrupt.add("model.safetensors");
        HubException e = assertThrows(HubException.class, () -> hub().snapshot(REPO, "main"));
        assertTrue(e.getMessage().contains("sha256") && e.getMessage().contains("model.safetensors"), e.getMessage());
        Path snap = cache.resolve("models--fake-org--gpt2-tiny/snapshots/" + SHA);
        assertFalse(Files.exists(snap.resolve("model.safetensors")));
        assertFalse(Files.exists(snap.resolve("model.safetensors.part")));
        assertFalse(Files.exists(snap.resolve(HubCache.COMPLETE_MARKER)));
        // Once the server is fixed, the next run succeeds.
        fake.corrupt.clear();
        assertArrayEquals(files.get("model.safetensors"), Files.readAllBytes(hub().snapshot(REPO, "main").resolve("model.safetensors")));
    }

    @Test
    void theTokenIsSentToTheHubButNotToTheCdn() {
        fake.requiredToken = "hf_secret";
        HubException e = assertThrows(HubException.class, () -> hub().snapshot(REPO, "main"));
        assertTrue(e.getMessage().contains("HF_TOKEN") && e.getMessage().contains("401"), e.getMessage());

        HfHub withToken = new HfHub(HfHub.Config.fromEnvironment(Map.of("HF_ENDPOINT", fake.endpoint().toString(),
                "BASALT_CACHE", cache.toString(), "HF_TOKEN", "hf_secret")).withProgress(null));
        withToken.snapshot(REPO, "main");
        for (FakeHub.Seen s : fake.seen) {
            if (s.server().equals("hub") && s.authorization() != null) assertEquals("Bearer hf_secret", s.authorization());
            if (s.server().equals("cdn")) assertNull(s.authorization(), "the token must not leave the Hub's host");
        }
        assertTrue(fake.seen.stream().anyMatch(s -> s.path().contains("/resolve/") && "Bearer hf_secret".equals(s.authorization())));
    }

    @Test
    void offlineWithoutTheFilesIsAClearError() {
        HfHub offline = new HfHub(hub().config().withOffline(true));
        HubException e = assertThrows(HubException.class, () -> offline.snapshot(REPO, "main"));
        assertTrue(e.getMessage().contains("offline") && e.getMessage().contains(REPO), e.getMessage());
        assertEquals(0, fake.requestCount());
        HfHub viaEnv = new HfHub(HfHub.Config.fromEnvironment(Map.of("HF_ENDPOINT", fake.endpoint().toString(),
                "BASALT_CACHE", cache.toString(), "HF_HUB_OFFLINE", "1")).withProgress(null));
        assertThrows(HubException.class, () -> viaEnv.snapshot(REPO, "main"));
        assertEquals(0, fake.requestCount());
    }

    @Test
    void shardedRepoGetsTheIndexAndItsShardsButNotOriginal() throws IOException {
        Path dir = hub().snapshot(SHARDED, "main");
        assertEquals(List.of(HubCache.COMPLETE_MARKER, "config.json", "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors", "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json"),
                listFiles(dir));
        assertTrue(fake.requestsFor("original/model.safetensors").isEmpty());
    }

    @Test
    void unknownRepoAndUnreachableEndpointAreClearErrors() {
        HubException e = assertThrows(HubException.class, () -> hub().snapshot("fake-org/nope", "main"));
        assertTrue(e.getMessage().contains("fake-org/nope") && e.getMessage().contains("not found"), e.getMessage());
        String dead = fake.endpoint().toString();
        fake.close();
        HubException down = assertThrows(HubException.class, () -> hub(dead).snapshot(REPO, "main"));
        assertTrue(down.getMessage().contains("offline") || down.getMessage().contains("connect"), down.getMessage());
    }

    @Test
    void repoIds() {
        assertTrue(RepoId.looksLike("openai-community/gpt2"));
        assertTrue(RepoId.looksLike("openai/gpt-oss-20b"));
        assertFalse(RepoId.looksLike("gpt2"));
        assertFalse(RepoId.looksLike("../etc/passwd"));
        assertFalse(RepoId.looksLike("a/b/c"));
        assertFalse(RepoId.looksLike("/abs/path"));
        assertEquals("models--openai-community--gpt2", RepoId.parse("openai-community/gpt2").cacheFolderName());
    }
}

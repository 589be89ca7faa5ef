package io.basalt.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * One try at downloading a file: it goes to {@code FILE.part} (resumed with {@code Range: bytes=N-}
 * after a cut or a crash), is checked against the size and, for LFS files, the sha256 the Hub
 * announces ({@code X-Linked-Size}, {@code X-Linked-Etag}), and is moved into place only when
 * complete. A try that can be resumed throws {@link HubHttp.Retryable}; a corrupt file is deleted.
 */
final class ResumableDownload {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final HubHttp http;
    private final HfHub.Config config;

    ResumableDownload(HubHttp http, HfHub.Config config) {
        this.http = http;
        this.config = config;
    }

    /** Downloads (or resumes) {@code uri} into {@code target}; {@code display} names the file in messages. */
    void once(URI uri, Path target, String display) throws IOException, InterruptedException {
        Files.createDirectories(target.getParent());
        Path part = target.resolveSibling(target.getFileName() + ".part");
        long have = Files.isRegularFile(part) ? Files.size(part) : 0;
        HubHttp.Fetched<InputStream> f = http.sendFollowing(uri, have > 0 ? "bytes=" + have + "-" : null,
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
                long size = total >= 0 ? total : r.headers().firstValue("Content-Range").map(ResumableDownload::rangeTotal).orElse(-1L);
                if (size == have) {
                    finish(part, target, display, have, size, expectedSha(f, r));
                    return;
                }
                Files.deleteIfExists(part);
                throw new HubHttp.Retryable("the server refused to resume " + display + "; starting over");
            }
            if (status != 200 && status != 206) throw new HubException("HTTP " + status + " for " + display + " from " + uri);
            long start = 0;
            if (status == 206) {
                Matcher m = CONTENT_RANGE.matcher(r.headers().firstValue("Content-Range").orElse(""));
                if (!m.matches() || Long.parseLong(m.group(1)) != have) {
                    Files.deleteIfExists(part);
                    throw new HubHttp.Retryable("the server resumed " + display + " at the wrong offset; starting over");
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
                    throw new HubHttp.Retryable("the connection broke after " + written + (total >= 0 ? " of " + total : "")
                            + " bytes of " + display + " (" + HubHttp.describe(e) + ")");
                }
            }
            if (total >= 0 && written != total) {
                throw new HubHttp.Retryable("the connection closed after " + written + " of " + total + " bytes of " + display);
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

    private static String unquoteEtag(String etag) {
        if (etag == null) return null;
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e.toLowerCase(Locale.ROOT);
    }

    /** The sha256 an LFS file must have: X-Linked-Etag, else the ETag, when either is 64 hex digits. */
    private static String expectedSha(HubHttp.Fetched<?> f, HttpResponse<?> r) {
        String linked = unquoteEtag(f.linkedEtag());
        if (linked != null && SHA256.matcher(linked).matches()) return linked;
        String etag = unquoteEtag(r.headers().firstValue("ETag").orElse(null));
        return etag != null && SHA256.matcher(etag).matches() ? etag : null;
    }

    /** Checks a part that is already whole (hashing it from disk) and moves it into place. */
    private static void finish(Path part, Path target, String display, long size, long total, String sha) throws IOException {
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

    private static void finish(Path part, Path target, String display, long size, long total, String sha, MessageDigest digest)
            throws IOException {
        if (total >= 0 && size != total) throw new HubHttp.Retryable(display + " has " + size + " bytes, expected " + total);
        if (sha != null) {
            String got = HexFormat.of().formatHex(digest.digest());
            if (!got.equals(sha)) {
                Files.deleteIfExists(part);
                throw new HubException("the download of " + display + " is corrupt: sha256 " + got + ", the Hub says " + sha
                        + " (deleted; run again to retry)");
            }
        }
        HubCache.move(part, target);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private ProgressBar progressBar(String name, long total, long start) {
        PrintStream progress = config.progress();
        if (progress == null || (total >= 0 && total < (256 << 10))) return null; // small files: no bar
        return new ProgressBarBuilder().setTaskName(name).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setUnit(total >= (64L << 20) ? "MiB" : "KiB", total >= (64L << 20) ? 1 << 20 : 1 << 10).showSpeed()
                .setUpdateIntervalMillis(500).startsFrom(start, Duration.ZERO)
                .setConsumer(new ConsoleProgressBarConsumer(progress, 100)).build();
    }
}

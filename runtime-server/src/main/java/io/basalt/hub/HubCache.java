package io.basalt.hub;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The local cache's layout (under {@code BASALT_CACHE}, default {@code ~/.cache/basalt}), after
 * huggingface_hub's:
 * <pre>
 * models--owner--name/refs/main                    the commit sha that "main" pointed to
 * models--owner--name/snapshots/SHA/config.json    the files, as in the repo
 * models--owner--name/snapshots/SHA/.basalt-complete   written last: "size\tpath" for every file
 * </pre>
 * Every file is written to a temporary name and moved into place, so a reader never sees half of one.
 */
final class HubCache {
    static final String COMPLETE_MARKER = ".basalt-complete";
    static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final Path cacheDir;

    HubCache(Path cacheDir) { this.cacheDir = cacheDir; }

    Path cacheDir() { return cacheDir; }

    Path repoDir(RepoId id) { return cacheDir.resolve(id.cacheFolderName()); }

    static Path snapshotDir(Path repoDir, String commit) { return repoDir.resolve("snapshots").resolve(commit); }

    static boolean isCommit(String revision) { return COMMIT.matcher(revision).matches(); }

    private static String refFileName(String revision) { return URLEncoder.encode(revision, StandardCharsets.UTF_8); }

    /** The commit {@code revision} pointed to when last resolved online, or null if the cache does not know. */
    static String readRef(Path repoDir, String revision) {
        Path ref = repoDir.resolve("refs").resolve(refFileName(revision));
        try {
            String sha = Files.isRegularFile(ref) ? Files.readString(ref).strip() : null;
            return sha != null && isCommit(sha) ? sha : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Records that {@code revision} (a branch or tag; a commit needs no ref) points to {@code sha}. */
    static void writeRef(Path repoDir, String revision, String sha) {
        if (isCommit(revision)) return;
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

    /** Marks {@code snap} complete with {@code files}, which must all be in place. */
    static void writeMarker(Path snap, List<String> files) {
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

    /**
     * Locks the repo's folder against other processes (they would write the same {@code .part}
     * files); the lock goes with the returned channel.
     */
    static FileChannel lock(Path repoDir) {
        try {
            Files.createDirectories(repoDir);
            FileChannel channel = FileChannel.open(repoDir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                FileLock ignored = channel.lock();
                return channel;
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException e) {
            throw new HubException("cannot lock the cache folder " + repoDir + ": " + e.getMessage(), e);
        }
    }

    /** Moves a finished file into place, atomically where the file system can. */
    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}

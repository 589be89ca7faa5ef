package io.basalt.backend.neuron;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * The 1024-byte NEFF header (HARDWARE.md §1.8), parsed and checked in Java before a NEFF goes near libnrt, so a
 * truncated or damaged file is one clear error naming it. Little-endian, at the offsets of the C struct.
 */
public record NeffHeader(long pkgVersion, long headerSize, long dataSize, long versionMajor, long versionMinor,
                         String buildVersion, int numTpb, byte[] hash, String name, int requestedTpbCount, int lncSize) {
    public static final int SIZE = 1024;

    /** Parses the header of a NEFF of {@code fileSize} bytes whose first bytes are {@code head}; {@code file} names it in errors. */
    public static NeffHeader parse(String file, ByteBuffer head, long fileSize) {
        if (fileSize < SIZE || head.remaining() < SIZE) {
            throw new PackageException(file + ": truncated NEFF: " + fileSize + " bytes, shorter than the " + SIZE + "-byte header");
        }
        ByteBuffer b = head.slice().order(ByteOrder.LITTLE_ENDIAN);
        long headerSize = b.getLong(8);
        long dataSize = b.getLong(16);
        if (headerSize != SIZE) throw new PackageException(file + ": damaged NEFF header: header_size is " + headerSize + ", expected " + SIZE);
        if (dataSize != fileSize - SIZE) {
            throw new PackageException(file + ": damaged NEFF header: data_size is " + dataSize + " but the file holds "
                    + (fileSize - SIZE) + " bytes after the header" + (dataSize > fileSize - SIZE ? " (truncated?)" : ""));
        }
        long major = b.getLong(24);
        if (major != 2) throw new PackageException(file + ": NEFF version " + major + "." + b.getLong(32) + " is not supported (expected 2.x)");
        byte[] hash = new byte[32];
        b.get(172, hash);
        return new NeffHeader(b.getLong(0), headerSize, dataSize, major, b.getLong(32), cString(b, 40, 128), b.getInt(168), hash,
                cString(b, 220, 256), b.getInt(476), b.getInt(552));
    }

    /** A header for {@code data} (the stand-in's, docs/NEURON.md §4): version 2.0, one TPB, hash = SHA-256 of the data. */
    public static byte[] write(String buildVersion, String name, byte[] sha256OfData, long dataSize) {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 1);
        b.putLong(8, SIZE);
        b.putLong(16, dataSize);
        b.putLong(24, 2);
        b.putLong(32, 0);
        putString(b, 40, 128, buildVersion);
        b.putInt(168, 1);
        b.put(172, sha256OfData);
        putString(b, 220, 256, name);
        b.putInt(476, 1);
        b.putInt(552, 1);
        return b.array();
    }

    public String hashHex() { return HexFormat.of().formatHex(hash); }

    private static String cString(ByteBuffer b, int offset, int max) {
        int n = 0;
        while (n < max && b.get(offset + n) != 0) n++;
        byte[] s = new byte[n];
        b.get(offset, s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static void putString(ByteBuffer b, int offset, int max, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= max) throw new IllegalArgumentException("NEFF header string longer than " + (max - 1) + " bytes: " + s);
        b.put(offset, bytes);
    }
}

package io.basalt.backend.neuron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The 1024-byte NEFF header: written as the stand-in's contract says, parsed back, damage named. */
class NeffHeaderTest {
    private static byte[] neff(int dataSize) {
        byte[] data = new byte[dataSize];
        byte[] h = NeffHeader.write("basalt-standin", "decode_b1_k64", CheckpointFingerprint.sha256(data), dataSize);
        byte[] all = new byte[h.length + dataSize];
        System.arraycopy(h, 0, all, 0, h.length);
        return all;
    }

    @Test
    void aWrittenHeaderParsesBackWithItsFields() {
        byte[] f = neff(100);
        NeffHeader h = NeffHeader.parse("x.neff", ByteBuffer.wrap(f), f.length);
        assertEquals(1024, h.headerSize());
        assertEquals(100, h.dataSize());
        assertEquals(2, h.versionMajor());
        assertEquals(0, h.versionMinor());
        assertEquals("basalt-standin", h.buildVersion());
        assertEquals("decode_b1_k64", h.name());
        assertEquals(1, h.numTpb());
        assertEquals(1, h.requestedTpbCount());
        assertEquals(1, h.lncSize());
        assertEquals(java.util.HexFormat.of().formatHex(CheckpointFingerprint.sha256(new byte[100])), h.hashHex());
    }

    @Test
    void truncatedWrongHeaderSizeAndDataSizeMismatchAreNamed() {
        assertEquals("x.neff: truncated NEFF: 500 bytes, shorter than the 1024-byte header",
                assertThrows(PackageException.class, () -> NeffHeader.parse("x.neff", ByteBuffer.allocate(500), 500)).getMessage());
        byte[] f = neff(10);
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(8, 512);
        assertEquals("x.neff: damaged NEFF header: header_size is 512, expected 1024",
                assertThrows(PackageException.class, () -> NeffHeader.parse("x.neff", ByteBuffer.wrap(f), f.length)).getMessage());
        byte[] g = neff(10);
        assertEquals("x.neff: damaged NEFF header: data_size is 10 but the file holds 5 bytes after the header (truncated?)",
                assertThrows(PackageException.class, () -> NeffHeader.parse("x.neff", ByteBuffer.wrap(g), g.length - 5)).getMessage());
        byte[] v = neff(10);
        ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).putLong(24, 3);
        assertEquals("x.neff: NEFF version 3.0 is not supported (expected 2.x)",
                assertThrows(PackageException.class, () -> NeffHeader.parse("x.neff", ByteBuffer.wrap(v), v.length)).getMessage());
    }
}

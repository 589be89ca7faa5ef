package io.basalt.model.gguf;

import io.basalt.model.DType;

/**
 * GGML tensor types as numbered in ggml.h ({@code enum ggml_type}). Only those with a {@link DType}
 * are read; the others are named so that an error can say which type a file uses.
 */
public enum GgmlType {
    F32(0, DType.F32), F16(1, DType.F16), Q4_0(2, DType.Q4_0), Q4_1(3, null),
    Q5_0(6, null), Q5_1(7, null), Q8_0(8, DType.Q8_0), Q8_1(9, null),
    Q2_K(10, null), Q3_K(11, null), Q4_K(12, null), Q5_K(13, null), Q6_K(14, null), Q8_K(15, null),
    IQ2_XXS(16, null), IQ2_XS(17, null), IQ3_XXS(18, null), IQ1_S(19, null), IQ4_NL(20, null),
    IQ3_S(21, null), IQ2_S(22, null), IQ4_XS(23, null),
    I8(24, DType.I8), I16(25, DType.I16), I32(26, DType.I32), I64(27, DType.I64), F64(28, DType.F64),
    IQ1_M(29, null), BF16(30, DType.BF16),
    TQ1_0(34, null), TQ2_0(35, null), MXFP4(39, null);

    private final int id;
    private final DType dtype;

    GgmlType(int id, DType dtype) {
        this.id = id;
        this.dtype = dtype;
    }

    public int id() { return id; }

    /** The Basalt element type, or null when Basalt does not read this type. */
    public DType dtype() { return dtype; }

    /** The type with this number, or null for a number ggml does not (or no longer) define. */
    public static GgmlType of(long id) {
        for (GgmlType t : values()) if (t.id == id) return t;
        return null;
    }
}

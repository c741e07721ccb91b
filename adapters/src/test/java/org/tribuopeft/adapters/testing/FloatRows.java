package org.tribuopeft.adapters.testing;

/** Comparisons of row-major float outputs for tests. */
public final class FloatRows {
    private FloatRows() {}

    /** The largest absolute element-wise difference of two equally shaped matrices. */
    public static double maxAbsDiff(float[][] a, float[][] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return m;
    }

    /** The largest absolute value in an array (0 for an empty one). */
    public static double maxAbs(float[] values) {
        double m = 0;
        for (float v : values) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}

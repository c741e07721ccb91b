package org.tribuopeft.adapters.lora;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.tribuopeft.adapters.tensor.HostTensor;

/**
 * PiSSA initialisation (Meng et al. 2024, as PEFT implements it): with W = U·S·Vᵀ, A = diag(√(S_r/s))·V_rᵀ
 * and B = U_r·diag(√(S_r/s)), and the frozen weight becomes the residual W − s·B·A. The SVD runs once
 * on the host in double precision (Commons Math), which is deterministic, so a saved model can redo it.
 */
public final class PissaInit {
    private PissaInit() {}

    /**
     * The PiSSA factors and residual of one weight.
     *
     * @param a [r, in]
     * @param b [out, r]
     * @param residual [out, in], the new frozen weight
     */
    public record Factors(HostTensor a, HostTensor b, HostTensor residual) {}

    /**
     * Computes the factors.
     *
     * @param weight W, [out, in]
     * @param rank r, at most min(out, in)
     * @param scaling the LoRA scaling s
     */
    public static Factors compute(HostTensor weight, int rank, double scaling) {
        int out = (int) weight.dim(0);
        int in = (int) weight.dim(1);
        if (rank > Math.min(out, in)) {
            throw new IllegalArgumentException("PiSSA rank " + rank + " exceeds min(out, in) = " + Math.min(out, in));
        }
        float[] w = weight.data();
        double[][] m = new double[out][in];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                m[i][j] = w[i * in + j];
            }
        }
        SingularValueDecomposition svd = new SingularValueDecomposition(new Array2DRowRealMatrix(m, false));
        double[] s = svd.getSingularValues();
        RealMatrix u = svd.getU();
        RealMatrix vt = svd.getVT();
        float[] a = new float[rank * in];
        float[] b = new float[out * rank];
        for (int k = 0; k < rank; k++) {
            double root = Math.sqrt(s[k] / scaling);
            for (int j = 0; j < in; j++) {
                a[k * in + j] = (float) (root * vt.getEntry(k, j));
            }
            for (int i = 0; i < out; i++) {
                b[i * rank + k] = (float) (u.getEntry(i, k) * root);
            }
        }
        float[] residual = new float[out * in];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                double ba = 0;
                for (int k = 0; k < rank; k++) {
                    ba += (double) b[i * rank + k] * a[k * in + j];
                }
                residual[i * in + j] = (float) (w[i * in + j] - scaling * ba);
            }
        }
        return new Factors(new HostTensor(new long[] {rank, in}, a), new HostTensor(new long[] {out, rank}, b),
                new HostTensor(new long[] {out, in}, residual));
    }

    /** [top; bottom]: A of the rank-2r LoRA a PiSSA adapter exports as. */
    static HostTensor concatRows(HostTensor top, HostTensor bottom) {
        float[] d = new float[top.data().length + bottom.data().length];
        System.arraycopy(top.data(), 0, d, 0, top.data().length);
        System.arraycopy(bottom.data(), 0, d, top.data().length, bottom.data().length);
        return new HostTensor(new long[] {top.dim(0) + bottom.dim(0), top.dim(1)}, d);
    }

    /** [left, right]: B of the rank-2r LoRA a PiSSA adapter exports as. */
    static HostTensor concatColumns(HostTensor left, HostTensor right) {
        int rows = (int) left.dim(0);
        int a = (int) left.dim(1);
        int b = (int) right.dim(1);
        float[] d = new float[rows * (a + b)];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(left.data(), i * a, d, i * (a + b), a);
            System.arraycopy(right.data(), i * b, d, i * (a + b) + a, b);
        }
        return new HostTensor(new long[] {rows, a + b}, d);
    }

    /** −t. */
    static HostTensor negate(HostTensor t) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) {
            d[i] = -d[i];
        }
        return new HostTensor(t.shape(), d);
    }
}

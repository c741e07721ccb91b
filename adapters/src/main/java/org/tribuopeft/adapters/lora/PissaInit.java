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
}

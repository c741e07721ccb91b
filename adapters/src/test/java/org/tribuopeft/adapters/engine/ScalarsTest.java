package org.tribuopeft.adapters.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.testing.EngineTestBase;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The scalar operands that autograd saves for the backward pass must survive the garbage collector.
 * Each test builds a graph, lets the collector run and refills freed native memory with NaN, then checks
 * the gradient exactly. With DJL's own {@code Number} overloads ({@code x.mul(2f)}) the gradient of the
 * first test comes out NaN in every round, which is how training diverged and replays differed.
 */
class ScalarsTest extends EngineTestBase {
    private static final float[] X = {0.5f, 1f, 2f, 3f};
    private static final int TERMS = 200;
    private static final int ROUNDS = 3;

    @Test
    void mulGradientSurvivesGarbageCollection() throws InterruptedException {
        assertArrayEquals(new float[] {400f, 400f, 400f, 400f}, gradientAfterMemoryReuse(x -> Scalars.mul(x, 2f)));
    }

    @Test
    void divGradientSurvivesGarbageCollection() throws InterruptedException {
        assertArrayEquals(new float[] {50f, 50f, 50f, 50f}, gradientAfterMemoryReuse(x -> Scalars.div(x, 4f)));
    }

    @Test
    void maximumGradientSurvivesGarbageCollection() throws InterruptedException {
        // d max(x, 1.5)/dx is 1 where x > 1.5 and 0 below it.
        assertArrayEquals(new float[] {0f, 0f, 200f, 200f},
                gradientAfterMemoryReuse(x -> Scalars.maximum(x, 1.5f)));
    }

    @Test
    void powGradientSurvivesGarbageCollection() throws InterruptedException {
        // d x^3/dx = 3x^2, summed over 200 terms.
        float[] expected = new float[X.length];
        for (int i = 0; i < X.length; i++) {
            expected[i] = TERMS * 3f * X[i] * X[i];
        }
        assertArrayEquals(expected, gradientAfterMemoryReuse(x -> Scalars.pow(x, 3)), 1e-3f);
    }

    @Test
    void addAndSubKeepTheInputsTypeAndValue() {
        NDArray x = manager.create(X);
        assertArrayEquals(new float[] {1.5f, 2f, 3f, 4f}, Scalars.add(x, 1f).toFloatArray());
        assertArrayEquals(new float[] {-0.5f, 0f, 1f, 2f}, Scalars.sub(x, 1f).toFloatArray());
        assertArrayEquals(new double[] {2.5, 3, 4, 5},
                Scalars.add(manager.create(new double[] {0.5, 1, 2, 3}), 2f).toDoubleArray());
    }

    /** The gradient of {@code sum(op(x))} over {@value #TERMS} terms, taken after freed memory was reused. */
    private float[] gradientAfterMemoryReuse(UnaryOperator<NDArray> op) throws InterruptedException {
        float[] gradient = null;
        for (int round = 0; round < ROUNDS; round++) {
            try (NDManager scope = manager.newSubManager();
                    GradientCollector collector = TorchRuntime.engine().newGradientCollector()) {
                NDArray x = scope.create(X);
                x.setRequiresGradient(true);
                NDArray total = op.apply(x);
                for (int k = 1; k < TERMS; k++) {
                    total = total.add(op.apply(x));
                }
                total = total.sum();
                overwriteFreedNativeMemoryWithNaN();
                collector.backward(total);
                float[] g = x.getGradient().toFloatArray();
                if (gradient != null) {
                    assertArrayEquals(gradient, g, "round " + round + " differs from round 0");
                }
                gradient = g;
            }
        }
        return gradient;
    }

    private static void overwriteFreedNativeMemoryWithNaN() throws InterruptedException {
        System.gc();
        Thread.sleep(20);
        List<ByteBuffer> filler = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
            b.putFloat(0, Float.NaN);
            filler.add(b);
        }
    }
}

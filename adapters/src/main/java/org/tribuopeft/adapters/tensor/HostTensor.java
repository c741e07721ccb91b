package org.tribuopeft.adapters.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;
import java.util.Objects;

/**
 * A float32 tensor held in Java memory (row-major), the engine-independent form in which weights
 * travel between file formats and the DJL blocks. Immutable by convention: callers must not change
 * the array returned by {@link #data()}.
 */
public final class HostTensor {
    private final long[] shape;
    private final float[] data;

    /**
     * Wraps row-major data with a shape.
     *
     * @param shape the dimensions, outermost first
     * @param data the values, whose count must equal the product of the dimensions
     */
    public HostTensor(long[] shape, float[] data) {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        long count = elementCount(shape);
        if (count != data.length) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " needs " + count + " values, got " + data.length);
        }
        this.shape = shape.clone();
        this.data = data;
    }

    /** Copies an NDArray (any float type) off the engine into Java memory as float32. */
    public static HostTensor of(NDArray array) {
        NDArray f = array.getDataType() == DataType.FLOAT32 ? array : array.toType(DataType.FLOAT32, false);
        HostTensor t = new HostTensor(array.getShape().getShape(), f.toFloatArray());
        if (f != array) {
            f.close();
        }
        return t;
    }

    /** Number of values a tensor of this shape holds; fails on negative or overflowing dimensions. */
    public static long elementCount(long[] shape) {
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        return count;
    }

    /** The dimensions, outermost first (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** The row-major values (shared, not copied). */
    public float[] data() {
        return data;
    }

    /** The 2-D transpose: an [a, b] tensor becomes [b, a]. Used for ONNX MatMul weights stored [in, out]. */
    public HostTensor transpose2d() {
        if (shape.length != 2) {
            throw new IllegalStateException("transpose2d needs a 2-D tensor, shape is " + Arrays.toString(shape));
        }
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        float[] out = new float[data.length];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = data[base + c];
            }
        }
        return new HostTensor(new long[] {cols, rows}, out);
    }

    /** This tensor times a scalar, computed in double and rounded to float once per value. */
    public HostTensor scaled(double factor) {
        float[] out = data.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (out[i] * factor);
        }
        return new HostTensor(shape.clone(), out);
    }

    /**
     * The element-wise sum with a tensor of the same shape, in float as the engine adds (merging an update
     * on the host gives the engine's merged weight).
     *
     * @throws IllegalArgumentException when the shapes differ
     */
    public HostTensor plus(HostTensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException("cannot add " + Arrays.toString(other.shape) + " to "
                    + Arrays.toString(shape));
        }
        float[] out = data.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += other.data[i];
        }
        return new HostTensor(shape.clone(), out);
    }

    /** Creates an NDArray with this tensor's values on the given manager. */
    public NDArray toNDArray(NDManager manager) {
        return manager.create(data, new Shape(shape));
    }

    /**
     * Overwrites an existing engine array in place with this tensor's values, keeping the array's
     * identity (and so its gradient bookkeeping and optimizer state).
     */
    public static void copyInto(HostTensor values, NDArray target) {
        if (!Arrays.equals(values.shape, target.getShape().getShape())) {
            throw new IllegalArgumentException("cannot copy " + Arrays.toString(values.shape) + " into "
                    + target.getShape());
        }
        try (NDArray src = values.toNDArray(target.getManager())) {
            target.set(new ai.djl.ndarray.index.NDIndex("..."), src);
        }
    }

    /** True when both tensors have the same shape and bit-identical values. */
    public boolean bitEquals(HostTensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            return false;
        }
        for (int i = 0; i < data.length; i++) {
            if (Float.floatToRawIntBits(data[i]) != Float.floatToRawIntBits(other.data[i])) {
                return false;
            }
        }
        return true;
    }

    /** The largest absolute element-wise difference; the shapes must match. */
    public double maxAbsDiff(HostTensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException(
                    "shapes differ: " + Arrays.toString(shape) + " vs " + Arrays.toString(other.shape));
        }
        double max = 0;
        for (int i = 0; i < data.length; i++) {
            max = Math.max(max, Math.abs((double) data[i] - other.data[i]));
        }
        return max;
    }

    @Override
    public String toString() {
        return "HostTensor" + Arrays.toString(shape);
    }
}

package org.tribuopeft.adapters.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.function.BinaryOperator;

/**
 * Arithmetic between an engine array and a plain number, with the number held in memory PyTorch owns.
 * DJL's {@code NDArray.mul(Number)} (and {@code div}, {@code add}, {@code sub}, {@code pow},
 * {@code maximum}) wraps the number in a tensor over a Java direct buffer and releases the buffer as soon
 * as the call returns, while autograd keeps that tensor for the backward pass: once the garbage collector
 * has freed the buffer, backward reads whatever reused the memory (NaN losses, replays that differ).
 * Use these instead of the {@code Number} overloads wherever an array may be part of a training graph.
 */
public final class Scalars {
    private Scalars() {}

    /** {@code x · v}. */
    public static NDArray mul(NDArray x, float v) {
        return withScalar(x, v, NDArray::mul);
    }

    /** {@code x / v}. */
    public static NDArray div(NDArray x, float v) {
        return withScalar(x, v, NDArray::div);
    }

    /** {@code x + v}. */
    public static NDArray add(NDArray x, float v) {
        return withScalar(x, v, NDArray::add);
    }

    /** {@code x - v}. */
    public static NDArray sub(NDArray x, float v) {
        return withScalar(x, v, NDArray::sub);
    }

    /** Element-wise {@code max(x, v)}. */
    public static NDArray maximum(NDArray x, float v) {
        return withScalar(x, v, NDArray::maximum);
    }

    /** {@code x} to an integer power (an int32 exponent, as DJL's {@code pow(Integer)} passes it). */
    public static NDArray pow(NDArray x, int exponent) {
        try (NDArray s = x.getManager().full(new Shape(), exponent, DataType.INT32)) {
            return x.pow(s);
        }
    }

    /** {@code op(x, s)} with {@code s} a 0-d array of {@code x}'s type holding {@code v}, allocated by the engine. */
    private static NDArray withScalar(NDArray x, float v, BinaryOperator<NDArray> op) {
        try (NDArray s = x.getManager().full(new Shape(), v, x.getDataType())) {
            return op.apply(x, s);
        }
    }
}

package org.tribuopeft.adapters.train;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * How the replicas of a data-parallel run talk: every replica sends one message and receives every replica's
 * message in rank order (an all-gather). The training loop uses it to sum gradients in a fixed order, so every
 * replica applies the same update, and to agree on the data and on where to resume. Spark's
 * {@code BarrierTaskContext.allGather} is one implementation.
 */
public interface ReplicaExchange {
    /**
     * Sends {@code message} to every replica and returns all replicas' messages, index = rank. Every replica must
     * call it the same number of times, in the same order.
     *
     * @throws RuntimeException when a replica is lost (the run must stop: the replicas can no longer agree)
     */
    List<byte[]> allGather(byte[] message);

    /**
     * The element-wise sum of every replica's buffer, added in rank order ({@code ((b0 + b1) + b2) + ...} in float
     * arithmetic), so every replica gets the same bits.
     *
     * @param local this replica's buffer
     */
    default float[] sumInRankOrder(float[] local) {
        return sum(allGather(floatsToBytes(local)), local.length);
    }

    /** The rank-order float sum of little-endian float32 messages of {@code length} elements each. */
    static float[] sum(List<byte[]> messages, int length) {
        float[] out = null;
        for (int r = 0; r < messages.size(); r++) {
            float[] v = bytesToFloats(messages.get(r));
            if (v.length != length) {
                throw new IllegalStateException("replica " + r + " sent " + v.length + " gradient values but this "
                        + "replica has " + length + "; the replicas do not train the same model");
            }
            if (out == null) {
                out = v;
            } else {
                for (int i = 0; i < length; i++) {
                    out[i] += v[i];
                }
            }
        }
        return out;
    }

    /** Little-endian float32 bytes of {@code values}. */
    static byte[] floatsToBytes(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b.array();
    }

    /** The floats of little-endian float32 bytes. */
    static float[] bytesToFloats(byte[] bytes) {
        if (bytes.length % Float.BYTES != 0) {
            throw new IllegalStateException("a gradient message of " + bytes.length + " bytes is not whole float32s");
        }
        float[] out = new float[bytes.length / Float.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}

package org.tribuopeft.adapters.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.stream.IntStream;

/**
 * Dropout keep-masks drawn on the JVM for tensors on the CPU. libtorch's CPU generator fills a tensor in a serial
 * loop, one call per element, which left one of two cores idle for about a quarter of a training step; these masks
 * come from a counter-based generator instead, so any chunk of a mask can be computed on any thread and the result
 * never depends on how many threads there are.
 *
 * <p>Draw {@code k} of a mask with seed {@code s} is SplitMix64's output {@code mix64(s + (k + 1)·γ)}
 * (γ = 0x9E3779B97F4A7C15, Stafford's "Mix13" finalizer, as {@link java.util.SplittableRandom} uses); its high 32
 * bits decide element {@code 2k} and its low 32 bits element {@code 2k + 1}: an element is kept when its 32 bits,
 * read as an unsigned number, are below {@code round((1 − p)·2³²)}, so the keep probability is exact to 2⁻³².
 * Masks are bytes (0 or 1) because libtorch converts bytes to float32 several times faster than booleans.
 */
final class DropoutMasks {
    private static final long GAMMA = 0x9E3779B97F4A7C15L;
    /** Draws per parallel chunk: large enough that a chunk costs far more than handing it to a thread. */
    private static final int WORDS_PER_CHUNK = 1 << 15;
    /** One reusable buffer per thread, grown to the largest mask that thread has drawn. */
    private static final ThreadLocal<ByteBuffer> SCRATCH = new ThreadLocal<>();

    private DropoutMasks() {
    }

    /** {@code round((1 − p)·2³²)}: an element whose 32 bits are below this is kept. */
    static long threshold(double p) {
        TrainingDropout.requireRate(p);
        return Math.round((1 - p) * 4294967296.0);
    }

    /** SplitMix64's finalizer. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Whether element {@code index} of the mask with this seed and threshold is kept: the definition the fill follows. */
    static boolean kept(long seed, long threshold, long index) {
        long draw = mix64(seed + (index / 2 + 1) * GAMMA);
        long bits = index % 2 == 0 ? draw >>> 32 : draw & 0xFFFFFFFFL;
        return bits < threshold;
    }

    /**
     * A byte mask of the given shape (1 keep, 0 drop) for dropout at rate {@code p}. The array is a view of this
     * thread's scratch buffer, so it must be consumed (converted to another dtype) and closed before this thread
     * draws its next mask; its contents are undefined afterwards.
     */
    static NDArray keepMask(NDManager manager, Shape shape, double p, long seed) {
        long size = shape.size();
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a dropout mask of shape " + shape + " has more than 2^31 elements");
        }
        int n = (int) size;
        if (n == 0) {
            return manager.zeros(shape, DataType.UINT8);
        }
        ByteBuffer buffer = scratch(n);
        fill(buffer, n, threshold(p), seed);
        return manager.create(buffer.slice(0, n), shape, DataType.UINT8);
    }

    /** Writes elements {@code [0, n)} of the mask into {@code buffer} as bytes, in parallel chunks for large masks. */
    static void fill(ByteBuffer buffer, int n, long threshold, long seed) {
        ByteBuffer out = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int words = n / 8;
        int chunks = (words + WORDS_PER_CHUNK - 1) / WORDS_PER_CHUNK;
        if (chunks > 1) {
            IntStream.range(0, chunks).parallel().forEach(c -> fillWords(out, c * WORDS_PER_CHUNK,
                    Math.min(words, (c + 1) * WORDS_PER_CHUNK), threshold, seed));
        } else {
            fillWords(out, 0, words, threshold, seed);
        }
        for (int i = words * 8; i < n; i++) {
            out.put(i, (byte) (kept(seed, threshold, i) ? 1 : 0));
        }
    }

    /** Elements {@code [8·from, 8·to)}: four draws per eight bytes, written as one little-endian long. */
    private static void fillWords(ByteBuffer out, int from, int to, long threshold, long seed) {
        for (int w = from; w < to; w++) {
            long counter = seed + 4L * w * GAMMA;
            long packed = pair(mix64(counter + GAMMA), threshold)
                    | pair(mix64(counter + 2 * GAMMA), threshold) << 16
                    | pair(mix64(counter + 3 * GAMMA), threshold) << 32
                    | pair(mix64(counter + 4 * GAMMA), threshold) << 48;
            out.putLong(8 * w, packed);
        }
    }

    /** Two mask bytes from one draw, branch-free: byte 0 from the high 32 bits, byte 1 from the low 32 bits. */
    private static long pair(long draw, long threshold) {
        long high = ((draw >>> 32) - threshold) >>> 63;
        long low = ((draw & 0xFFFFFFFFL) - threshold) >>> 63;
        return high | low << 8;
    }

    private static ByteBuffer scratch(int n) {
        ByteBuffer b = SCRATCH.get();
        if (b == null || b.capacity() < n) {
            // grow by half again, so a thread that sees slowly growing masks does not reallocate every time
            b = ByteBuffer.allocateDirect(Math.max(n + n / 2, 64));
            SCRATCH.set(b);
        }
        return b;
    }
}

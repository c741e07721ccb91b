package org.tribuopeft.adapters.data;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The one seeded order of the bundled datasets: a Fisher–Yates shuffle driven by {@link SplittableRandom}, from the
 * last element down. Every dataset's slices (and every recorded replay of them) depend on this exact order.
 */
final class SeededShuffle {
    private SeededShuffle() {}

    /** Shuffles {@code items} in place with {@code seed} and returns it. */
    static <T> List<T> inPlace(List<T> items, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = items.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            T t = items.get(i);
            items.set(i, items.get(j));
            items.set(j, t);
        }
        return items;
    }
}

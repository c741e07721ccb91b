package org.tribuopeft.adapters.testing;

import org.tribuopeft.adapters.train.LabelledText;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Short two-class texts that a tiny model can learn: class 0 uses one word list, class 1 another. */
public final class SyntheticTexts {
    private static final String[] POSITIVE = {"good", "great", "fine", "nice", "happy", "joy"};
    private static final String[] NEGATIVE = {"bad", "awful", "poor", "sad", "ugly", "dull"};

    private SyntheticTexts() {}

    /** {@code n} examples, alternating classes, 3 to 6 words each, reproducible by seed. */
    public static List<LabelledText> twoClass(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<LabelledText> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int label = i % 2;
            String[] words = label == 0 ? POSITIVE : NEGATIVE;
            int len = 3 + rng.nextInt(4);
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < len; w++) {
                sb.append(w == 0 ? "" : " ").append(words[rng.nextInt(words.length)]);
            }
            out.add(LabelledText.ofClass(sb.toString(), label, 2));
        }
        return out;
    }
}

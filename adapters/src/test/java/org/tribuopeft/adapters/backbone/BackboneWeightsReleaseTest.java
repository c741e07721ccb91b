package org.tribuopeft.adapters.backbone;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.testing.TinyBert;

import java.io.UncheckedIOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A backbone's Java copy of the weights can be dropped and is read again, unchanged or refused, when next needed. */
class BackboneWeightsReleaseTest {

    private static Backbone ownFolder(Path dir, long seed) throws Exception {
        Path folder = dir.resolve("model");
        Backbone.writeHfFolder(folder, TinyBert.weights(seed), TinyBert.tokenizerJson());
        return Backbone.fromHfFolder(folder, Pooling.MEAN);
    }

    @Test
    void releasedWeightsAreReadAgainFromTheSourceOnlyWhenNeeded(@TempDir Path dir) throws Exception {
        Backbone b = ownFolder(dir, 5);
        String sha = b.weights().contentSha256();
        assertTrue(b.releaseWeights());
        assertFalse(b.holdsWeights());
        assertFalse(b.releaseWeights(), "nothing left to release");
        // what needs only the architecture, the storage or the tokenizer does not read the weights again
        assertEquals(TinyBert.weights(5).config(), b.config());
        assertTrue(b.quantization().isEmpty());
        b.tokenizer(16).close();
        assertFalse(b.holdsWeights());
        assertEquals(sha, b.weights().contentSha256());
        assertTrue(b.holdsWeights());
    }

    @Test
    void aSourceChangedAfterTheReleaseIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Backbone b = ownFolder(dir, 5);
        b.releaseWeights();
        Backbone.writeHfFolder(dir.resolve("model"), TinyBert.weights(6), TinyBert.tokenizerJson());
        UncheckedIOException e = assertThrows(UncheckedIOException.class, b::weights);
        ModelFileException cause = assertInstanceOf(ModelFileException.class, e.getCause());
        assertTrue(cause.getMessage().contains(dir.resolve("model").resolve(Backbone.MODEL_SAFETENSORS).toString()),
                cause.getMessage());
        assertTrue(cause.getMessage().contains("changed since the backbone was loaded from it"), cause.getMessage());
        assertFalse(b.holdsWeights(), "the changed file's weights are not taken");
    }

    @Test
    void backbonesThatDifferOnlyInPoolingShareOneCopy(@TempDir Path dir) throws Exception {
        Backbone mean = ownFolder(dir, 5);
        Backbone cls = mean.withPooling(Pooling.CLS);
        assertTrue(cls.releaseWeights());
        assertFalse(mean.holdsWeights());
        mean.weights();
        assertTrue(cls.holdsWeights());
    }
}

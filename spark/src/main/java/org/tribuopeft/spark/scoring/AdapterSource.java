package org.tribuopeft.spark.scoring;

import org.tribuopeft.plugin.AdapterModel;

import java.io.IOException;
import java.io.Serializable;
import java.util.Optional;

/**
 * Where executors find the adapters a scoring job names: shared storage read by each executor ({@link
 * AdapterScorer#fromFolders}) or models broadcast from the driver ({@link AdapterScorer#fromModels}). It is shipped
 * to every task, so it holds names and handles, never models.
 */
public interface AdapterSource extends Serializable {
    /** Identifies this source in an executor's adapter cache: two sources with equal keys hold the same adapters. */
    String key();

    /** Where the adapters come from, for error messages (the folders, or the broadcast's adapter ids). */
    String describe();

    /**
     * Reads one adapter.
     *
     * @param id the adapter id a row names
     * @return the adapter, or empty when this source has no adapter of that id
     * @throws IOException when the adapter exists but cannot be read
     * @throws IllegalArgumentException when the id is not a plain name
     */
    Optional<AdapterModel<?>> load(String id) throws IOException;
}

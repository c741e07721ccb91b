/**
 * Scoring a Spark {@code Dataset<Row>} with many adapters over one pretrained base: {@link
 * org.tribuopeft.spark.scoring.AdapterScorer} adds a prediction column from a text column and an adapter-id column.
 * Each executor JVM loads a base once (keyed by its weights' SHA-256) and each adapter once, and predicts a
 * partition in mixed-adapter batches, so results equal each adapter's own local {@code predict} up to float rounding.
 */
package org.tribuopeft.spark.scoring;

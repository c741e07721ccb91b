/**
 * Apache Spark integration for tribuo-peft: scoring a DataFrame with many adapters over one base per
 * executor, and data-parallel adapter training in Spark's barrier execution mode. Spark is a
 * provided dependency, so core users of the plugin never pull it.
 */
package org.tribuopeft.spark;

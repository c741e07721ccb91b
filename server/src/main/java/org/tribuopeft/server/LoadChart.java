package org.tribuopeft.server;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.data.category.DefaultCategoryDataset;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The load generator's chart: throughput against distinct adapters per batching and traffic, as a PNG. */
final class LoadChart {
    private LoadChart() {}

    static void write(List<LoadGenerator.Result> results, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (LoadGenerator.Result r : results) {
            if (r.batching() != Batching.MERGED) {
                data.addValue(r.throughput(), r.batching().name().toLowerCase(Locale.ROOT).replace('_', '-') + ", "
                        + r.traffic(), Integer.toString(r.adapters()));
            }
        }
        JFreeChart chart = ChartFactory.createLineChart("Adapter server throughput", "distinct adapters in the traffic",
                "answered requests per second", data, PlotOrientation.VERTICAL, true, false, false);
        LoadGenerator.Result merged = LoadGenerator.find(results, Batching.MERGED, 1, "uniform");
        if (merged != null) {
            ValueMarker m = new ValueMarker(merged.throughput(), Color.DARK_GRAY, new BasicStroke(1.5f,
                    BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {6f, 4f}, 0f));
            m.setLabel(String.format(Locale.ROOT, "one merged adapter (bare-base forward): %.1f req/s", merged.throughput()));
            m.setLabelTextAnchor(org.jfree.chart.ui.TextAnchor.BOTTOM_RIGHT);
            m.setLabelAnchor(org.jfree.chart.ui.RectangleAnchor.TOP_RIGHT);
            chart.getCategoryPlot().addRangeMarker(m);
        }
        var renderer = chart.getCategoryPlot().getRenderer();
        Color[] colours = {new Color(0xC0392B), new Color(0x2471A3), new Color(0xE67E22), new Color(0x17A589)};
        for (int i = 0; i < data.getRowCount(); i++) {
            renderer.setSeriesPaint(i, colours[i % colours.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2.5f));
        }
        chart.getCategoryPlot().setBackgroundPaint(Color.WHITE);
        chart.getCategoryPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
        Files.createDirectories(png.toAbsolutePath().getParent());
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 520);
    }
}

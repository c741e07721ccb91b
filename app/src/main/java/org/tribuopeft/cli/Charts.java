package org.tribuopeft.cli;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The PNG charts of run reports and the quality benchmark (headless JFreeChart, as the adapter server's load chart):
 * loss curves, bars per method and a kept-rank heat map. Each returns the PNG's bytes, for a file or an inline image.
 */
final class Charts {
    private static final Color[] COLOURS = {new Color(0xC0392B), new Color(0x2471A3), new Color(0xE67E22),
        new Color(0x17A589), new Color(0x7D3C98), new Color(0x566573), new Color(0xD4AC0D), new Color(0x1ABC9C),
        new Color(0x943126)};

    private Charts() {}

    /**
     * Loss against optimizer step, one line per series.
     *
     * @param title the chart title
     * @param series losses by series name; entry i is the loss of step i + 1
     * @param smoothing points of the trailing moving average drawn (1 draws the raw losses)
     * @param legend whether to show the series names
     */
    static byte[] lossCurves(String title, Map<String, List<Double>> series, int smoothing, boolean legend, int width,
                             int height) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (Map.Entry<String, List<Double>> e : series.entrySet()) {
            XYSeries s = new XYSeries(e.getKey());
            List<Double> losses = e.getValue();
            double sum = 0;
            for (int i = 0; i < losses.size(); i++) {
                sum += losses.get(i);
                if (i >= smoothing) {
                    sum -= losses.get(i - smoothing);
                }
                s.add(i + 1, sum / Math.min(i + 1, smoothing));
            }
            data.addSeries(s);
        }
        String yLabel = smoothing > 1 ? "training loss (moving average of " + smoothing + " steps)" : "training loss";
        JFreeChart chart = ChartFactory.createXYLineChart(title, "optimizer step", yLabel, data,
                PlotOrientation.VERTICAL, legend, false, false);
        XYPlot plot = chart.getXYPlot();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, COLOURS[i % COLOURS.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(renderer);
        style(chart);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        return png(chart, width, height);
    }

    /**
     * Vertical bars: one group per category (a method), one bar per series (a dataset).
     *
     * @param values value by series, then by category
     */
    static byte[] bars(String title, String valueLabel, Map<String, Map<String, Double>> values, int width, int height)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        values.forEach((series, byCategory) -> byCategory.forEach((category, v) -> data.addValue(v, series, category)));
        JFreeChart chart = ChartFactory.createBarChart(title, "method", valueLabel, data, PlotOrientation.VERTICAL,
                values.size() > 1, false, false);
        var plot = chart.getCategoryPlot();
        for (int i = 0; i < data.getRowCount(); i++) {
            plot.getRenderer().setSeriesPaint(i, COLOURS[i % COLOURS.length]);
        }
        ((org.jfree.chart.renderer.category.BarRenderer) plot.getRenderer())
                .setBarPainter(new org.jfree.chart.renderer.category.StandardBarPainter());
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        style(chart);
        return png(chart, width, height);
    }

    /**
     * A heat map of kept rank: one row per encoder layer, one column per module, each cell shaded by its value
     * relative to {@code max} and labelled with it.
     *
     * @param title the chart title
     * @param rows row labels (layers), top to bottom
     * @param columns column labels (modules)
     * @param values values[row][column], NaN for none
     * @param max the value drawn darkest (the initial rank)
     */
    static byte[] heatMap(String title, List<String> rows, List<String> columns, double[][] values, double max)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        int cell = 105;
        int left = 90;
        int top = 60;
        int headerHeight = 40;
        int width = Math.max(left + columns.size() * cell + 20, 20 + title.length() * 9);
        int height = top + headerHeight + rows.size() * 34 + 40;
        int rowHeight = 34;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString(title, 10, 25);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            FontMetrics fm = g.getFontMetrics();
            for (int c = 0; c < columns.size(); c++) {
                String[] parts = columns.get(c).split("\n");
                for (int p = 0; p < parts.length; p++) {
                    String label = parts[p];
                    g.drawString(label, left + c * cell + (cell - fm.stringWidth(label)) / 2, top + 14 * p + 12);
                }
            }
            for (int r = 0; r < rows.size(); r++) {
                int y = top + headerHeight + r * rowHeight;
                g.setColor(Color.BLACK);
                g.drawString(rows.get(r), 10, y + rowHeight / 2 + 4);
                for (int c = 0; c < columns.size(); c++) {
                    double v = values[r][c];
                    int x = left + c * cell;
                    float f = Double.isNaN(v) || max <= 0 ? 0f : (float) Math.max(0, Math.min(1, v / max));
                    g.setColor(Double.isNaN(v) ? new Color(0xEEEEEE)
                            : new Color(1f - 0.85f * f, 1f - 0.55f * f, 1f - 0.25f * f));
                    g.fillRect(x, y, cell - 2, rowHeight - 2);
                    g.setColor(f > 0.6f ? Color.WHITE : Color.BLACK);
                    String label = Double.isNaN(v) ? "–" : String.format(Locale.ROOT, v == Math.rint(v) ? "%.0f" : "%.1f", v);
                    g.drawString(label, x + (cell - 2 - fm.stringWidth(label)) / 2, y + rowHeight / 2 + 4);
                }
            }
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "darkest = %.0f (initial rank)", max), 10, height - 12);
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        javax.imageio.ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    }

    private static byte[] png(JFreeChart chart, int width, int height) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(out, chart, width, height);
        return out.toByteArray();
    }
}

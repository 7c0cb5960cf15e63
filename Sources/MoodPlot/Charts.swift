import Foundation

/// Line and scatter plots: one or more series of (x, y), optional log axes.
public struct LinePlot {
    public struct Series {
        public var title: String
        public var points: [(Double, Double)]
        public var style: String
        public init(_ title: String, _ points: [(Double, Double)], style: String = "lines lw 2") {
            self.title = title
            self.points = points
            self.style = style
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logX = false
    public var logY = false
    /// Vertical markers: (x, label).
    public var markers: [(Double, String)] = []
    public var yRange: ClosedRange<Double>?
    public var xRange: ClosedRange<Double>?

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logX: Bool = false, logY: Bool = false)
    {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logX = logX
        self.logY = logY
    }

    public func render(to output: URL) throws {
        var script = Chart.header(title: title, xLabel: xLabel, yLabel: yLabel)
        if logX { script += "set logscale x\nset format x '10^{%L}'\n" }
        if logY { script += "set logscale y\n" }
        if let yRange { script += "set yrange [\(yRange.lowerBound):\(yRange.upperBound)]\n" }
        if let xRange { script += "set xrange [\(xRange.lowerBound):\(xRange.upperBound)]\n" }
        for (i, marker) in markers.enumerated() {
            // Labels step down the plot so that markers close together do not print over each other.
            script +=
                "set arrow \(i + 1) from \(marker.0), graph 0 to \(marker.0), graph 1 nohead dt 2 lc rgb '#555555'\n"
            script +=
                "set label \(i + 1) \(Gnuplot.quoted(marker.1)) at \(marker.0), graph \(0.95 - 0.07 * Double(i % 4)) offset 0.5,0 noenhanced\n"
        }
        let plots = series.enumerated().map { i, s in
            "$data\(i) with \(s.style) title \(Gnuplot.quoted(s.title)) noenhanced"
        }
        for (i, s) in series.enumerated() {
            script += "$data\(i) << EOD\n" + s.points.map { "\($0.0) \($0.1)" }.joined(separator: "\n") + "\nEOD\n"
        }
        script += "plot " + plots.joined(separator: ", ") + "\n"
        try Gnuplot.render(script, to: output)
    }
}

/// Vertical bars, one or more groups per category (clustered).
public struct BarChart {
    public var title: String
    public var yLabel: String
    public var categories: [String]
    /// Each group: a title and one value per category.
    public var groups: [(String, [Double])]
    public var rotateLabels = false
    public var yRange: ClosedRange<Double>?
    public var size = (width: 1000, height: 450)
    /// Optional intervals, one `(low, high)` per group and category, drawn as error bars.
    public var intervals: [[(Double, Double)]]?

    public init(title: String, yLabel: String, categories: [String], groups: [(String, [Double])]) {
        self.title = title
        self.yLabel = yLabel
        self.categories = categories
        self.groups = groups
    }

    public func render(to output: URL) throws {
        var script = Chart.header(title: title, xLabel: "", yLabel: yLabel, size: size)
        let withErrors = intervals != nil
        script += "set style data histograms\n"
        script += withErrors ? "set style histogram errorbars gap 1 lw 1\n" : "set style histogram clustered gap 1\n"
        script += "set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
        // The legend goes under the plot, where it covers no bar.
        script += "set key below horizontal noenhanced\n"
        script += rotateLabels ? "set xtics rotate by -60 noenhanced\n" : "set xtics noenhanced\n"
        // Headroom above the tallest bar (or error bar), so that none touches the frame.
        let top = max(groups.flatMap(\.1).max() ?? 0, intervals?.flatMap { $0.map(\.1) }.max() ?? 0)
        let range = yRange ?? 0...(top > 0 ? top * 1.12 : 1)
        script += "set yrange [\(range.lowerBound):\(range.upperBound)]\n"
        script += "$bars << EOD\n"
        for (i, category) in categories.enumerated() {
            let columns = groups.indices.map { g -> String in
                let value = groups[g].1[i]
                guard let intervals else { return "\(value)" }
                return "\(value) \(intervals[g][i].0) \(intervals[g][i].1)"
            }
            script += Gnuplot.datum(category) + " " + columns.joined(separator: " ") + "\n"
        }
        script += "EOD\n"
        let plots = groups.enumerated().map { i, g in
            let using = withErrors ? "\(3 * i + 2):\(3 * i + 3):\(3 * i + 4)" : "\(i + 2)"
            return "$bars using \(using):xtic(1) title \(Gnuplot.quoted(g.0)) noenhanced"
        }
        script += "plot " + plots.joined(separator: ", ") + "\n"
        try Gnuplot.render(script, to: output)
    }
}

/// A histogram of values in `bins` equal bins between `range` ends.
public struct Histogram {
    public var title: String
    public var xLabel: String
    public var series: [(String, [Double])]
    public var bins: Int
    public var range: ClosedRange<Double>
    public var logY = false

    public init(title: String, xLabel: String, series: [(String, [Double])], bins: Int = 40, range: ClosedRange<Double>)
    {
        self.title = title
        self.xLabel = xLabel
        self.series = series
        self.bins = bins
        self.range = range
    }

    public func counts(_ values: [Double]) -> [Int] {
        var counts = [Int](repeating: 0, count: bins)
        let width = (range.upperBound - range.lowerBound) / Double(bins)
        for v in values where v.isFinite {
            let b = min(bins - 1, max(0, Int((v - range.lowerBound) / width)))
            counts[b] += 1
        }
        return counts
    }

    public func render(to output: URL) throws {
        let width = (range.upperBound - range.lowerBound) / Double(bins)
        let plotted = series.map { title, values in
            // `histeps` at the bin centres draws each bin over its whole width, the first and last included.
            LinePlot.Series(
                title,
                counts(values).enumerated().map {
                    (range.lowerBound + (Double($0.offset) + 0.5) * width, Double($0.element))
                },
                style: "histeps lw 2")
        }
        var plot = LinePlot(title: title, xLabel: xLabel, yLabel: "count", series: plotted, logY: logY)
        plot.xRange = range
        plot.yRange = logY ? nil : 0...Double((series.flatMap { counts($0.1) }.max() ?? 1)) * 1.1
        try plot.render(to: output)
    }
}

/// A matrix with its numbers written in the cells (confusion matrices).
public struct AnnotatedHeatmap {
    public var title: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    public var values: [[Double]]
    public var xLabel: String
    public var yLabel: String
    public var format = "%.0f"

    public init(
        title: String, rowLabels: [String], columnLabels: [String], values: [[Double]], xLabel: String, yLabel: String
    ) {
        self.title = title
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    public func render(to output: URL) throws {
        var script = Chart.header(title: title, xLabel: xLabel, yLabel: yLabel, size: (640, 560))
        script += "set palette defined (0 '#f7fbff', 1 '#6baed6', 2 '#08306b')\nunset key\nset tics nomirror\n"
        script +=
            "set xtics ("
            + columnLabels.enumerated().map { "\(Gnuplot.quoted($0.element)) \($0.offset)" }.joined(separator: ", ")
            + ") noenhanced\n"
        // Row 0 at the top, as confusion matrices are read.
        script +=
            "set ytics ("
            + rowLabels.enumerated().map { "\(Gnuplot.quoted($0.element)) \(rowLabels.count - 1 - $0.offset)" }.joined(
                separator: ", ") + ") noenhanced\n"
        script +=
            "set xrange [-0.5:\(Double(columnLabels.count) - 0.5)]\nset yrange [-0.5:\(Double(rowLabels.count) - 0.5)]\n"
        let peak = values.joined().max() ?? 1
        script += "$cells << EOD\n"
        for (r, row) in values.enumerated() {
            for (c, v) in row.enumerated() { script += "\(c) \(rowLabels.count - 1 - r) \(v)\n" }
        }
        script += "EOD\n"
        script +=
            "plot $cells using 1:2:3 with image, $cells using 1:2:(sprintf('\(format)', $3)):($3 > \(peak / 2) ? 0xffffff : 0x000000) with labels tc rgb variable font ',14'\n"
        try Gnuplot.render(script, to: output)
    }
}

enum Chart {
    static func header(title: String, xLabel: String, yLabel: String, size: (width: Int, height: Int) = (900, 480))
        -> String
    {
        """
        set terminal pngcairo size \(size.width),\(size.height) font 'DejaVu Sans,10'
        set output $OUTPUT
        set title \(Gnuplot.quoted(title)) noenhanced
        set xlabel \(Gnuplot.quoted(xLabel)) noenhanced
        set ylabel \(Gnuplot.quoted(yLabel)) noenhanced
        set grid ytics lc rgb '#dddddd'
        set key top right noenhanced
        set tics out nomirror

        """
    }
}

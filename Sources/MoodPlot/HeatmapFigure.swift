import Foundation

/// A picture of a matrix with a colour bar: spectrograms (time x frequency).
public struct HeatmapFigure {
    /// Row-major values, `rows x columns`; row 0 is drawn at the bottom.
    public var values: [Float]
    public var rows: Int
    public var columns: Int
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var colourLabel: String
    /// Width of one column in x units (e.g. hopLength / sampleRate seconds).
    public var columnWidth: Double = 1
    /// Labelled y tics: (row position, label).
    public var yTics: [(Double, String)] = []
    public var size: (width: Int, height: Int) = (1000, 420)

    public init(
        values: [Float], rows: Int, columns: Int, title: String, xLabel: String, yLabel: String,
        colourLabel: String, columnWidth: Double = 1, yTics: [(Double, String)] = []
    ) {
        precondition(values.count == rows * columns, "values must hold rows x columns numbers")
        self.values = values
        self.rows = rows
        self.columns = columns
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.colourLabel = colourLabel
        self.columnWidth = columnWidth
        self.yTics = yTics
    }

    /// The gnuplot script, reading the values from `dataPath`.
    public func script(dataPath: String) -> String {
        var lines = [
            "set terminal pngcairo size \(size.width),\(size.height) font 'DejaVu Sans,10'",
            "set output $OUTPUT",
            "set title \(Gnuplot.quoted(title)) noenhanced",
            "set xlabel \(Gnuplot.quoted(xLabel)) noenhanced",
            "set ylabel \(Gnuplot.quoted(yLabel)) noenhanced",
            "set cblabel \(Gnuplot.quoted(colourLabel)) noenhanced",
            "set xrange [\(-columnWidth / 2):\(Double(columns) * columnWidth - columnWidth / 2)]",
            "set yrange [-0.5:\(Double(rows) - 0.5)]",
            "set palette defined (0 '#000004', 1 '#3b0f70', 2 '#8c2981', 3 '#de4968', 4 '#fe9f6d', 5 '#fcfdbf')",
            "set tics out nomirror",
        ]
        if !yTics.isEmpty {
            lines.append("set ytics (" + yTics.map { "\(Gnuplot.quoted($0.1)) \($0.0)" }.joined(separator: ", ") + ")")
        }
        lines.append(
            "plot \(Gnuplot.quoted(dataPath)) binary array=(\(columns),\(rows)) format='%float32' dx=\(columnWidth) dy=1 with image notitle"
        )
        return lines.joined(separator: "\n") + "\n"
    }

    /// Draws the figure as a PNG at `output`.
    public func render(to output: URL) throws {
        let data = try Gnuplot.binaryFile(values)
        defer { try? FileManager.default.removeItem(at: data) }
        try Gnuplot.render(script(dataPath: data.path), to: output)
    }
}

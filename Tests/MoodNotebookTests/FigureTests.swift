import Foundation
import MoodPlot
import Testing

/// Figures that diff cleanly and draw what they say.
@Suite(.enabled(if: Gnuplot.executable != nil, "gnuplot not installed (scripts/setup)"))
struct FigureTests {
    /// The same input gives the same PNG bytes, so committed figures change only when their data does.
    @Test func sameInputSameBytes() throws {
        let dir = try temporaryFolder("figures")
        defer { try? FileManager.default.removeItem(at: dir) }
        var bars = BarChart(
            title: "rates", yLabel: "rate", categories: ["happy 1", "sad 1"],
            groups: [("ours", [0.8, 0.3]), ("thesis", [0.7, 0.4])])
        bars.intervals = [[(0.7, 0.9), (0.2, 0.45)], [(0.7, 0.7), (0.4, 0.4)]]
        let histogram = Histogram(
            title: "scores", xLabel: "score", series: [("all", (0..<500).map { Double($0 % 97) / 97 })], bins: 20,
            range: 0...1)
        for (name, draw) in [("bars", { try bars.render(to: $0) }), ("histogram", { try histogram.render(to: $0) })]
            as [(String, (URL) throws -> Void)]
        {
            let a = dir.appendingPathComponent("\(name)-a.png"), b = dir.appendingPathComponent("\(name)-b.png")
            try draw(a)
            try draw(b)
            #expect(try Data(contentsOf: a) == Data(contentsOf: b), "\(name): two renderings differ in bytes")
        }
    }

    /// Every value lands in a bin, the edges included (the last bin is not lost).
    @Test func histogramCountsEveryValue() {
        let h = Histogram(title: "", xLabel: "", series: [], bins: 4, range: 0...1)
        #expect(h.counts([0, 0.1, 0.25, 0.5, 0.74, 0.99, 1.0]) == [2, 1, 2, 2])
    }
}

import Foundation
import MoodPlot
import Testing

/// Hostile names (a file name is any bytes but `/` and NUL) must reach gnuplot only as data.
@Suite(.enabled(if: Gnuplot.executable != nil, "gnuplot not installed (scripts/setup)"))
struct GnuplotInjectionTests {
    /// Strings that would end a gnuplot string or line, run a command, or expand a macro.
    static func hostile(_ marker: URL) -> [String] {
        let touch = "system \"touch \(marker.path)\""
        return [
            "a\n\(touch)\nb", "a'\n\(touch)\n'b", "a\r\(touch)\rb", "`touch \(marker.path)`", "x\\", "x\\\n\(touch)",
            "@touch \u{2028}\(touch)", "nul\u{0}\(touch)", "tab\there\u{7f}",
        ]
    }

    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mooddex-gnuplot-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func hostileTitlesAndLabelsRunNothing() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let marker = folder.appendingPathComponent("INJECTED")
        for (i, text) in Self.hostile(marker).enumerated() {
            var figure = HeatmapFigure(
                values: [0, 1, 2, 3], rows: 2, columns: 2, title: text, xLabel: text, yLabel: text,
                colourLabel: text, yTics: [(0, text)])
            figure.size = (200, 120)
            let output = folder.appendingPathComponent("h\(i).png")
            try figure.render(to: output)
            #expect(FileManager.default.fileExists(atPath: output.path), "no figure for \(text.debugDescription)")
            let plot = LinePlot(title: text, xLabel: text, yLabel: text, series: [.init(text, [(0, 1), (1, 2)])])
            try plot.render(to: folder.appendingPathComponent("l\(i).png"))
            let bars = BarChart(title: text, yLabel: text, categories: [text, "ok"], groups: [(text, [1, 2])])
            try bars.render(to: folder.appendingPathComponent("b\(i).png"))
        }
        #expect(!FileManager.default.fileExists(atPath: marker.path), "a hostile title ran a gnuplot command")
    }

    @Test func quotedTextCannotEndTheStringOrTheLine() {
        for text in Self.hostile(URL(fileURLWithPath: "/tmp/x")) {
            let literal = Gnuplot.quoted(text)
            #expect(
                !literal.unicodeScalars.contains {
                    $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}"
                })
            // Inside, every quote is doubled: the literal is one string token.
            let inner = literal.dropFirst().dropLast()
            #expect(
                literal.first == "'" && literal.last == "'"
                    && inner.replacingOccurrences(of: "''", with: "").allSatisfy { $0 != "'" })
        }
    }

    /// The output path never enters the script, so a folder or file named with a newline gets its figure.
    @Test func outputPathWithANewlineGetsItsFigure() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let marker = folder.appendingPathComponent("INJECTED")
        let sub = folder.appendingPathComponent("odd\nsystem \"touch \(marker.path)\"\n'dir")
        let output = sub.appendingPathComponent("a\n'b.png")
        var figure = HeatmapFigure(
            values: [0, 1, 2, 3], rows: 2, columns: 2, title: "t", xLabel: "x", yLabel: "y", colourLabel: "c")
        figure.size = (200, 120)
        try figure.render(to: output)
        #expect(FileManager.default.fileExists(atPath: output.path))
        #expect(!FileManager.default.fileExists(atPath: marker.path))
    }
}

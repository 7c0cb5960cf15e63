import Foundation
import MoodCore

/// Whether a report's markdown and figures are still what its run wrote: `mooddex check`
/// fails a report edited by hand (a number changed in the text) or one whose figure is lost.
///
/// Three checks per `reports/<name>.json`:
/// 1. every metric in the JSON appears as its row of the markdown's metric table, formatted as
///    the notebook formats it (this works for reports of any age);
/// 2. when the JSON records `report_sha256`, the markdown's bytes still have that digest;
/// 3. every figure the markdown shows exists, and when the JSON records `figures` digests,
///    each PNG still has its digest.
public enum ReportConsistency {
    public struct Problem: Sendable, CustomStringConvertible {
        public var report: String
        public var message: String
        public var description: String { "\(report): \(message)" }
    }

    /// Problems of every `<name>.json` report (or only the `.quick` ones) in `reports`.
    public static func check(reports: URL, quick: Bool = false) -> [Problem] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: reports.path)) ?? []).sorted()
            .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".run.json") && $0.hasSuffix(".quick.json") == quick }
        return names.flatMap { check(summary: reports.appendingPathComponent($0)) }
    }

    public static func check(summary url: URL) -> [Problem] {
        let name = url.lastPathComponent
        let summary: ReportSummary
        do { summary = try ReportSummary(contentsOf: url) } catch {
            return [Problem(report: name, message: "\(error)")]
        }
        let markdownURL = url.deletingPathExtension().appendingPathExtension("md")
        guard let markdownData = FileManager.default.contents(atPath: markdownURL.path) else {
            return [Problem(report: name, message: "its markdown \(markdownURL.lastPathComponent) is missing")]
        }
        let markdown = String(decoding: markdownData, as: UTF8.self)
        var problems = [Problem]()
        for metric in summary.metrics {
            let value = Notebook.formatted(metric.value, unit: metric.unit)
            let row =
                "| \(metric.label) | \(value) | \(metric.thesis.map { Notebook.formatted($0, unit: metric.unit) } ?? "") |"
            if !markdown.contains(row) {
                problems.append(
                    Problem(
                        report: markdownURL.lastPathComponent,
                        message:
                            "the metric table does not show \(metric.key) = \(value) as the run recorded it (edited by hand?)"
                    ))
            }
        }
        if let digest = summary.report_sha256, SHA256.hex(markdownData) != digest {
            problems.append(
                Problem(
                    report: markdownURL.lastPathComponent,
                    message: "changed since its run wrote it (SHA-256 differs from report_sha256)"))
        }
        let digests = summary.figures ?? [:]
        for path in figurePaths(markdown) {
            let figure = URL(fileURLWithPath: path, relativeTo: url.deletingLastPathComponent()).standardizedFileURL
            guard FileManager.default.fileExists(atPath: figure.path) else {
                problems.append(
                    Problem(report: markdownURL.lastPathComponent, message: "shows \(path), which does not exist"))
                continue
            }
            if let expected = digests[figure.lastPathComponent], (try? SHA256.hex(ofFile: figure.path)) != expected {
                problems.append(
                    Problem(report: markdownURL.lastPathComponent, message: "\(path) changed since its run drew it"))
            }
        }
        return problems
    }

    /// Targets of `![caption](path)` images in `markdown`.
    static func figurePaths(_ markdown: String) -> [String] {
        markdown.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("!["), let open = line.range(of: "]("), line.hasSuffix(")") else { return nil }
            return String(line[open.upperBound..<line.index(before: line.endIndex)])
        }
    }
}

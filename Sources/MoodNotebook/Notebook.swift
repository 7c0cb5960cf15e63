import Foundation
import MoodCore

/// The literate record of one experiment run: prose, tables, figures and metrics, in the
/// order the experiment produced them, written as
/// - `reports/<name>.md`: the report a reviewer reads; identical for identical results,
///   so two runs diff cleanly (no timings, dates or host names in it);
/// - `reports/<name>.json`: metrics with the thesis's values, parameters, seed, data hashes;
/// - `reports/<name>.run.json`: what varies between runs: commit, machine, durations;
/// - `figures/<name>-*.png` (`figures/<name>.quick-*.png` for `--quick` runs).
/// Every file is written atomically.
public final class Notebook {
    public let experiment: Experiment.Type
    public let options: RunOptions
    private var cells = [String]()
    public private(set) var metrics = [Metric]()
    private var parameters = [(String, String)]()
    private var dataFiles = [(String, String)]()
    private var timings = [(String, Double)]()
    private var figureNames = Set<String>()
    private let started = Date()
    /// The commit and whether the tree had uncommitted changes, taken when the run starts
    /// (a commit made while a long run goes on must not be credited with its numbers).
    private let source = (
        commit: Notebook.git(["rev-parse", "--short", "HEAD"]),
        dirty: Notebook.git(["status", "--porcelain", "--", "Sources", "experiments", "Package.swift"]).map {
            !$0.isEmpty
        }
    )

    /// A number the experiment reports, with the thesis's figure beside it when there is one.
    public struct Metric: Codable, Sendable {
        public var key: String
        public var label: String
        public var value: Double
        public var thesis: Double?
        /// How the number reads: `percent` (0.7275 -> 72.75 %), `count` (18486) or `plain` (0.7258).
        public var unit: String
        public var note: String?
    }

    public init(_ experiment: Experiment.Type, options: RunOptions) {
        self.experiment = experiment
        self.options = options
    }

    public var quick: Bool { options.quick }
    public var seed: UInt64 { options.seed }
    public var threads: Int { options.threads }
    public var dataRoot: URL { options.dataRoot }

    // MARK: - Cells

    /// Markdown prose, as written (indentation common to all lines removed).
    public func markdown(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let indent =
            lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { $0.prefix { $0 == " " }.count }.min() ?? 0
        cells.append(
            lines.map { String($0.dropFirst(min(indent, $0.count))) }.joined(separator: "\n")
                .trimmingCharacters(in: .newlines))
    }

    public func table(_ headers: [String], _ rows: [[String]], alignRight: Bool = true) {
        var lines = ["| " + headers.joined(separator: " | ") + " |"]
        lines.append(
            "|" + headers.enumerated().map { $0.offset == 0 || !alignRight ? "---" : "---:" }.joined(separator: "|")
                + "|")
        for row in rows {
            lines.append(
                "| " + row.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |")
        }
        cells.append(lines.joined(separator: "\n"))
    }

    /// Draws `figures/<experiment>-<name>.png` with `draw` and places it here with its caption.
    public func figure(_ name: String, caption: String, draw: (URL) throws -> Void) throws {
        precondition(!figureNames.contains(name), "figure \(name) drawn twice")
        figureNames.insert(name)
        // Quick runs draw beside, never over, the committed figures of full runs.
        let file = "\(experiment.name)\(quick ? ".quick" : "")-\(name).png"
        try draw(options.figures.appendingPathComponent(file))
        let relative =
            options.figures.lastPathComponent == "figures"
            ? "../figures/\(file)" : options.figures.appendingPathComponent(file).path
        cells.append("![\(caption)](\(relative))\n\n*\(caption)*")
    }

    /// Records a metric and shows it in the report's metric table.
    public func metric(
        _ key: String, _ value: Double, label: String, thesis: Double? = nil, unit: String = "percent",
        note: String? = nil
    ) {
        metrics.append(Metric(key: key, label: label, value: value, thesis: thesis, unit: unit, note: note))
    }

    public func parameter(_ key: String, _ value: CustomStringConvertible) { parameters.append((key, "\(value)")) }

    /// Records a data file's SHA-256, so a reader knows exactly what was used.
    public func dataFile(_ url: URL) throws {
        let relative =
            url.path.hasPrefix(dataRoot.path)
            ? String(url.path.dropFirst(dataRoot.path.count + 1)) : url.lastPathComponent
        dataFiles.append((relative, try SHA256.hex(ofFile: url.path)))
    }

    /// A duration for the run record (never in the pinned report).
    public func timing(_ label: String, seconds: Double) { timings.append((label, seconds)) }

    // MARK: - Output

    public static func formatted(_ value: Double, unit: String) -> String {
        guard value.isFinite else { return "\(value)" }
        switch unit {
        case "percent": return String(format: "%.2f %%", 100 * value)
        case "count": return String(format: "%.0f", value)
        default: return String(format: "%.4f", value)
        }
    }

    /// Writes the report, the metrics JSON and the run record.
    public func write() throws {
        var text = [
            "# \(experiment.title)",
            "*Thesis section \(experiment.thesisSection). Generated from `\(experiment.source)` by `mooddex run \(experiment.name)\(quick ? " --quick" : "")` with seed \(seed); do not edit by hand. Timings and machine details are in `\(experiment.name).run.json`.*",
        ]
        text += cells
        if !metrics.isEmpty {
            var lines = [
                "## Metrics", "", "| metric | ours | thesis or published | what differs |", "|---|---:|---:|---|",
            ]
            for m in metrics {
                lines.append(
                    "| \(m.label) | \(Self.formatted(m.value, unit: m.unit)) | \(m.thesis.map { Self.formatted($0, unit: m.unit) } ?? "") | \(m.note ?? "") |"
                )
            }
            text.append(lines.joined(separator: "\n"))
        }
        var provenance = ["## Provenance", ""]
        provenance.append(
            "- seed: \(seed)\(quick ? " (quick run)" : ""), \(threads) worker thread\(threads == 1 ? "" : "s")")
        for (k, v) in parameters { provenance.append("- \(k): \(v)") }
        for (file, hash) in dataFiles { provenance.append("- data `\(file)`: SHA-256 `\(hash)`") }
        text.append(provenance.joined(separator: "\n"))
        let reportName = experiment.name + (quick ? ".quick" : "")
        let markdown = text.joined(separator: "\n\n") + "\n"
        try AtomicFile.write(markdown, to: options.reports.appendingPathComponent("\(reportName).md"))
        // Digests of what was just written, so `mooddex check` finds hand edits and lost figures.
        var figureDigests = [String: String]()
        for name in figureNames {
            let file = "\(experiment.name)\(quick ? ".quick" : "")-\(name).png"
            figureDigests[file] = try SHA256.hex(ofFile: options.figures.appendingPathComponent(file).path)
        }

        let summary = ReportSummary(
            experiment: experiment.name, title: experiment.title, thesis_section: experiment.thesisSection,
            quick: quick, seed: seed, metrics: metrics,
            parameters: Dictionary(parameters, uniquingKeysWith: { $1 }),
            data: Dictionary(dataFiles, uniquingKeysWith: { $1 }),
            report_sha256: SHA256.hex(Data(markdown.utf8)), figures: figureDigests)
        try AtomicFile.write(
            try Records.encoder.encode(summary), to: options.reports.appendingPathComponent("\(reportName).json"))

        let run = RunRecord(
            commit: source.commit ?? "unknown", dirty: source.dirty ?? true,
            date: ISO8601DateFormatter().string(from: started),
            seconds: Date().timeIntervalSince(started), machine: Self.machine(),
            timings: Dictionary(timings, uniquingKeysWith: { $0 + $1 }), packages: Self.packageVersions(),
            environment: Self.numericEnvironment())
        try AtomicFile.write(
            try Records.encoder.encode(run), to: options.reports.appendingPathComponent("\(reportName).run.json"))
    }

    /// Output of a git command run in the current folder, or nil when git cannot tell.
    static func git(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0
            ? String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    /// Debian packages whose version can change a number or a figure: the decoders, FFT, BLAS,
    /// gnuplot and the music the segment studies read (only those installed are listed).
    static let provenancePackages = [
        "libmpg123-0", "libmpg123-0t64", "libfftw3-single3", "libopenblas0-pthread", "libopenblas0-openmp",
        "libopenblas0-serial", "libvorbisfile3", "gnuplot-nox", "gnuplot-data", "fonts-dejavu-core",
        "wesnoth-1.16-music", "extremetuxracer-data", "flare-game", "swiftlang",
    ]

    public static func packageVersions() -> [String: String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dpkg-query")
        process.arguments = ["-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\n"] + provenancePackages
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return [:] }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var versions = [String: String]()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            if fields.count == 3, fields[0].hasPrefix("ii") { versions[String(fields[1])] = String(fields[2]) }
        }
        return versions
    }

    /// Environment variables that change BLAS kernels or thread counts, as set for this run.
    static func numericEnvironment() -> [String: String] {
        let names = ["OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"]
        return ProcessInfo.processInfo.environment.filter { names.contains($0.key) }
    }

    static func machine() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        return
            "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.operatingSystemVersionString)"
    }
}

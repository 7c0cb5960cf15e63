import Foundation
import MoodCore

/// `reports/<name>.json`: what a run measured, in a form other tools read back (the pinned
/// content: identical for identical results).
public struct ReportSummary: Codable, Sendable {
    public var experiment: String
    public var title: String
    public var thesis_section: String
    public var quick: Bool
    public var seed: UInt64
    public var metrics: [Notebook.Metric]
    public var parameters: [String: String]
    /// Data file (relative to the data root) -> SHA-256.
    public var data: [String: String]
    /// SHA-256 of the markdown report as written (absent in reports made before it was recorded).
    public var report_sha256: String?
    /// Figure file name -> SHA-256 of the PNG as drawn.
    public var figures: [String: String]?

    /// Reads `url`; an error names the file and what is wrong with it.
    public init(contentsOf url: URL) throws {
        let data = try RegularFile.contents(url.path, what: "a report summary")
        do { self = try Records.decoder.decode(Self.self, from: data) } catch {
            throw InputError(url.path, "not a readable report summary: \(error)")
        }
    }

    public init(
        experiment: String, title: String, thesis_section: String, quick: Bool, seed: UInt64,
        metrics: [Notebook.Metric],
        parameters: [String: String], data: [String: String], report_sha256: String?, figures: [String: String]?
    ) {
        (self.experiment, self.title, self.thesis_section, self.quick, self.seed) = (
            experiment, title, thesis_section, quick, seed
        )
        (self.metrics, self.parameters, self.data, self.report_sha256, self.figures) = (
            metrics, parameters, data, report_sha256, figures
        )
    }
}

/// `reports/<name>.run.json`: what varies between runs of the same code and data.
public struct RunRecord: Codable, Sendable {
    public var commit: String
    /// Whether Sources, experiments or Package.swift had uncommitted changes when the run started.
    public var dirty: Bool
    public var date: String
    public var seconds: Double
    public var machine: String
    public var timings: [String: Double]
    /// Debian package -> version, for the packages that can change a number or a figure.
    public var packages: [String: String]?
    /// BLAS-related environment variables set for the run.
    public var environment: [String: String]?
}

enum Records {
    /// Sorted keys and indentation, so that two records of the same content diff cleanly;
    /// a non-finite number (a failed metric) is written as a string rather than failing the write.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }()
}

extension ReportSummary {
    /// Metric key -> value.
    public var values: [String: Double] { Dictionary(metrics.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }) }
}

import Foundation
import MoodCore

/// Pinned bands for experiment metrics (`experiments/expectations.json`), tinygrad-style:
/// a band the value must stay in, with the value observed when the band was set beside it.
///
/// Format: `{ "<experiment>": { "<metric key>": { "min": .., "max": .., "observed": ..,
/// "quick_min": .., "quick_max": .., "full_only": true } } }` (quick bounds apply to `--quick`
/// runs; without them the full bounds apply to both; `full_only` metrics are not checked in quick runs).
///
/// A band derived from a measured spread carries it: `standard_error` (of the reported figure,
/// `standard_error_from` says how it was measured) and the band must lie within the observed
/// value ± 3 standard errors. `baseline` is a trivial model's level (chance, the majority class,
/// predicting nothing), which the band must exclude. ``designProblems()`` checks both, and that a
/// 5-point drop leaves every band with a standard error unless it says `"headline": false`.
public struct Expectations {
    public struct Band: Codable, Sendable {
        public var min: Double
        public var max: Double
        public var observed: Double?
        public var quick_min: Double?
        public var quick_max: Double?
        /// Not computed by `--quick` runs (e.g. an ablation they leave out).
        public var full_only: Bool?
        /// The standard error of the reported figure, from a measured spread (seeds, folds).
        public var standard_error: Double?
        /// How `standard_error` was measured (a sentence for reviewers).
        public var standard_error_from: String?
        /// A trivial model's level on the same data, which the band must not contain.
        public var baseline: Double?
        /// `false` for a descriptive figure whose measured spread is itself wider than a 5-point
        /// regression (29 tracks of game music, say): its band still comes from that spread, but
        /// the 5-point rule of ``designProblems()`` is not asked of it. Headline figures leave it out.
        public var headline: Bool?
        /// Why the band is what it is, for reviewers (not read by the checks).
        public var note: String?
    }

    public var bands: [String: [String: Band]]

    public init(contentsOf url: URL) throws {
        let data = try RegularFile.contents(url.path, what: "the expectations file")
        do { bands = try JSONDecoder().decode([String: [String: Band]].self, from: data) } catch {
            throw InputError(url.path, "not a valid expectations file: \(error)")
        }
    }

    public struct Finding: Sendable {
        public var experiment: String
        public var metric: String
        public var value: Double?
        public var low: Double
        public var high: Double
        public var observed: Double?
        public var passed: Bool
        public var problem: String?
    }

    /// Compares each pinned metric with the run summary `reports/<experiment>[.quick].json` in `folder`.
    public func check(reports folder: URL, quick: Bool = false) -> [Finding] {
        var findings = [Finding]()
        for experiment in bands.keys.sorted() {
            let file = folder.appendingPathComponent("\(experiment)\(quick ? ".quick" : "").json")
            let values = Self.metricValues(file)
            for key in bands[experiment]!.keys.sorted() {
                let band = bands[experiment]![key]!
                if quick && band.full_only == true { continue }
                let low = quick ? (band.quick_min ?? band.min) : band.min
                let high = quick ? (band.quick_max ?? band.max) : band.max
                guard let values else {
                    findings.append(
                        Finding(
                            experiment: experiment, metric: key, value: nil, low: low, high: high,
                            observed: band.observed,
                            passed: false,
                            problem:
                                "no report \(file.lastPathComponent): run `mooddex run \(experiment)\(quick ? " --quick" : "")`"
                        ))
                    continue
                }
                guard let value = values[key] else {
                    findings.append(
                        Finding(
                            experiment: experiment, metric: key, value: nil, low: low, high: high,
                            observed: band.observed,
                            passed: false, problem: "the report has no metric \(key)"))
                    continue
                }
                findings.append(
                    Finding(
                        experiment: experiment, metric: key, value: value, low: low, high: high,
                        observed: band.observed,
                        passed: value >= low && value <= high, problem: nil))
            }
        }
        return findings
    }

    /// Bands that cannot catch what they are for: one containing its trivial baseline, one
    /// wider than the observed value ± 3 measured standard errors (rounding allowed: 0.001), one
    /// whose standard error lets a 5-point regression through, one missing its observed value.
    public func designProblems() -> [String] {
        var problems = [String]()
        for experiment in bands.keys.sorted() {
            for key in bands[experiment]!.keys.sorted() {
                let band = bands[experiment]![key]!, name = "\(experiment) / \(key)"
                if let baseline = band.baseline, baseline >= band.min, baseline <= band.max {
                    problems.append("\(name): the band [\(band.min), \(band.max)] contains the baseline \(baseline)")
                }
                guard let se = band.standard_error else { continue }
                guard let observed = band.observed else {
                    problems.append("\(name): a standard error without the observed value it is around")
                    continue
                }
                let reach = 3 * se + 0.001
                if band.min < observed - reach || band.max > observed + reach {
                    problems.append(
                        "\(name): the band [\(band.min), \(band.max)] is wider than \(observed) ± 3 × \(se)")
                }
                if band.min <= observed - 0.05 && band.headline != false {
                    problems.append("\(name): a 5-point drop from \(observed) stays inside the band")
                }
                if band.full_only != true && (band.quick_min == nil || band.quick_max == nil) {
                    problems.append(
                        "\(name): quick runs (fewer seeds, epochs or clips) would be held to this measured band: give quick_min and quick_max, or full_only"
                    )
                }
                if band.standard_error_from == nil {
                    problems.append("\(name): standard_error_from does not say how the spread was measured")
                }
            }
        }
        return problems
    }

    static func metricValues(_ url: URL) -> [String: Double]? {
        (try? ReportSummary(contentsOf: url))?.values
    }

    /// A readable table of findings, failures first.
    public static func table(_ findings: [Finding]) -> String {
        var lines = ["status  experiment / metric                                  value      band"]
        for f in findings.sorted(by: { !$0.passed && $1.passed }) {
            let name = "\(f.experiment) / \(f.metric)".padding(toLength: 52, withPad: " ", startingAt: 0)
            let value = f.value.map { String(format: "%.4f", $0) } ?? "-"
            let status = f.passed ? "ok    " : "FAIL  "
            lines.append(
                "\(status)  \(name) \(value.padding(toLength: 10, withPad: " ", startingAt: 0)) [\(String(format: "%.4f", f.low)), \(String(format: "%.4f", f.high))]"
                    + (f.problem.map { "  \($0)" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}

import Foundation
import MoodCore
import MoodExperiments
import MoodNotebook
import Testing

/// A tiny experiment that exercises every kind of cell without data.
enum TinyExperiment: Experiment {
    static let name = "tiny"
    static let title = "A tiny experiment"
    static let thesisSection = "0.0"
    static let requirements: [DataRequirement] = []

    static func run(_ nb: Notebook) throws {
        nb.markdown(
            """
            Some prose, indented in the source,
            read as markdown.
            """)
        nb.table(["model", "accuracy"], [["a", "0.50"], ["b | c", "0.75"]])
        nb.metric("accuracy", 0.7857, label: "accuracy", thesis: 0.7857)
        nb.metric("auc", 0.7258, label: "ROC-AUC", unit: "plain")
        nb.parameter("epochs", 3)
        nb.timing("fit", seconds: 1.5)
    }
}

func temporaryFolder(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "mooddex-nb-\(getpid())-\(label)-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct NotebookTests {
    /// The report of the tiny experiment equals the committed snapshot; set
    /// MOODDEX_RECORD_SNAPSHOTS=1 to write a new one into Tests/MoodNotebookTests/Snapshots.
    @Test func reportMatchesSnapshot() throws {
        let folder = try temporaryFolder("snapshot")
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = RunOptions(
            seed: 7, dataRoot: folder, cacheDirectory: folder, reports: folder, figures: folder, showProgress: false)
        guard case .written = ExperimentRunner.run(TinyExperiment.self, options: options) else {
            Issue.record("run failed"); return
        }
        let report = try String(contentsOf: folder.appendingPathComponent("tiny.md"), encoding: .utf8)
        if ProcessInfo.processInfo.environment["MOODDEX_RECORD_SNAPSHOTS"] != nil {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "Snapshots/tiny.md")
            try AtomicFile.write(report, to: source)
        }
        let snapshot = try String(
            contentsOf: Bundle.module.url(forResource: "Snapshots/tiny", withExtension: "md")!, encoding: .utf8)
        #expect(report == snapshot)
        // Timings stay out of the pinned report and go to the run record.
        #expect(!report.contains("1.5"))
        let run = try String(contentsOf: folder.appendingPathComponent("tiny.run.json"), encoding: .utf8)
        #expect(run.contains("\"fit\" : 1.5"))
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("tiny.json")))
            as! [String: Any]
        #expect((summary["metrics"] as! [[String: Any]]).count == 2)
    }

    @Test func missingDataIsSkippedWithHowToGetIt() throws {
        enum NeedsData: Experiment {
            static let name = "needs-data"
            static let title = "needs data"
            static let thesisSection = "0"
            static let requirements = [DataRequirement("nowhere/file.csv", howToGet: "ask the authors")]
            static func run(_ nb: Notebook) throws { Issue.record("must not run") }
        }
        let folder = try temporaryFolder("skip")
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = ExperimentRunner.run(
            NeedsData.self,
            options: RunOptions(dataRoot: folder, cacheDirectory: folder, reports: folder, figures: folder))
        guard case .skipped(let reason) = outcome else { Issue.record("expected a skip"); return }
        #expect(reason.contains("nowhere/file.csv") && reason.contains("ask the authors"))
    }

    /// A run stopped by Ctrl-C (the experiment throws `CancellationError`) is reported as
    /// interrupted, not as a failure, and writes no report.
    @Test func anInterruptedRunWritesNoReport() throws {
        enum Stopped: Experiment {
            static let name = "stopped"
            static let title = "stopped"
            static let thesisSection = "0"
            static let requirements: [DataRequirement] = []
            static func run(_ nb: Notebook) throws {
                nb.markdown("half a story")
                throw CancellationError()
            }
        }
        let folder = try temporaryFolder("interrupted")
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = ExperimentRunner.run(
            Stopped.self,
            options: RunOptions(dataRoot: folder, cacheDirectory: folder, reports: folder, figures: folder))
        guard case .interrupted = outcome else { Issue.record("expected interrupted, got \(outcome)"); return }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("stopped.md").path))
    }

    @Test func checkFailsWhenAMetricLeavesItsBand() throws {
        let folder = try temporaryFolder("check")
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = RunOptions(
            seed: 7, dataRoot: folder, cacheDirectory: folder, reports: folder, figures: folder, showProgress: false)
        _ = ExperimentRunner.run(TinyExperiment.self, options: options)
        let url = folder.appendingPathComponent("expectations.json")
        try #"{"tiny": {"accuracy": {"min": 0.78, "max": 0.79}, "auc": {"min": 0.73, "max": 0.8, "observed": 0.75}}}"#
            .write(to: url, atomically: true, encoding: .utf8)
        let findings = try Expectations(contentsOf: url).check(reports: folder)
        #expect(findings.map(\.passed) == [true, false])
        #expect(Expectations.table(findings).contains("FAIL"))
        try #"{"tiny": {"missing": {"min": 0, "max": 1}}, "absent": {"x": {"min": 0, "max": 1}}}"#.write(
            to: url, atomically: true, encoding: .utf8)
        let missing = try Expectations(contentsOf: url).check(reports: folder)
        #expect(missing.allSatisfy { !$0.passed && $0.problem != nil })
        try "not json".write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try Expectations(contentsOf: url) }
    }

    /// A band that holds its trivial baseline, or reaches past ± 3 measured standard errors, or
    /// lets a 5-point drop through, is named; a band derived properly is not, nor a descriptive
    /// figure's (`"headline": false`) that its measured spread makes wider than 5 points. A measured
    /// band without quick bounds is named too: quick runs would be held to it.
    @Test func bandsThatCannotCatchARegressionAreNamed() throws {
        let url = try temporaryFolder("bands").appendingPathComponent("expectations.json")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try #"""
        {"e": {
          "good": {"min": 0.62, "max": 0.68, "observed": 0.65, "standard_error": 0.01, "standard_error_from": "folds", "baseline": 0.25,
                   "quick_min": 0.4, "quick_max": 0.7},
          "quick_held_to_full": {"min": 0.62, "max": 0.68, "observed": 0.65, "standard_error": 0.01, "standard_error_from": "folds"},
          "holds_baseline": {"min": 0.7, "max": 0.93, "observed": 0.80, "baseline": 0.919},
          "too_wide": {"min": 0.60, "max": 0.72, "observed": 0.65, "standard_error": 0.01, "standard_error_from": "folds"},
          "loose_error": {"min": 0.55, "max": 0.75, "observed": 0.65, "standard_error": 0.04, "standard_error_from": "folds"},
          "unsourced": {"min": 0.62, "max": 0.68, "observed": 0.65, "standard_error": 0.01},
          "descriptive": {"min": 0.41, "max": 0.65, "observed": 0.53, "standard_error": 0.04,
                          "standard_error_from": "seeds", "headline": false, "note": "29 tracks", "full_only": true}
        }}
        """#.write(to: url, atomically: true, encoding: .utf8)
        let problems = try Expectations(contentsOf: url).designProblems()
        #expect(!problems.contains { $0.hasPrefix("e / good:") })
        #expect(problems.contains { $0.hasPrefix("e / holds_baseline:") && $0.contains("baseline 0.919") })
        #expect(problems.contains { $0.hasPrefix("e / too_wide:") && $0.contains("wider") })
        #expect(problems.contains { $0.hasPrefix("e / loose_error:") && $0.contains("5-point drop") })
        #expect(problems.contains { $0.hasPrefix("e / unsourced:") && $0.contains("standard_error_from") })
        #expect(problems.contains { $0.hasPrefix("e / quick_held_to_full:") && $0.contains("quick_min") })
        #expect(
            !problems.contains { $0.hasPrefix("e / descriptive:") }, "a descriptive band is held to the 5-point rule")
    }

    /// A number edited by hand in the markdown, or a figure that went missing, fails the check.
    @Test func checkFailsOnHandEditsAndMissingFigures() throws {
        let folder = try temporaryFolder("edits")
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = RunOptions(
            seed: 7, dataRoot: folder, cacheDirectory: folder, reports: folder, figures: folder, showProgress: false)
        _ = ExperimentRunner.run(TinyExperiment.self, options: options)
        #expect(ReportConsistency.check(reports: folder).isEmpty)
        let markdown = folder.appendingPathComponent("tiny.md")
        let original = try String(contentsOf: markdown, encoding: .utf8)
        try AtomicFile.write(
            original.replacingOccurrences(of: "| accuracy | 78.57 % |", with: "| accuracy | 99.92 % |"), to: markdown)
        let edited = ReportConsistency.check(reports: folder)
        #expect(edited.contains { $0.message.contains("accuracy = 78.57 %") })
        #expect(edited.contains { $0.message.contains("SHA-256") })
        // Prose edits change no metric row, but the digest still sees them.
        try AtomicFile.write(original.replacingOccurrences(of: "Some prose", with: "Other prose"), to: markdown)
        #expect(
            ReportConsistency.check(reports: folder).map(\.message) == [
                "changed since its run wrote it (SHA-256 differs from report_sha256)"
            ])
        try AtomicFile.write(original + "\n![lost](../figures/tiny-lost.png)\n", to: markdown)
        #expect(
            ReportConsistency.check(reports: folder).contains {
                $0.message == "shows ../figures/tiny-lost.png, which does not exist"
            })
    }
}

/// `--quick` runs of the experiments land inside their pinned bands (skipped without the data).
@Suite struct QuickExperimentTests {
    static let root = Locations.dataRoot()
    static let expectations = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../experiments/expectations.json").standardized

    func runQuick(_ experiment: Experiment.Type) throws {
        let folder = try temporaryFolder(experiment.name)
        defer { try? FileManager.default.removeItem(at: folder) }
        // The real cache: it holds the pretrained weights (scripts/setup), and reusing features is safe (content-keyed, atomic).
        let options = RunOptions(
            quick: true, seed: 2022, dataRoot: Self.root, cacheDirectory: Locations.cacheDirectory(), reports: folder,
            figures: folder, showProgress: false)
        switch ExperimentRunner.run(experiment, options: options) {
        case .written: break
        case .skipped(let reason): Issue.record("skipped although its data is present: \(reason)"); return
        case .failed(let message): Issue.record("failed: \(message)"); return
        case .interrupted: Issue.record("interrupted"); return
        }
        let pinned = try Expectations(contentsOf: Self.expectations)
        let findings = pinned.check(reports: folder, quick: true).filter { $0.experiment == experiment.name }
        #expect(!findings.isEmpty)
        for f in findings { #expect(f.passed, "\(f.metric) = \(f.value ?? .nan), band [\(f.low), \(f.high)]") }
        for problem in ReportConsistency.check(reports: folder, quick: true) { Issue.record("\(problem)") }
        #expect(
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(experiment.name).quick.md").path))
    }

    @Test(
        .enabled(
            if: Ch3MTGJamendoLabels.requirements.allSatisfy { $0.isPresent(in: root) },
            "MTG-Jamendo metadata absent: set MOODDEX_DATA_ROOT to a folder holding mtg-jamendo/ (see README, Data)"))
    func mtgJamendoLabels() throws { try runQuick(Ch3MTGJamendoLabels.self) }

    @Test(
        .enabled(
            if: Ch3KerasComparison.requirements.allSatisfy { $0.isPresent(in: root) },
            "Spotify moods absent: set MOODDEX_DATA_ROOT to a folder holding spotify-moods/ (see README, Data)"))
    func kerasComparison() throws { try runQuick(Ch3KerasComparison.self) }

    static let fourQPresent = Ch3FourMoods.requirements.allSatisfy { $0.isPresent(in: root) }
    static let fourQAbsent = "4Q clips absent: set MOODDEX_DATA_ROOT to a folder holding 4q/ (see README, Data)"

    @Test(.enabled(if: fourQPresent, Comment(rawValue: fourQAbsent)))
    func fourMoods() throws { try runQuick(Ch3FourMoods.self) }

    @Test(.enabled(if: fourQPresent, Comment(rawValue: fourQAbsent)))
    func multiLabel() throws { try runQuick(Ch3MultiLabel.self) }

    @Test(.enabled(if: fourQPresent, Comment(rawValue: fourQAbsent)))
    func segments() throws { try runQuick(Ch3Segments.self) }

    @Test(.enabled(if: fourQPresent, Comment(rawValue: fourQAbsent)))
    func playlists() throws { try runQuick(Ch4Playlists.self) }

    @Test(
        .enabled(
            if: Ch3ZeroShot.requirements.allSatisfy { $0.isPresent(in: root) },
            "needs Debian's wesnoth-1.16-music and the musicnn weights: run scripts/setup"))
    func zeroShot() throws { try runQuick(Ch3ZeroShot.self) }
}

/// One catalog: the executables Package.swift makes (experiments/run/*) are the catalog's experiments.
@Suite struct CatalogTests {
    @Test func everyExperimentHasItsExecutableAndNoOther() throws {
        let run = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../experiments/run"
        ).standardized
        let folders = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { !$0.hasPrefix(".") }
            .sorted()
        #expect(folders == Catalog.experiments.map { $0.name }.sorted())
        #expect(Set(Catalog.experiments.map { $0.name }).count == Catalog.experiments.count)
    }

    /// The folder a report names as its source holds the experiment's Swift files.
    @Test func everyReportNamesAFolderThatHoldsItsNarrative() throws {
        let top = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
            .standardized
        for experiment in Catalog.experiments {
            let folder = top.appendingPathComponent(experiment.source)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            #expect(
                files.contains { $0.hasSuffix(".swift") }, "\(experiment.name): no Swift file in \(experiment.source)")
        }
    }
}

/// The same command twice gives the same report: markdown, metrics and figure bytes
/// (compared through the digests the run records).
@Suite struct RerunTests {
    @Test(
        .enabled(
            if: Ch3MTGJamendoLabels.requirements.allSatisfy { $0.isPresent(in: Locations.dataRoot()) },
            "MTG-Jamendo metadata absent: see README, Data"))
    func aQuickReportRebuiltIsByteIdentical() throws {
        let folder = try temporaryFolder("rerun")
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = RunOptions(
            quick: true, seed: 2022, dataRoot: Locations.dataRoot(), cacheDirectory: folder, reports: folder,
            figures: folder, showProgress: false)
        var summaries = [ReportSummary]()
        for _ in 0..<2 {
            guard case .written = ExperimentRunner.run(Ch3MTGJamendoLabels.self, options: options) else {
                Issue.record("run failed"); return
            }
            summaries.append(
                try ReportSummary(contentsOf: folder.appendingPathComponent("ch3-mtg-jamendo-labels.quick.json")))
        }
        #expect(summaries[0].report_sha256 != nil && summaries[0].report_sha256 == summaries[1].report_sha256)
        #expect(summaries[0].figures == summaries[1].figures && !(summaries[0].figures ?? [:]).isEmpty)
        #expect(summaries[0].values == summaries[1].values)
    }
}

/// The committed reports agree with the pinned bands (what `mooddex check` enforces).
@Suite struct CommittedReportsTests {
    @Test func committedReportsLieInTheirBands() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
            .standardized
        let pinned = try Expectations(contentsOf: repository.appendingPathComponent("experiments/expectations.json"))
        let findings = pinned.check(reports: repository.appendingPathComponent("reports"))
        for f in findings {
            #expect(
                f.passed,
                "\(f.experiment) / \(f.metric): \(f.problem ?? "\(f.value ?? .nan) outside [\(f.low), \(f.high)]")")
        }
        // And the bands themselves can fail: none contains its baseline, spread-derived ones stay
        // within ± 3 standard errors.
        for problem in pinned.designProblems() { Issue.record("\(problem)") }
        // And their markdown and figures are what their runs wrote.
        for problem in ReportConsistency.check(reports: repository.appendingPathComponent("reports")) {
            Issue.record("\(problem)")
        }
    }
}

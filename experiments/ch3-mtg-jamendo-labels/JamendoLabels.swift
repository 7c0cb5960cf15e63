import Foundation
import MoodCore
import MoodDatasets
import MoodMetrics
import MoodNotebook
import MoodPlot

/// Thesis 3.1.3 and 3.3.8: the MTG-Jamendo mood/theme labels, and what accuracy_multi can tell.
public enum Ch3MTGJamendoLabels: Experiment {
    public static let name = "ch3-mtg-jamendo-labels"
    public static let title = "MTG-Jamendo mood/theme tags: the labels, and what accuracy_multi can tell"
    public static let thesisSection = "3.1.3, 3.3.8"
    static let howToGet = "the repository MTG/mtg-jamendo-dataset: data/ and results/mediaeval/ (CC BY-NC-SA 4.0)"
    public static let requirements = [
        DataRequirement("mtg-jamendo/data/autotagging_moodtheme.tsv", howToGet: howToGet),
        DataRequirement("mtg-jamendo/data/splits/split-0/autotagging_moodtheme-test.tsv", howToGet: howToGet),
        DataRequirement("mtg-jamendo/results/mediaeval/groundtruth.npy", howToGet: howToGet),
    ]

    public static func run(_ nb: Notebook) throws {
        let root = nb.dataRoot.appendingPathComponent("mtg-jamendo")
        nb.markdown(
            """
            The thesis's first approach (3.3.8) trained a CNN on the 56 mood/theme tags of MTG-Jamendo and
            reported `accuracy_multi` = **0.9704** (first 30 s of each track) and **0.9705** (middle 30 s),
            while every predicted score stayed below 0.01. This report looks at the labels themselves and
            shows that those numbers are what a model scores by predicting no tag at all.
            """)

        // MARK: The labels
        let metadataURL = root.appendingPathComponent("data/autotagging_moodtheme.tsv")
        try nb.dataFile(metadataURL)
        let tracks = try MTGJamendo.tracks(metadataURL.path)
        let tagsURL = root.appendingPathComponent("data/tags/moodtheme_split.txt")
        let splitTags = try MTGJamendo.tagList(tagsURL.path)
        var frequency = [String: Int]()
        for t in tracks { for tag in t.tags { frequency[tag, default: 0] += 1 } }
        let perTrack = Double(tracks.reduce(0) { $0 + $1.tags.count }) / Double(tracks.count)
        let artists = Set(tracks.map(\.artist)).count
        let hours = tracks.reduce(0) { $0 + $1.duration } / 3600
        nb.markdown("## The labels")
        nb.table(
            [
                "tracks", "artists", "hours of audio", "tags in the metadata", "tags in the official splits",
                "tags per track",
            ],
            [
                [
                    "\(tracks.count)", "\(artists)", String(format: "%.0f", hours), "\(frequency.count)",
                    "\(splitTags.count)", String(format: "%.3f", perTrack),
                ]
            ])
        nb.metric("tracks", Double(tracks.count), label: "tracks with a mood/theme tag", unit: "count")
        nb.metric("tags_per_track", perTrack, label: "tags per track", unit: "plain")
        var histogram = [Int: Int]()
        for t in tracks { histogram[t.tags.count, default: 0] += 1 }
        nb.table(
            ["tags on a track"] + histogram.keys.sorted().map(String.init),
            [["tracks"] + histogram.keys.sorted().map { "\(histogram[$0]!)" }])
        let ranked = frequency.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
        try nb.figure(
            "tag-frequency", caption: "Tracks per mood/theme tag (all \(frequency.count) tags of the metadata)"
        ) { url in
            var chart = BarChart(
                title: "MTG-Jamendo mood/theme: tracks per tag", yLabel: "tracks",
                categories: ranked.map(\.key), groups: [("tracks", ranked.map { Double($0.value) })])
            chart.rotateLabels = true
            chart.size = (1200, 520)
            try chart.render(to: url)
        }
        nb.markdown(
            """
            The most frequent tag, *\(ranked[0].key)*, marks \(ranked[0].value) tracks
            (\(Notebook.formatted(Double(ranked[0].value) / Double(tracks.count), unit: "percent")) of them); the
            rarest, *\(ranked.last!.key)*, \(ranked.last!.value). With \(String(format: "%.2f", perTrack)) tags per
            track out of \(splitTags.count), about \(String(format: "%.1f", 100 * perTrack / Double(splitTags.count))) %
            of all (track, tag) cells are positive.
            """)

        // MARK: Splits
        nb.markdown("## The official splits")
        var splitRows = [[String]]()
        var split0 = [String: [MTGJamendo.Track]]()
        for s in 0..<5 {
            var row = ["split-\(s)"]
            for part in ["train", "validation", "test"] {
                let url = root.appendingPathComponent("data/splits/split-\(s)/autotagging_moodtheme-\(part).tsv")
                let rows = try MTGJamendo.tracks(url.path)
                if s == 0 { split0[part] = rows; try nb.dataFile(url) }
                row.append("\(rows.count)")
            }
            splitRows.append(row)
        }
        nb.table(["split", "train", "validation", "test"], splitRows)
        let trainArtists = Set(split0["train"]!.map(\.artist))
        let shared = Set(split0["test"]!.map(\.artist)).intersection(trainArtists).count
        nb.markdown(
            "The official splits keep artists apart: \(shared) artists of split-0's test set also appear in its training set."
        )

        // MARK: Predicting nothing
        func nothing(_ rows: [MTGJamendo.Track]) -> Double {
            let positives = rows.reduce(0) { $0 + $1.tags.filter { splitTags.contains($0) }.count }
            return 1 - Double(positives) / Double(rows.count * splitTags.count)
        }
        let nothingValid = nothing(split0["validation"]!), nothingTest = nothing(split0["test"]!)
        nb.markdown(
            """
            ## What predicting nothing scores

            `accuracy_multi` (fastai) thresholds every score at 0.5 and counts the (track, tag) cells where the
            decision agrees with the truth. A "model" that outputs 0 everywhere gets every negative cell right:
            """)
        nb.table(
            ["split-0 part", "tracks", "accuracy_multi of predicting no tag", "thesis"],
            [
                [
                    "validation", "\(split0["validation"]!.count)", String(format: "%.6f", nothingValid),
                    "0.9704 (first 30 s)",
                ],
                ["test", "\(split0["test"]!.count)", String(format: "%.6f", nothingTest), "0.9705 (middle 30 s)"],
            ])
        let theirs =
            "thesis: its CNN's accuracy_multi on a random 30 % split scored over 60 columns; ours: predicting nothing on split 0's \(splitTags.count) tags"
        nb.metric(
            "nothing_validation", nothingValid, label: "accuracy_multi of predicting nothing, split-0 validation",
            thesis: Thesis.accuracyMultiFirst30, unit: "plain", note: theirs)
        nb.metric(
            "nothing_test", nothingTest, label: "accuracy_multi of predicting nothing, split-0 test",
            thesis: Thesis.accuracyMultiMiddle30, unit: "plain", note: theirs)
        // The thesis's own layout: its score table has 60 columns, so predicting nothing there
        // scores 1 - (mean tags per track) / 60 over the whole data set.
        let everyTrack = split0.values.flatMap { $0 }
        let meanTags =
            Double(everyTrack.reduce(0) { $0 + $1.tags.filter { splitTags.contains($0) }.count })
            / Double(everyTrack.count)
        let thesisLayout = 1 - meanTags / 60
        nb.markdown(
            String(
                format:
                    "The thesis's score table has 60 columns. With %.2f mood/theme tags per track over all %d tracks, predicting nothing in that layout scores 1 - %.2f / 60 = %.4f, next to its reported 0.9704 and 0.9705: the reported figures are what a model that says no to every tag would score.",
                meanTags, everyTrack.count, meanTags, thesisLayout))
        nb.metric(
            "nothing_thesis_layout", thesisLayout,
            label: "accuracy_multi of predicting nothing in the thesis's layout (60 columns, all tracks)",
            thesis: Thesis.accuracyMultiFirst30, unit: "plain",
            note: "derived from the data (1 - tags per track / 60), not from a trained model")

        // MARK: MediaEval baselines
        let mediaeval = root.appendingPathComponent("results/mediaeval")
        let truthNPY = try NPYArray(contentsOf: mediaeval.appendingPathComponent("groundtruth.npy").path)
        let scoresNPY = try NPYArray(
            contentsOf: mediaeval.appendingPathComponent("baseline_vggish_predictions.npy").path)
        try nb.dataFile(mediaeval.appendingPathComponent("groundtruth.npy"))
        try nb.dataFile(mediaeval.appendingPathComponent("baseline_vggish_predictions.npy"))
        guard truthNPY.shape.count == 2, truthNPY.shape == scoresNPY.shape else {
            throw InputError(
                mediaeval.path, "ground truth \(truthNPY.shape) and predictions \(scoresNPY.shape) differ in shape")
        }
        let (rows, tags) = (truthNPY.shape[0], truthNPY.shape[1])
        let truth = (0..<rows).map { r in (0..<tags).map { truthNPY.values[r * tags + $0] > 0.5 } }
        let scores = (0..<rows).map { r in Array(scoresNPY.values[(r * tags)..<((r + 1) * tags)]) }
        let vggish = MultiLabelReport(scores: scores, truth: truth)
        let vggishAccuracy = MultiLabelReport.accuracyMulti(scores: scores, truth: truth)
        // The popularity baseline: every track gets each tag's training frequency as its score.
        let trainFrequency = splitTags.map { tag in
            Double(split0["train"]!.filter { $0.tags.contains(tag) }.count) / Double(split0["train"]!.count)
        }
        let popular = MultiLabelReport(scores: truth.map { _ in trainFrequency }, truth: truth)
        func published(_ file: String) -> [String: Double] {
            guard let text = try? String(contentsOf: mediaeval.appendingPathComponent(file), encoding: .utf8) else {
                return [:]
            }
            var values = [String: Double]()
            for line in text.split(whereSeparator: \.isNewline) {
                let f = line.split(separator: "\t")
                if f.count == 2, let v = Double(f[1]) { values[String(f[0])] = v }
            }
            return values
        }
        let pubVGGish = published("baseline_vggish_results.tsv"), pubPopular = published("baseline_popular_results.tsv")
        nb.markdown(
            """
            ## The MediaEval 2019 baselines, recomputed

            The MediaEval 2019 *Emotions and Themes in Music* task used split-0's test set (\(rows) tracks x
            \(tags) tags). Its VGGish baseline's published predictions, scored with MoodDex's metrics, beside
            the published scores; and the popularity baseline (each tag's training frequency as every track's
            score), computed here.
            """)
        func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "" }
        nb.table(
            ["baseline", "ROC-AUC macro", "PR-AUC macro", "ROC-AUC micro", "PR-AUC micro", "accuracy_multi at 0.5"],
            [
                [
                    "VGGish, ours", f(vggish.rocAUCMacro), f(vggish.averagePrecisionMacro), f(vggish.rocAUCMicro),
                    f(vggish.averagePrecisionMicro), String(format: "%.6f", vggishAccuracy),
                ],
                [
                    "VGGish, published", f(pubVGGish["ROC-AUC-macro"]), f(pubVGGish["PR-AUC-macro"]),
                    f(pubVGGish["ROC-AUC-micro"]), f(pubVGGish["PR-AUC-micro"]), "",
                ],
                [
                    "popularity, ours", f(popular.rocAUCMacro), f(popular.averagePrecisionMacro),
                    f(popular.rocAUCMicro), f(popular.averagePrecisionMicro), String(format: "%.6f", nothingTest),
                ],
                [
                    "popularity, published", f(pubPopular["ROC-AUC-macro"]), f(pubPopular["PR-AUC-macro"]),
                    f(pubPopular["ROC-AUC-micro"]), f(pubPopular["PR-AUC-micro"]), "",
                ],
                ["no tag at all", "0.5000", "", "0.5000", "", String(format: "%.6f", nothingTest)],
            ])
        nb.metric(
            "vggish_roc_auc_macro", vggish.rocAUCMacro, label: "VGGish ROC-AUC macro (recomputed)",
            thesis: pubVGGish["ROC-AUC-macro"], unit: "plain")
        nb.metric(
            "vggish_pr_auc_macro", vggish.averagePrecisionMacro, label: "VGGish PR-AUC macro (recomputed)",
            thesis: pubVGGish["PR-AUC-macro"], unit: "plain")
        nb.metric(
            "vggish_roc_auc_micro", vggish.rocAUCMicro, label: "VGGish ROC-AUC micro (recomputed)",
            thesis: pubVGGish["ROC-AUC-micro"], unit: "plain")
        nb.metric(
            "vggish_pr_auc_micro", vggish.averagePrecisionMicro, label: "VGGish PR-AUC micro (recomputed)",
            thesis: pubVGGish["PR-AUC-micro"], unit: "plain")
        nb.metric("vggish_accuracy_multi", vggishAccuracy, label: "VGGish accuracy_multi at 0.5", unit: "plain")
        nb.metric(
            "popular_pr_auc_macro", popular.averagePrecisionMacro, label: "popularity PR-AUC macro",
            thesis: pubPopular["PR-AUC-macro"], unit: "plain")
        nb.markdown(
            """
            The macro scores of the popularity baseline match the published ones exactly (a constant score per
            tag ranks no track above another: ROC-AUC 0.5, PR-AUC the tag's share of positives). Its micro
            scores differ: pooled over all cells, our frequency scores rank frequent tags above rare ones, which
            micro averaging rewards; the published baseline evidently scored cells without that ordering.
            """)

        let perTag = zip(splitTags, zip(vggish.rocAUCPerTag, vggish.averagePrecisionPerTag)).sorted { $0.1.0 > $1.1.0 }
        try nb.figure("vggish-per-tag", caption: "VGGish baseline per tag, split-0 test: ROC-AUC and PR-AUC") { url in
            var chart = BarChart(
                title: "VGGish baseline per tag (split-0 test)", yLabel: "score", categories: perTag.map(\.0),
                groups: [("ROC-AUC", perTag.map { $0.1.0 }), ("PR-AUC", perTag.map { $0.1.1 })])
            chart.rotateLabels = true
            chart.size = (1200, 520)
            chart.yRange = 0...1
            try chart.render(to: url)
        }
        nb.markdown(
            """
            ## Why accuracy_multi cannot tell models apart here

            Only \(String(format: "%.1f", 100 * (1 - nothingTest))) % of the test cells are positive, and a score
            above 0.5 for a rare tag is a bold bet that a calibrated model seldom makes. So accuracy_multi sits at
            the share of negative cells whatever the model does: predicting nothing scores \(String(format: "%.6f", nothingTest)),
            the VGGish baseline, whose ROC-AUC shows it ranks tracks far better than chance, scores
            \(String(format: "%.6f", vggishAccuracy)). The thesis's 0.9704 and 0.9705 are the "nothing" level of
            its splits, not evidence of learning; its observation that all scores stayed below 0.01 says the
            model had collapsed to the tag priors.

            What to report instead: threshold-free ranking metrics per tag and averaged (ROC-AUC, and PR-AUC,
            which unlike ROC-AUC is sensitive to rare positives), with the popularity baseline beside them; and,
            where decisions are needed, per-tag thresholds chosen on validation data with the F1 they give.
            """)
    }
}

import Foundation
import MoodAudio
import MoodCore
import MoodMetrics
import MoodNotebook
import MoodPlot
import MoodPretrained

/// Thesis 3.3.8's segment question asked of a network pretrained on music, with no data set
/// at all: Debian's free game music, tagged by musicnn (MSD), moods read from its tags.
public enum Ch3ZeroShot: Experiment {
    public static let name = "ch3-zero-shot"
    public static let title = "Zero-shot moods of full-length free music: first 30 s, middle 30 s or five crops"
    public static let thesisSection = "3.3.8"
    static let musicFolder = "/usr/share/games/wesnoth/1.16/data/core/music"
    public static let requirements = [
        DataRequirement(musicFolder, howToGet: "Debian's wesnoth-1.16-music package (scripts/setup installs it)"),
        DataRequirement(
            "cache:pretrained/musicnn-0.1.0/musicnn/MSD_musicnn/.index", howToGet: PretrainedModel.howToGet),
    ]

    public static func run(_ nb: Notebook) throws {
        let folder = URL(fileURLWithPath: musicFolder)
        let all = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".ogg") }
            .sorted()
            .map { folder.appendingPathComponent($0).path }
            .filter { ((try? AudioFile.info($0).duration) ?? 0) >= 90 }
        let tracks = nb.quick ? Array(all.prefix(6)) : all
        let cropCount = nb.quick ? 3 : 5
        for path in tracks { try nb.dataFile(URL(fileURLWithPath: path)) }
        nb.markdown(
            """
            Which part of a song carries its mood? The thesis compared the first and the middle 30 s of
            MTG-Jamendo tracks through a metric that could not see a difference. Here the question goes to
            the pretrained **MSD_musicnn** tagger (Pons & Serra 2019; 50 Last.fm tags from the Million Song
            Dataset, weights from the `musicnn` 0.1.0 wheel) without any mood data set: \(tracks.count)
            full-length tracks of 90 s or more from Debian's `wesnoth-1.16-music` (orchestral game music,
            Ogg Vorbis), each tagged on its first 30 s, its middle 30 s and \(cropCount) evenly spaced 30-s crops
            (tags averaged over the 3-s patches, as musicnn's tagger does). Moods are read from the tags
            zero-shot: happy from *happy, catchy, party*; sad from *sad*; calm from *Mellow, chill,
            chillout, easy listening, ambient*; energetic from *metal, hard rock, heavy metal, punk*; each
            tag divided by its mean over all segments scored here, since tags differ in base rate.
            """)
        nb.parameter("tracks", tracks.count)
        nb.parameter("crops per track", cropCount)
        let tagger = try Tagger(.msdMusicnn, cache: nb.options.cacheDirectory, threads: nb.threads)
        let start = Date()
        var first = [[Float]](), middle = [[Float]](), crops = [[Float]]()
        let bar = ProgressBar("tagging", total: tracks.count, enabled: nb.options.showProgress)
        for path in tracks {
            first.append(try tagger.tags(file: path, segment: .first(seconds: 30)).probabilities)
            middle.append(try tagger.tags(file: path, segment: .middle(seconds: 30)).probabilities)
            let duration = try AudioFile.info(path).duration
            var mean = [Float](repeating: 0, count: 50)
            for k in 0..<cropCount {
                let at = (duration - 30) * Double(k) / Double(cropCount - 1)
                let p = try tagger.tags(file: path, segment: .at(start: at, seconds: 30)).probabilities
                for t in 0..<50 { mean[t] += p[t] / Float(cropCount) }
            }
            crops.append(mean)
            bar.advance()
        }
        bar.finish()
        nb.timing("tagging", seconds: Date().timeIntervalSince(start))

        // Moods, with base rates taken over every segment scored.
        let scored = ZeroShotMoods.scores(first + middle + crops)
        let n = tracks.count
        let moodFirst = scored[0..<n].map(argmax), moodMiddle = scored[n..<(2 * n)].map(argmax),
            moodCrops = scored[(2 * n)...].map(argmax)
        let tags = PretrainedModel.msdTags
        nb.markdown("## Tags and moods per track")
        nb.table(
            ["track", "top tags, middle 30 s", "first 30 s", "middle 30 s", "\(cropCount) crops"],
            (0..<n).map { i in
                let p = middle[i]
                let top = p.indices.sorted { p[$0] > p[$1] }.prefix(3).map {
                    "\(tags[$0]) \(String(format: "%.2f", p[$0]))"
                }
                return [
                    URL(fileURLWithPath: tracks[i]).deletingPathExtension().lastPathComponent,
                    top.joined(separator: ", "),
                    ZeroShotMoods.moods[moodFirst[i]], ZeroShotMoods.moods[moodMiddle[i]],
                    ZeroShotMoods.moods[moodCrops[i]],
                ]
            })
        let firstMiddle = Intervals.wilson(successes: zip(moodFirst, moodMiddle).filter { $0 == $1 }.count, trials: n)
        let middleCrops = Intervals.wilson(successes: zip(moodMiddle, moodCrops).filter { $0 == $1 }.count, trials: n)
        let firstCrops = Intervals.wilson(successes: zip(moodFirst, moodCrops).filter { $0 == $1 }.count, trials: n)
        nb.markdown("## Do the segments agree?")
        nb.table(
            ["pair", "same mood [95 % Wilson interval]"],
            [
                ["first 30 s and middle 30 s", firstMiddle.formatted(1, scale: 100)],
                ["middle 30 s and the mean of \(cropCount) crops", middleCrops.formatted(1, scale: 100)],
                ["first 30 s and the mean of \(cropCount) crops", firstCrops.formatted(1, scale: 100)],
            ])
        // Agreement expected if the two segments' moods were independent with these frequencies (Cohen's p_e).
        let chance = (0..<4).reduce(0.0) { sum, m in
            sum + Double(moodFirst.filter { $0 == m }.count) * Double(moodMiddle.filter { $0 == m }.count)
                / Double(n * n)
        }
        nb.markdown(
            """
            If the first and middle 30 s were unrelated, with the mood frequencies seen here, they would agree
            \(String(format: "%.0f", 100 * chance)) % of the time.
            First and middle 30 s agree for \(String(format: "%.0f", 100 * firstMiddle.value)) % of the tracks
            \(firstMiddle.low > chance ? "(above that level: the interval excludes it)" : "(the interval includes that level: no evidence that the two segments agree more than chance)"),
            and the crop average sides with the middle for \(String(format: "%.0f", 100 * middleCrops.value)) % and with the first 30 s for
            \(String(format: "%.0f", 100 * firstCrops.value)) %. There is no ground truth here; this measures consistency, not accuracy.
            """)
        nb.metric("first_middle_agreement", firstMiddle.value, label: "zero-shot moods: first and middle 30 s agree")
        nb.metric(
            "middle_crops_agreement", middleCrops.value, label: "zero-shot moods: middle 30 s and the crop mean agree")
        let instrumental = tags.firstIndex(of: "instrumental")!
        let segments: [[Float]] = first + middle + crops
        var instrumentalSum: Float = 0
        for row in segments { instrumentalSum += row[instrumental] }
        let meanInstrumental = Double(instrumentalSum) / Double(segments.count)
        nb.metric(
            "mean_instrumental", meanInstrumental,
            label: "mean probability of the tag 'instrumental' (game music has no singing)", unit: "plain")
        let moodTags = ["happy", "sad", "Mellow", "chill", "ambient", "party", "instrumental", "beautiful"]
        let columns = moodTags.map { tags.firstIndex(of: $0)! }
        func mean(_ rows: [[Float]], _ c: Int) -> Double {
            Double(rows.map { $0[c] }.reduce(0, +)) / Double(max(rows.count, 1))
        }
        try nb.figure(
            "mood-tags", caption: "Mean probability of mood-related MSD tags by segment, over the \(n) tracks"
        ) { url in
            try BarChart(
                title: "MSD_musicnn tags by segment (\(n) tracks)", yLabel: "mean tag probability",
                categories: moodTags,
                groups: [
                    ("first 30 s", columns.map { mean(first, $0) }), ("middle 30 s", columns.map { mean(middle, $0) }),
                    ("\(cropCount) crops", columns.map { mean(crops, $0) }),
                ]
            ).render(to: url)
        }
    }

    static func argmax(_ p: [Float]) -> Int { p.indices.max { p[$0] < p[$1] }! }
}

import ArgumentParser
import Foundation
import MoodClassifier
import MoodCore
import MoodDatasets
import MoodPretrained
import MoodSpectrogram
import MoodTensor
import MoodTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train the four-mood model on every 4Q clip under the data root and save it.",
        discussion: """
            --base MSD_musicnn (or MTT_musicnn, MSD_vgg, MTT_vgg) starts from a network pretrained on music (needs the musicnn \
            weights from scripts/setup): --method embedding fits a penalised logistic regression on its clip \
            embeddings (penalty chosen by an artist-grouped search; the most accurate in ch3-four-moods), \
            --method fine-tune fine-tunes it with fastai's procedure (a new head trained with the body frozen, \
            then unfrozen), --method fine-tune-from-probe starts the head from that logistic regression and \
            fine-tunes the unfrozen body from there (LP-FT). --base none trains the small CNN from scratch.
            """)
    enum Base: String, ExpressibleByArgument, CaseIterable {
        case none, msdMusicnn = "MSD_musicnn", mttMusicnn = "MTT_musicnn", msdVGG = "MSD_vgg", mttVGG = "MTT_vgg"
    }
    enum Method: String, ExpressibleByArgument, CaseIterable {
        case embedding, fineTune = "fine-tune", fineTuneFromProbe = "fine-tune-from-probe"
    }
    @Option(name: .shortAndLong, help: "The model folder to write (model.safetensors + model.json).") var output: String
    @Option(
        help:
            "The starting network: none (from scratch), MSD_musicnn, MTT_musicnn, MSD_vgg or MTT_vgg (default: the best single network measured in ch3-four-moods)."
    ) var base: Base = .msdMusicnn
    @Option(
        help:
            "With a pretrained base: embedding (frozen network + logistic regression), fine-tune (fastai's procedure) or fine-tune-from-probe (LP-FT)."
    ) var method: Method = .embedding
    @Option(parsing: .unconditional, help: "Epochs of one-cycle training from scratch (1 or more).") var epochs = 40
    @Option(parsing: .unconditional, help: "The seed every random choice derives from (0 or more).") var seed: UInt64 =
        2022
    @Option(parsing: .unconditional, help: "Worker threads; with the seed it fixes every bit of the model.")
    var threads = Compute.availableCores
    @Option(
        help: """
            What runs the trained convolutions (--base none, --method fine-tune or fine-tune-from-probe): reference (the same bits on \
            every AVX2 machine), onednn (faster; repeatable only on the same kind of CPU) or onednn-bf16 (mixed \
            precision: the convolutions multiply bfloat16, everything else stays fp32).
            """)
    var backend: TrainingBackend = .reference
    @OptionGroup var data: DataOptions

    func validate() throws {
        if base == .none && method != .embedding {
            throw ValidationError(
                "--method \(method.rawValue) needs a pretrained --base (MSD_musicnn, MTT_musicnn, MSD_vgg or MTT_vgg)")
        }
        guard epochs >= 1 else {
            throw ValidationError("--epochs \(epochs): must be at least 1 (0 epochs would save an untrained model)")
        }
        try requireAtLeastOne(threads, "--threads")
    }

    func run() throws {
        Interrupt.install()
        // Fail now, not after the whole training, when the model cannot be saved.
        try AtomicFile.checkWritable(folder: URL(fileURLWithPath: output))
        let fourQ = try FourQ(folder: data.root.appendingPathComponent("4q"))
        let paths = fourQ.clips.map(\.path), labels = fourQ.clips.map(\.mood)
        if let pretrained = PretrainedModel(rawValue: base.rawValue), method == .embedding {
            var settings = EmbeddingMoodModel.Settings(moods: FourQ.moods, base: pretrained)
            settings.seed = seed
            let model: EmbeddingMoodModel, losses: [Double]
            do {
                (model, losses) = try EmbeddingMoodModel.train(
                    paths: paths, labels: labels, groups: fourQ.clips.map(\.artist), settings: settings,
                    cache: data.cache, threads: threads, progress: true)
            } catch is CancellationError {
                warn(
                    "mooddex: interrupted; nothing saved (the front-end maps computed so far are cached, so a rerun skips them)"
                )
                throw ExitCode(130)
            }
            for (c, loss) in zip(settings.grid, losses) {
                print(String(format: "C %-6g held-out cross-entropy %.4f", c, loss))
            }
            try model.save(to: URL(fileURLWithPath: output))
            print(
                "saved \(output): \(pretrained) embeddings + logistic regression (C \(String(format: "%g", model.settings.penalty ?? .nan))) on \(paths.count) clips, moods \(FourQ.moods.joined(separator: ", "))"
            )
            return
        }
        if let pretrained = PretrainedModel(rawValue: base.rawValue) {
            var training =
                method == .fineTuneFromProbe ? FineTunedMusicnn.Settings.probeStart : FineTunedMusicnn.Settings()
            training.base = pretrained
            training.seed = seed
            let model: FineTunedMoodModel, record: FineTunedMusicnn.Record
            do {
                (model, record) = try FineTunedMoodModel.train(
                    paths: paths, labels: labels, groups: fourQ.clips.map(\.artist),
                    settings: FineTunedMoodModel.Settings(moods: FourQ.moods, training: training),
                    cache: data.cache, threads: threads, progress: true, backend: backend)
            } catch is CancellationError {
                warn(
                    "mooddex: interrupted; nothing saved (the front-end maps computed so far are cached, so a rerun skips them)"
                )
                throw ExitCode(130)
            }
            for r in record.history {
                print(String(format: "epoch %d  train_loss %.4f  time %.1f s", r.epoch, r.trainLoss, r.seconds))
            }
            try model.save(to: URL(fileURLWithPath: output))
            print(
                "saved \(output): \(pretrained) fine-tuned on \(paths.count) clips, \(record.history.count) epochs, moods \(FourQ.moods.joined(separator: ", "))"
            )
            return
        }
        var settings = MoodModel.Settings()
        settings.epochs = epochs
        settings.seed = seed
        let cache = try FeatureCache(directory: data.cache.appendingPathComponent("features"), recipe: settings.recipe)
        // Saved after every epoch: Ctrl-C, then the same command, continues where it stopped.
        let checkpoint = URL(fileURLWithPath: output).appendingPathComponent("training-checkpoint.safetensors")
        let model: MoodModel, learner: Learner
        do {
            (model, learner) = try MoodModel.train(
                paths: paths, labels: labels, settings: settings, cache: cache, threads: threads,
                progress: true, checkpoint: checkpoint, backend: backend,
                onEpoch: { r in
                    print(String(format: "epoch %d  train_loss %.4f  time %.1f s", r.epoch, r.trainLoss, r.seconds))
                })
        } catch is CancellationError {
            let saved = FileManager.default.fileExists(atPath: checkpoint.path)
            warn(
                "mooddex: interrupted"
                    + (saved
                        ? "; the training state is saved in \(checkpoint.path): run the same command to continue"
                        : " before the first epoch ended"))
            throw ExitCode(130)
        }
        try model.save(to: URL(fileURLWithPath: output))
        try? FileManager.default.removeItem(at: checkpoint)
        print(
            "saved \(output): \(fourQ.clips.count) clips, \(learner.history.count) epochs, moods \(settings.moods.joined(separator: ", "))"
        )
    }
}

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify", abstract: "Print each audio file's moods with their probabilities.")
    enum Format: String, ExpressibleByArgument { case text, csv, json }
    @Option(help: "A model folder from `mooddex train`.") var model: String
    @Option(help: "text, csv or json.") var format: Format = .text
    @Option(parsing: .unconditional, help: "Worker threads.") var threads = Compute.availableCores
    @Flag(help: "Classify clips with less than 3 s of audio too, padded with silence.") var padShort = false
    @Option(
        help:
            "Convolutions of musicnn-based models on oneDNN (onednn: fast, last digits depend on the CPU) or MoodDex's own code (reference)."
    )
    var backend: InferenceBackend = .oneDNN
    @Argument(help: "MP3, WAV or Ogg Vorbis files.") var files: [String]

    func validate() throws { try requireAtLeastOne(threads, "--threads") }

    func run() throws {
        Interrupt.install()
        let model = try MoodModels.load(from: URL(fileURLWithPath: model))
        useInferenceBackend(backend, in: model)
        let moods = model.moods
        var failed = 0
        var rows = [ClassifiedFile]()
        if format == .csv { print((["path", "mood"] + moods).map(CSVTable.field).joined(separator: ",")) }
        for (file, result) in classifyInBatches(model, files, threads: threads, padShort: padShort) {
            switch result {
            case .failure(let error):
                failed += 1
                warn("mooddex: \(error)")
            case .success(let p):
                let top = p.indices.max { p[$0] < p[$1] }!
                switch format {
                case .text:
                    let ranked = p.indices.sorted { p[$0] > p[$1] }.map {
                        "\(moods[$0]) \(String(format: "%.3f", p[$0]))"
                    }
                    print("\(file)\t\(moods[top])\t(\(ranked.joined(separator: ", ")))")
                case .csv:
                    print(
                        ([CSVTable.field(file), CSVTable.field(moods[top])] + p.map { String(format: "%.6f", $0) })
                            .joined(separator: ","))
                case .json:
                    rows.append(
                        ClassifiedFile(
                            path: file, mood: moods[top],
                            probabilities: Dictionary(uniqueKeysWithValues: zip(moods, p.map(Double.init)))))
                }
            }
        }
        if Interrupt.requested { warn("mooddex: interrupted; the files above were classified"); throw ExitCode(130) }
        if format == .json { try printJSON(rows) }
        if failed > 0 { throw ExitCode(1) }
    }
}

/// One file in `classify --format json`.
struct ClassifiedFile: Encodable {
    var path: String
    /// The most probable mood.
    var mood: String
    /// Mood -> probability.
    var probabilities: [String: Double]
}

struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Keep the tracks of a playlist whose predicted mood is one of those asked for.",
        discussion:
            "Reads M3U/M3U8 or a plain list of paths; keeps order; unreadable entries are reported and left out.")
    @Option(help: "Moods to keep, comma-separated: happy, sad, calm, energetic.") var mood: String
    @Option(help: "A model folder from `mooddex train`.") var model: String
    @Argument(help: "The playlist.") var playlist: String
    @Option(name: .shortAndLong, help: "The playlist to write.") var output: String
    @Option(parsing: .unconditional, help: "Worker threads.") var threads = Compute.availableCores
    @Flag(help: "Classify clips with less than 3 s of audio too, padded with silence.") var padShort = false
    @Option(
        help:
            "Convolutions of musicnn-based models on oneDNN (onednn: fast, last digits depend on the CPU) or MoodDex's own code (reference)."
    )
    var backend: InferenceBackend = .oneDNN

    func validate() throws { try requireAtLeastOne(threads, "--threads") }

    func run() throws {
        let model = try MoodModels.load(from: URL(fileURLWithPath: model))
        useInferenceBackend(backend, in: model)
        let wanted = try mood.split(separator: ",").map { name -> Int in
            let m = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard let i = model.moods.firstIndex(of: m) else {
                throw InvalidParameter("--mood", m, "must be among \(model.moods.joined(separator: ", "))")
            }
            return i
        }
        Interrupt.install()
        let list = try Playlist(contentsOf: playlist)
        var kept = [Playlist.Entry](), unreadable = 0
        let results = classifyInBatches(model, list.entries.map(\.path), threads: threads, padShort: padShort)
        for (entry, (_, result)) in zip(list.entries, results) {
            switch result {
            case .failure(let error): unreadable += 1; warn("mooddex: skipped \(entry.line): \(error.problem)")
            case .success(let p): if wanted.contains(p.indices.max { p[$0] < p[$1] }!) { kept.append(entry) }
            }
        }
        if Interrupt.requested { warn("mooddex: interrupted; \(output) not written"); throw ExitCode(130) }
        guard unreadable < list.entries.count else {
            throw InputError(
                playlist, "none of its \(list.entries.count) entries could be read (see above); \(output) not written")
        }
        try Playlist.write(kept, to: URL(fileURLWithPath: output))
        print(
            "\(output): \(kept.count) of \(list.entries.count) tracks predicted \(mood)"
                + (unreadable > 0 ? "; \(unreadable) unreadable entries skipped (see above)" : ""))
    }
}

/// Sets the backend of a model built on a pretrained musicnn (the others keep the reference code).
func useInferenceBackend(_ backend: InferenceBackend, in model: MoodClassifying) {
    (model as? EmbeddingMoodModel)?.inferenceBackend = backend
    (model as? FineTunedMoodModel)?.inferenceBackend = backend
}

/// Classifies `paths` a batch at a time, so memory stays bounded however long the list (the
/// spectrograms or front-end maps of one batch at most), with a progress bar on standard
/// error when there is more than one batch. Results come in order, batch by batch.
func classifyInBatches(
    _ model: MoodClassifying, _ paths: [String], threads: Int, padShort: Bool,
    batch: Int = 64
) -> AnySequence<(String, Result<[Float], InputError>)> {
    AnySequence { () -> AnyIterator<(String, Result<[Float], InputError>)> in
        let bar = ProgressBar("classify", total: paths.count, enabled: paths.count > batch)
        var start = 0, pending = [(String, Result<[Float], InputError>)]()
        return AnyIterator {
            if pending.isEmpty {
                guard start < paths.count, !Interrupt.requested else { bar.finish(); return nil }
                let chunk = Array(paths[start..<min(paths.count, start + batch)])
                pending = Array(zip(chunk, model.classify(chunk, threads: threads, padShort: padShort)).reversed())
                start += chunk.count
                bar.advance(by: chunk.count)
            }
            return pending.popLast()
        }
    }
}

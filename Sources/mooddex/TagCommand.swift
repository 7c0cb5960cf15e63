import ArgumentParser
import Foundation
import MoodCore
import MoodPretrained
import MoodTensor

/// `mooddex tag`: zero-shot music tagging with the pretrained musicnn networks, as musicnn's
/// own tagger does it (mean of the 3-s patches' sigmoid outputs), without Python.
struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Print each audio file's top tags from a pretrained musicnn network (50 MSD or MTT tags).",
        discussion: "The weights come from the musicnn 0.1.0 wheel that scripts/setup puts in the cache.")
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, csv, json }

    @Option(help: "MSD_musicnn, MSD_vgg, MTT_musicnn or MTT_vgg.") var model: PretrainedModel = .msdMusicnn
    @Option(help: "Tags to print per file in text format (csv and json print all).") var top = 5
    @Option(help: "text, csv or json.") var format: Format = .text
    @Option(help: "Worker threads.") var threads = Compute.availableCores
    @Option(
        help:
            "Convolutions on oneDNN (onednn: fast, last digits depend on the CPU) or MoodDex's own code (reference: the same bits on every machine)."
    )
    var backend: InferenceBackend = .oneDNN
    @OptionGroup var data: DataOptions
    @Argument(help: "MP3, WAV or Ogg files.") var files: [String]

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top \(top): must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads \(threads): must be at least 1") }
    }

    func run() throws {
        let tagger: Tagger
        do { tagger = try Tagger(model, cache: data.cache, threads: threads, backend: backend) } catch {
            warn("mooddex: \(error)"); throw ExitCode(2)
        }
        let tags = model.tags
        if format == .csv { print((["path"] + tags).map(csvField).joined(separator: ",")) }
        var rows = [TaggedFile](), failed = 0
        for file in files {
            do {
                let (p, patches) = try tagger.tags(file: file)
                switch format {
                case .text:
                    let ranked = p.indices.sorted { p[$0] > p[$1] }.prefix(top).map {
                        "\(tags[$0]) \(String(format: "%.3f", p[$0]))"
                    }
                    print("\(file)\t\(ranked.joined(separator: ", "))")
                case .csv:
                    print(([csvField(file)] + p.map { String(format: "%.6f", $0) }).joined(separator: ","))
                case .json:
                    rows.append(
                        TaggedFile(
                            path: file, patches: patches, model: model.rawValue,
                            tags: Dictionary(uniqueKeysWithValues: zip(tags, p.map(Double.init)))))
                }
            } catch {
                failed += 1
                warn("mooddex: \(error)")
            }
        }
        if format == .json { try printJSON(rows) }
        if failed > 0 { throw ExitCode(1) }
    }
}

/// One file in `tag --format json`.
struct TaggedFile: Encodable {
    var path: String
    /// The 3-s patches whose outputs were averaged.
    var patches: Int
    var model: String
    /// Tag -> probability.
    var tags: [String: Double]
}

/// Prints `value` as indented JSON with sorted keys, as the `--format json` outputs are read by people and scripts alike.
func printJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

extension PretrainedModel: ExpressibleByArgument {}
extension InferenceBackend: ExpressibleByArgument {}
extension TrainingBackend: ExpressibleByArgument {}

/// A CSV field as RFC 4180 writes it: quoted when it holds a comma, quote or line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

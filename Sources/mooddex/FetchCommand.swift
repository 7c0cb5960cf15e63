import ArgumentParser
import Foundation
import MoodCore
import MoodFetch

struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download a data set: today, the MTG-Jamendo mood/theme audio or mel-spectrograms.",
        discussion: """
            Archives come from the official mirrors, resume where an interrupted download stopped, and are
            checked against the published SHA-256 lists (each archive, then each track after unpacking).
            The lists are read from <data root>/mtg-jamendo/data/download.
            """)

    @Argument(help: "The data set: mtg-jamendo.") var dataset: String
    @Option(help: "audio (320 kbps MP3, ~152 GB), audio-low (mono VBR, ~46 GB) or melspecs (~68 GB).") var type =
        "audio-low"
    @Option(help: "Archive numbers, e.g. 0-2 or 0-2,5 (100 archives: 0-99).") var parts = "0"
    @Option(help: "Folder to unpack into.") var to: String
    @Option(help: "Use this mirror instead of the official ones (a URL ending in /).") var mirror: String?
    @Flag(help: "Keep the .tar archives after unpacking.") var keepArchives = false
    @OptionGroup var data: DataOptions

    func validate() throws {
        guard dataset == "mtg-jamendo" else {
            throw ValidationError(
                "unknown data set '\(dataset)': only mtg-jamendo can be fetched (see README, Data, for the others)")
        }
        guard MTGJamendoFetch.Kind(rawValue: type) != nil else {
            throw ValidationError(
                "--type \(type): must be one of \(MTGJamendoFetch.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        do { _ = try MTGJamendoFetch.parseParts(parts) } catch let error as InvalidParameter {
            throw ValidationError("--parts \(parts): \(error.requirement)")
        }
    }

    func run() throws {
        Interrupt.install()
        var fetch = MTGJamendoFetch(
            kind: MTGJamendoFetch.Kind(rawValue: type)!, parts: try MTGJamendoFetch.parseParts(parts),
            destination: URL(fileURLWithPath: to),
            checksums: data.root.appendingPathComponent("mtg-jamendo/data/download"))
        if let mirror { fetch.mirrors = [mirror.hasSuffix("/") ? mirror : mirror + "/"] }
        fetch.keepArchives = keepArchives
        let summary = try fetch.run()
        print(
            "fetch: \(summary.archives.count) archives, \(summary.tracks) tracks verified into \(to)"
                + (summary.resumed > 0 ? ", \(summary.resumed) transfers resumed" : ""))
    }
}

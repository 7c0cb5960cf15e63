import ArgumentParser
import Foundation
import MoodCore

@main
struct MoodDex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mooddex",
        abstract: "Songs into moods: reproduce, check and extend the 2022 thesis's experiments.",
        discussion: """
        Data is read from the data root: --data-root, else $MOODDEX_DATA_ROOT, else ../shared/data.
        Caches go to $MOODDEX_CACHE_DIR, else $XDG_CACHE_HOME/mooddex, else ~/.cache/mooddex.
        """,
        subcommands: [ListCommand.self, RunCommand.self, CheckCommand.self, FetchCommand.self, TrainCommand.self, ClassifyCommand.self, FilterCommand.self, TagCommand.self, InfoCommand.self, SpectrogramCommand.self, FeaturesCommand.self, BenchCommand.self])
}

/// Options every data-reading command shares.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Folder holding the data sets (default: $MOODDEX_DATA_ROOT, else ../shared/data).")
    var dataRoot: String?

    @Option(name: .long, help: "Cache folder (default: $MOODDEX_CACHE_DIR, else $XDG_CACHE_HOME/mooddex, else ~/.cache/mooddex).")
    var cacheDir: String?

    var root: URL { Locations.dataRoot(flag: dataRoot) }
    var cache: URL { cacheDir.map { URL(fileURLWithPath: $0) } ?? Locations.cacheDirectory() }
}

/// Writes to standard error.
func warn(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

import ArgumentParser
import Foundation
import MoodCore
import MoodNotebook

/// Options every data-reading command shares: `mooddex`'s commands and the per-chapter
/// executables parse them the same way.
public struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Folder holding the data sets (default: $MOODDEX_DATA_ROOT, else ../shared/data).")
    public var dataRoot: String?

    @Option(
        name: .long,
        help: "Cache folder (default: $MOODDEX_CACHE_DIR, else $XDG_CACHE_HOME/mooddex, else ~/.cache/mooddex).")
    public var cacheDir: String?

    public init() {}

    public var root: URL { Locations.dataRoot(flag: dataRoot) }
    public var cache: URL { cacheDir.map { URL(fileURLWithPath: $0) } ?? Locations.cacheDirectory() }
}

/// How an experiment run is asked for on the command line: `mooddex run` and each chapter's
/// own executable (`experiments/run/<name>`) take exactly these options.
public struct RunArguments: ParsableArguments {
    @Flag(help: "Quick variants: fewer seeds and epochs; reports go to reports/<name>.quick.*.")
    public var quick = false

    @Option(parsing: .unconditional, help: "The seed every random choice derives from (0 or more).")
    public var seed: UInt64 = 2022

    @Option(
        parsing: .unconditional, help: "Worker threads; with the seed it fixes the numbers, so reports are made with 2."
    )
    public var threads = 2

    @Option(help: "Folder for reports.")
    public var reports = "reports"

    @Option(help: "Folder for figures.")
    public var figures = "figures"

    @OptionGroup public var data: DataOptions

    public init() {}

    public func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads \(threads): must be at least 1") }
    }

    /// The library's description of the run these arguments ask for.
    public var options: RunOptions {
        RunOptions(
            quick: quick, seed: seed, dataRoot: data.root, cacheDirectory: data.cache,
            reports: URL(fileURLWithPath: reports), figures: URL(fileURLWithPath: figures), threads: threads)
    }

    /// The report path a run with these arguments writes for `name`.
    public func reportPath(_ name: String) -> String { "\(reports)/\(name)\(quick ? ".quick" : "").md" }
}

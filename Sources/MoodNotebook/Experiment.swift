import Foundation
import MoodCore

/// A data set an experiment reads, and how a user gets it.
public struct DataRequirement: Sendable {
    /// A path that must exist: under the data root (`spotify-moods/data_moods.csv`), absolute
    /// (`/usr/share/...`, a Debian package's files), or under the cache (`cache:pretrained/...`).
    public var path: String
    public var howToGet: String

    public init(_ path: String, howToGet: String) {
        self.path = path
        self.howToGet = howToGet
    }

    public func isPresent(in root: URL, cache: URL = Locations.cacheDirectory()) -> Bool {
        FileManager.default.fileExists(atPath: location(root: root, cache: cache).path)
    }

    public func location(root: URL, cache: URL) -> URL {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path) }
        if path.hasPrefix("cache:") { return cache.appendingPathComponent(String(path.dropFirst(6))) }
        return root.appendingPathComponent(path)
    }
}

/// One thesis experiment, written literately: `run` tells the chapter's story into a notebook.
public protocol Experiment {
    /// The report's file name, e.g. `ch3-keras-comparison`.
    static var name: String { get }
    static var title: String { get }
    /// Where in the thesis this stands, e.g. `3.3.9`.
    static var thesisSection: String { get }
    static var requirements: [DataRequirement] { get }
    static func run(_ notebook: Notebook) throws
    /// Where the experiment's narrative lives, named in its report's first lines.
    static var source: String { get }
}

extension Experiment {
    /// By convention, `experiments/<name>/` (a test holds every catalogued experiment to it).
    public static var source: String { "experiments/\(name)/" }
}

/// How a run is asked for.
public struct RunOptions: Sendable {
    public var quick: Bool
    public var seed: UInt64
    public var dataRoot: URL
    public var cacheDirectory: URL
    public var reports: URL
    public var figures: URL
    public var showProgress: Bool
    /// Worker threads for training and feature extraction. With the seed it fixes the numbers
    /// (per-thread partial sums are added in a fixed order), so it is explicit, never a global.
    public var threads: Int

    public init(
        quick: Bool = false, seed: UInt64 = 2022, dataRoot: URL, cacheDirectory: URL,
        reports: URL = URL(fileURLWithPath: "reports"), figures: URL = URL(fileURLWithPath: "figures"),
        showProgress: Bool = true, threads: Int = 2
    ) {
        self.threads = max(1, threads)
        self.quick = quick
        self.seed = seed
        self.dataRoot = dataRoot
        self.cacheDirectory = cacheDirectory
        self.reports = reports
        self.figures = figures
        self.showProgress = showProgress
    }
}

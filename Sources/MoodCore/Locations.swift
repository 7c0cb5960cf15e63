import Foundation

/// Where MoodDex reads data from and writes caches to.
public enum Locations {
    /// The environment variable naming the data root (`--data-root` overrides it).
    public static let dataRootVariable = "MOODDEX_DATA_ROOT"
    /// The environment variable naming the cache folder.
    public static let cacheVariable = "MOODDEX_CACHE_DIR"

    /// The data root: the flag, else `$MOODDEX_DATA_ROOT`, else `../shared/data`
    /// (the team's layout). It may not exist; callers say what is missing.
    public static func dataRoot(
        flag: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> URL {
        if let flag, !flag.isEmpty { return URL(fileURLWithPath: flag) }
        if let value = environment[dataRootVariable], !value.isEmpty { return URL(fileURLWithPath: value) }
        return URL(fileURLWithPath: "../shared/data")
    }

    /// A writable, git-ignored cache folder: `$MOODDEX_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/mooddex`, else `~/.cache/mooddex`. Never under the data
    /// root, which may be read-only (it is in CI).
    public static func cacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let value = environment[cacheVariable], !value.isEmpty { return URL(fileURLWithPath: value) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("mooddex")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/mooddex")
    }
}

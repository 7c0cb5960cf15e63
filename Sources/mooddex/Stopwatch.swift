import Foundation
import MoodNotebook

/// Wall-clock timing for the benchmarks (never used in tests).
enum Stopwatch {
    /// Seconds taken by `body`.
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// The machine, for benchmark reports.
enum Machine {
    static var description: String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores, Linux \(release)"
    }
}

/// Finds the peers' Python: $MOODDEX_PEER_PYTHON, else .venv-peers/bin/python (scripts/setup-peers).
enum Peers {
    /// jemalloc settings from PyTorch's CPU tuning guide: keep freed memory instead of returning it.
    static let jemallocSettings =
        "oversize_threshold:1,background_thread:false,metadata_thp:auto,dirty_decay_ms:-1,muzzy_decay_ms:-1"

    static var python: String? { python(variable: "MOODDEX_PEER_PYTHON", venv: ".venv-peers") }

    /// TensorFlow's Python (musicnn's peer; its numpy pins differ from PyTorch's, so it has a venv
    /// of its own): $MOODDEX_TF_PYTHON, else .venv-tf/bin/python (`scripts/setup-peers tensorflow`).
    static var tensorflowPython: String? { python(variable: "MOODDEX_TF_PYTHON", venv: ".venv-tf") }

    private static func python(variable: String, venv: String) -> String? {
        if let explicit = ProcessInfo.processInfo.environment[variable], !explicit.isEmpty { return explicit }
        let path = FileManager.default.currentDirectoryPath + "/\(venv)/bin/python"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Runs a peer script and decodes the JSON object it prints as `Output`: a field missing or of the
    /// wrong type is an error naming the script and the field, not a blank figure.
    static func run<Output: Decodable>(
        _ output: Output.Type, script: String, arguments: [String], preloadJemalloc: Bool = false,
        tensorflow: Bool = false
    ) throws -> Output {
        guard let python = tensorflow ? tensorflowPython : python else {
            throw PeerUnavailable(
                reason: tensorflow
                    ? "no TensorFlow Python: run scripts/setup-peers tensorflow (or set MOODDEX_TF_PYTHON)"
                    : "no peer Python: run scripts/setup-peers (or set MOODDEX_PEER_PYTHON)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + arguments
        var environment = ProcessInfo.processInfo.environment
        // Older-CPU workarounds slow a current numpy; unset them for the peer alone.
        environment["OPENBLAS_CORETYPE"] = nil
        environment["OPENBLAS_L2_SIZE"] = nil
        // PyTorch at its best (its CPU performance tuning guide): jemalloc preloaded *with*
        // retention settings; without them PyTorch runs 3-6x slower on this machine.
        let jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
        if preloadJemalloc && FileManager.default.fileExists(atPath: jemalloc) {
            environment["LD_PRELOAD"] = jemalloc
            environment["MALLOC_CONF"] = Self.jemallocSettings
        }
        process.environment = environment
        let printed = Pipe()
        process.standardOutput = printed
        try process.run()
        let data = printed.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PeerUnavailable(reason: "\(script) failed (exit \(process.terminationStatus))")
        }
        return try PeerOutput.decode(Output.self, from: data, script: script)
    }

    struct PeerUnavailable: Error, CustomStringConvertible { let reason: String; var description: String { reason } }
}

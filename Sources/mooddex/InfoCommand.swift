import ArgumentParser
import Foundation
import MoodAudio

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show each audio file's format, rate, channels and length (no full decode).")

    @Argument(help: "MP3, WAV or Ogg Vorbis files.") var files: [String]

    func run() throws {
        var failed = 0
        for file in files {
            do {
                let info = try AudioFile.info(file)
                print(
                    "\(file)\t\(info.format.rawValue)\t\(info.sampleRate) Hz\t\(info.channels) ch\t\(String(format: "%.2f", info.duration)) s"
                )
            } catch {
                warn("mooddex: \(error)")
                failed += 1
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }
}

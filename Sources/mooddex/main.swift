import MoodAudio
import Foundation
let dir = CommandLine.arguments[1]
var errors = 0, n = 0
let t0 = Date()
var rates = [Int: Int]()
for q in ["Q1","Q2","Q3","Q4"] {
  for f in try FileManager.default.contentsOfDirectory(atPath: dir + "/" + q).sorted() {
    n += 1
    do { let a = try AudioFile.decode(dir + "/" + q + "/" + f); let i = try AudioFile.info(dir + "/" + q + "/" + f); rates[i.sampleRate*10+i.channels, default: 0] += 1; if a.duration < 29 { print(f, a.duration) } } catch { errors += 1; print(error) }
  }
}
print(n, errors, Date().timeIntervalSince(t0), rates)

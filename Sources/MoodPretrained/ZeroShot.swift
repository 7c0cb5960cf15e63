import Foundation

/// Four moods from the MSD taggers' 50 tags without any mood labels ("zero-shot").
///
/// Each mood has tags that name or imply it. Tags differ in base rate ("rock" is common,
/// "sad" rare), so each tag's probability is divided by its mean over the clips scored
/// together, the mood's tags averaged, and the four scores normalised to sum to one.
public enum ZeroShotMoods {
    public static let moods = ["happy", "sad", "calm", "energetic"]
    public static let tags: [[String]] = [
        ["happy", "catchy", "party"], ["sad"], ["Mellow", "chill", "chillout", "easy listening", "ambient"],
        ["metal", "hard rock", "heavy metal", "punk"],
    ]

    /// Mood scores for rows of MSD tag probabilities (50 per row, `PretrainedModel.msdTags` order).
    public static func scores(_ rows: [[Float]]) -> [[Float]] {
        let names = PretrainedModel.msdTags
        let columns = tags.map { $0.map { names.firstIndex(of: $0)! } }
        let base = (0..<names.count).map { t in rows.map { $0[t] }.reduce(0, +) / Float(max(rows.count, 1)) }
        return rows.map { row in
            let scores = columns.map { cols in
                cols.map { row[$0] / max(base[$0], 1e-6) }.reduce(0, +) / Float(cols.count)
            }
            let total = scores.reduce(0, +)
            return scores.map { $0 / max(total, 1e-12) }
        }
    }
}

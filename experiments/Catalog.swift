import MoodNotebook

/// Every experiment MoodDex knows, in thesis order: the one list `mooddex list` and `run`
/// use. Package.swift makes one executable per folder of `experiments/run/`, and a test
/// checks that those folders are exactly these names.
public enum Catalog {
    public static let experiments: [Experiment.Type] = [
        Ch3MTGJamendoLabels.self, Ch3KerasComparison.self, Ch3FourMoods.self, Ch3MultiLabel.self, Ch3Segments.self,
        Ch3ZeroShot.self, Ch4Playlists.self,
    ]

    public static func find(_ name: String) -> Experiment.Type? { experiments.first { $0.name == name } }
}

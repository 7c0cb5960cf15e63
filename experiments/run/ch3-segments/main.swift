import MoodExperiments
import MoodNotebook

ExperimentRunner.main(Ch3Segments.self)

import MoodExperiments
import MoodNotebook

ExperimentRunner.main(Ch3KerasComparison.self)

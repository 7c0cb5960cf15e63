import MoodExperiments
import MoodNotebook

ExperimentRunner.main(Ch3MultiLabel.self)

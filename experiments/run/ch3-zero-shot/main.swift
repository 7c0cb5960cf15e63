import MoodExperiments
import MoodNotebook

ExperimentRunner.main(Ch3ZeroShot.self)

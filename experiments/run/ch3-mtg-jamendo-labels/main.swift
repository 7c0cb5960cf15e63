import MoodExperiments
import MoodNotebook

ExperimentRunner.main(Ch3MTGJamendoLabels.self)

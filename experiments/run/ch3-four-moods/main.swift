import MoodExperiments
import MoodNotebook

ExperimentRunner.main(Ch3FourMoods.self)

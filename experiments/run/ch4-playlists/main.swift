import MoodExperiments
import MoodNotebook

ExperimentRunner.main(Ch4Playlists.self)

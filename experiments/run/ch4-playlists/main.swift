import MoodCommandLine
import MoodExperiments

ExperimentCommand<Ch4Playlists>.main()

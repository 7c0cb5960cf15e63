import MoodCommandLine
import MoodExperiments

ExperimentCommand<Ch3Segments>.main()

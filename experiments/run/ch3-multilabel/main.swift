import MoodCommandLine
import MoodExperiments

ExperimentCommand<Ch3MultiLabel>.main()

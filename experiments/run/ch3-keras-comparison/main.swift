import MoodCommandLine
import MoodExperiments

ExperimentCommand<Ch3KerasComparison>.main()

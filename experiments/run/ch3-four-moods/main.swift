import MoodCommandLine
import MoodExperiments

ExperimentCommand<Ch3FourMoods>.main()

import MoodCommandLine
import MoodExperiments

ExperimentCommand<Ch3MTGJamendoLabels>.main()

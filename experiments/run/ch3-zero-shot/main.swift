import MoodCommandLine
import MoodExperiments

ExperimentCommand<Ch3ZeroShot>.main()

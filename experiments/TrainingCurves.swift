import Foundation
import MoodNotebook
import MoodPlot
import MoodTraining

/// The convergence figures every training report carries: loss per epoch for each run, and
/// the one-cycle schedule the runs followed.
enum TrainingCurves {
    /// Training and validation loss per epoch, one pair of lines per named run.
    static func losses(
        _ nb: Notebook, name: String = "loss", title: String, runs: [(String, [EpochRecord])], lossName: String
    ) throws {
        let caption = "Training and validation loss per epoch: \(title)"
        try nb.figure(name, caption: caption) { url in
            let series = runs.flatMap { run, history -> [LinePlot.Series] in
                [
                    .init("\(run): train", history.map { (Double($0.epoch), Double($0.trainLoss)) }),
                    .init(
                        "\(run): validation", history.map { (Double($0.epoch), Double($0.validLoss)) },
                        style: "lines lw 2 dt 2"),
                ]
            }
            try LinePlot(title: title, xLabel: "epoch", yLabel: lossName, series: series).render(to: url)
        }
    }

    /// The validation metric (accuracy, or accuracy_multi at 0.5) per epoch, one line per named run.
    static func metric(
        _ nb: Notebook, name: String = "metric", title: String, runs: [(String, [EpochRecord])], metricName: String
    ) throws {
        try nb.figure(
            name, caption: "\(metricName.prefix(1).uppercased() + metricName.dropFirst()) per epoch: \(title)"
        ) { url in
            try LinePlot(
                title: title, xLabel: "epoch", yLabel: metricName,
                series: runs.map { run, history in .init(run, history.map { (Double($0.epoch), Double($0.metric)) }) }
            ).render(to: url)
        }
    }

    /// fastai's one-cycle schedule over `epochs` x `batches` steps: the learning rate as a share
    /// of its peak and the momentum (Adam's beta1), per step.
    static func schedule(_ nb: Notebook, name: String = "schedule", maxLR: Double, epochs: Int, batches: Int) throws {
        let schedule = OneCycleSchedule(maxLR: maxLR, totalSteps: epochs * batches)
        let steps = Array(stride(from: 0, to: schedule.totalSteps, by: max(1, schedule.totalSteps / 400)))
        try nb.figure(
            name,
            caption: String(
                format:
                    "The one-cycle schedule followed: learning rate (peak %.0e) and momentum per step, %d epochs of %d batches",
                maxLR, epochs, batches)
        ) { url in
            try LinePlot(
                title: "one-cycle schedule", xLabel: "step", yLabel: "value",
                series: [
                    .init(
                        "learning rate / peak", steps.map { (Double($0), schedule.values(at: $0).learningRate / maxLR) }
                    ),
                    .init("momentum (beta1)", steps.map { (Double($0), schedule.values(at: $0).momentum) }),
                ]
            ).render(to: url)
        }
    }
}

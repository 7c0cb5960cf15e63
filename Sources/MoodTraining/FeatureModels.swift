import MoodCore
import MoodTensor

/// The thesis's Keras classifier for tabular audio features and its simpler and wider
/// relatives, each with the recipe that trains it: built in one place so the Spotify
/// comparison, the 4Q feature models and the benchmark train the very same network.
///
/// - `kerasMLP`: `Dense(8, relu)`, `Dense(classes)` with Keras defaults: Glorot-uniform
///   weights, zero biases, Adam (lr 1e-3, beta2 0.999, epsilon 1e-7, no decay), batch 200,
///   300 epochs (thesis 3.3.9: 10 features, 72.75 %).
/// - `logistic`: one `Dense(classes)`, Adam at 1e-2, batch 1024, 500 epochs.
/// - `wideMLP`: 64-64 ReLU with dropout 0.2, AdamW (decay 0.01) at 3e-3, batch 64, 300 epochs.
/// - `penalisedLogistic`: `logistic` with an L2 penalty (Adam's coupled weight decay 0.01), for
///   standardised embeddings with hundreds of dimensions, where the plain fit overfits
///   (scikit-learn's `LogisticRegression` penalises by default too).
public enum FeatureModel: String, CaseIterable, Sendable {
    case kerasMLP, logistic, wideMLP, penalisedLogistic

    /// A network, its optimiser and how long to train it.
    public struct Recipe {
        public let network: Sequential
        public let optimizer: Optimizer
        public let epochs: Int
        public let batchSize: Int
        public let learningRate: Float
    }

    /// Builds the model for `inputs` features and `classes` classes, drawing its weights from `generator`.
    public func recipe(inputs: Int, classes: Int, generator: inout SeededGenerator) -> Recipe {
        let keras = { (network: Sequential) in
            Adam([ParameterGroup(network.parameters)], beta2: 0.999, epsilon: 1e-7, weightDecay: 0, decoupled: false)
        }
        switch self {
        case .kerasMLP:
            let hidden = Linear(inputs, 8, generator: &generator), output = Linear(8, classes, generator: &generator)
            hidden.glorotUniform(generator: &generator); output.glorotUniform(generator: &generator)
            let network = Sequential([hidden, ReLU(), output])
            return Recipe(network: network, optimizer: keras(network), epochs: 300, batchSize: 200, learningRate: 1e-3)
        case .logistic:
            let output = Linear(inputs, classes, generator: &generator)
            output.glorotUniform(generator: &generator)
            let network = Sequential([output])
            return Recipe(network: network, optimizer: keras(network), epochs: 500, batchSize: 1024, learningRate: 1e-2)
        case .penalisedLogistic:
            let output = Linear(inputs, classes, generator: &generator)
            output.glorotUniform(generator: &generator)
            let network = Sequential([output])
            let optimizer = Adam(
                [ParameterGroup(network.parameters)], beta2: 0.999, epsilon: 1e-7, weightDecay: 0.01, decoupled: false)
            return Recipe(network: network, optimizer: optimizer, epochs: 300, batchSize: 1024, learningRate: 1e-2)
        case .wideMLP:
            let network = Sequential([
                Linear(inputs, 64, generator: &generator), ReLU(), Linear(64, 64, generator: &generator), ReLU(),
                Dropout(0.2, generator: &generator), Linear(64, classes, generator: &generator),
            ])
            let optimizer = Adam.adamW(
                [ParameterGroup(network.parameters)], beta2: 0.999, epsilon: 1e-7, weightDecay: 0.01)
            return Recipe(network: network, optimizer: optimizer, epochs: 300, batchSize: 64, learningRate: 3e-3)
        }
    }
}

import Foundation

/// A Float32 array with a shape, row-major (NCHW for images), on memory it owns.
///
/// A reference type on purpose: each layer owns its output and gradient tensors and
/// refills them every step, so training allocates nothing per batch once shapes settle.
/// `resize` keeps the storage whenever it is large enough. A layer's output stays valid
/// only until that layer runs again.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    private(set) var capacity: Int
    /// The values; `count` of them are in use.
    public private(set) var data: UnsafeMutablePointer<Float>

    public init(shape: [Int]) {
        self.shape = shape
        count = shape.reduce(1, *)
        capacity = max(count, 1)
        data = .allocate(capacity: capacity)
        data.initialize(repeating: 0, count: capacity)
    }

    public convenience init(shape: [Int], values: [Float]) {
        precondition(
            values.count == shape.reduce(1, *), "shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)"
        )
        self.init(shape: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { data.deallocate() }

    /// Gives the tensor a new shape, reallocating only when it needs more room. Contents are unspecified.
    public func resize(_ newShape: [Int]) {
        let needed = newShape.reduce(1, *)
        if needed > capacity {
            data.deallocate()
            capacity = needed
            data = .allocate(capacity: capacity)
            data.initialize(repeating: 0, count: capacity)
        }
        shape = newShape
        count = needed
    }

    /// Resizes to `other`'s shape.
    public func resize(like other: Tensor) { resize(other.shape) }

    public func zero() { data.update(repeating: 0, count: count) }
    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public func copy(from other: Tensor) {
        resize(other.shape)
        data.update(from: other.data, count: count)
    }

    public func copy(from values: [Float]) {
        precondition(values.count == count, "expected \(count) values, got \(values.count)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    /// The first index of a NaN or infinity, if any.
    public var firstNonFinite: Int? {
        for i in 0..<count where !data[i].isFinite { return i }
        return nil
    }

    public var description: String { "Tensor\(shape)" }
}

/// A trainable array and its gradient, with a name as PyTorch would give it
/// (`body.0.conv.weight`), so weights move to and from safetensors files by name.
public final class Parameter: @unchecked Sendable {
    public var name: String
    public let value: Tensor
    public let gradient: Tensor
    /// Frozen parameters keep their values: the optimiser skips them (fastai's `freeze`).
    public var frozen = false
    /// Excluded from weight decay (biases and normalisation scales, as fastai does).
    public let decays: Bool

    public init(name: String, shape: [Int], decays: Bool = true) {
        self.name = name
        value = Tensor(shape: shape)
        gradient = Tensor(shape: shape)
        self.decays = decays
    }
}

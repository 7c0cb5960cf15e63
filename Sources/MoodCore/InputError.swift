/// An input the project cannot use, named with the file and the problem.
///
/// Every public entry point that reads a file reports bad input this way, so the
/// message a user sees always says *which* file and *what* is wrong with it:
/// `song.mp3: truncated: decoded 1.20 s of the 3.00 s its header announces`.
public struct InputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or folder) at fault, as the user named it.
    public let path: String
    /// What is wrong, in words.
    public let problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// A parameter outside its valid range, named with its value and what it must be.
public struct InvalidParameter: Error, CustomStringConvertible, Equatable, Sendable {
    public let name: String
    public let value: String
    public let requirement: String

    public init(_ name: String, _ value: Any, _ requirement: String) {
        self.name = name
        self.value = "\(value)"
        self.requirement = requirement
    }

    public var description: String { "\(name) = \(value): \(requirement)" }
}

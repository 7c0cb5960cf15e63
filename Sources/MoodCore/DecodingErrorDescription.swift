import Foundation

extension DecodingError {
    /// The first key of the path at fault (a tensor's name, a record's field), nil when the
    /// document as a whole is wrong (not JSON, not an object).
    public var topLevelKey: String? {
        switch self {
        case .keyNotFound(let key, let context): (context.codingPath.first ?? key).stringValue
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            context.codingPath.first?.stringValue
        @unknown default: nil
        }
    }

    /// The error in words with the path of the field at fault (`runs.0.classes`), for messages that
    /// also name the file: JSONDecoder's own descriptions are written for programmers.
    public var plainDescription: String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is Double.Type, is Float.Type: "a number"
            case is Int.Type, is Int64.Type, is UInt64.Type: "a whole number"
            case is String.Type: "a string"
            case is Bool.Type: "true or false"
            default: type is any Collection.Type ? "a list or object of the expected kind" : "\(type)"
            }
        }
        switch self {
        case .keyNotFound(let key, let context): return "no field \"\(path(context.codingPath + [key]))\""
        case .typeMismatch(let type, let context):
            return context.codingPath.isEmpty
                ? "not \(kind(type))" : "field \"\(path(context.codingPath))\" is not \(kind(type))"
        case .valueNotFound(let type, let context):
            return "field \"\(path(context.codingPath))\" is null, not \(kind(type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "not JSON (\(context.debugDescription))"
                : "field \"\(path(context.codingPath))\": \(context.debugDescription)"
        @unknown default: return "\(self)"
        }
    }
}

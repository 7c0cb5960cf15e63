import Foundation

/// A table read from CSV (RFC 4180: quoted fields may hold commas, quotes doubled, newlines)
/// or TSV. Columns are found by header name; a missing column or a bad number is an
/// ``InputError`` naming the file, the column and the line.
public struct CSVTable: Sendable {
    public let path: String
    public let header: [String]
    public let rows: [[String]]

    /// `text` as one RFC 4180 field: quoted when it holds a comma, a quote, a line break or
    /// leading/trailing spaces (a quote inside doubled), as is otherwise.
    public static func field(_ text: String) -> String {
        let needsQuotes =
            text.contains { $0 == "," || $0 == "\"" || $0.isNewline } || text.first == " " || text.last == " "
        return needsQuotes ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    public init(contentsOf path: String, separator: Character = ",") throws {
        let data = try RegularFile.contents(path)
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(path, "not UTF-8 text") }
        try self.init(text: text, path: path, separator: separator)
    }

    public init(text: String, path: String, separator: Character = ",") throws {
        var records = [[String]]()
        var field = "", record = [String]()
        var quoted = false, atFieldStart = true
        // A byte-order mark (Excel writes one) is not part of the first column's name.
        var iterator = (text.first == "\u{FEFF}" ? Substring(text.dropFirst()) : Substring(text)).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" && atFieldStart {
                quoted = true; atFieldStart = false
            } else if c == separator {
                record.append(field); field = ""; atFieldStart = true
            } else if c == "\n" || c == "\r\n" || c == "\r" {
                record.append(field); field = ""; atFieldStart = true
                if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
                record = []
            } else {
                field.append(c); atFieldStart = false
            }
        }
        if quoted { throw InputError(path, "unterminated quoted field at the end of the file") }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        guard let header = records.first else { throw InputError(path, "empty file: no header line") }
        self.path = path
        self.header = header.map { $0.trimmingCharacters(in: .whitespaces) }
        rows = Array(records.dropFirst())
    }

    /// The index of `name`, or an error listing the columns there are.
    public func column(_ name: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw InputError(path, "missing column '\(name)' (columns: \(header.joined(separator: ", ")))")
        }
        return index
    }

    public func strings(_ name: String) throws -> [String] {
        let c = try column(name)
        return try rows.enumerated().map { line, row in
            guard c < row.count else {
                throw InputError(path, "line \(line + 2) has \(row.count) fields, column '\(name)' is field \(c + 1)")
            }
            return row[c]
        }
    }

    public func numbers(_ name: String) throws -> [Double] {
        try strings(name).enumerated().map { line, text in
            guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                throw InputError(path, "line \(line + 2), column '\(name)': '\(text)' is not a number")
            }
            return v
        }
    }
}

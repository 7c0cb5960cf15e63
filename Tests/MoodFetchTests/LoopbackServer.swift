import Foundation

/// A minimal HTTP/1.1 file server on 127.0.0.1 (an ephemeral port), for the download tests
/// only: GET with optional `Range: bytes=N-`, one connection at a time. It can cut a
/// response short once (an interrupted transfer) and records every request it saw.
final class LoopbackServer: @unchecked Sendable {
    private(set) var port: UInt16 = 0
    private let socketFD: Int32
    private let lock = NSLock()
    private var files: [String: Data]
    private var cutOnce: [String: Int] = [:]
    private var log: [(path: String, from: Int)] = []
    private var running = true

    init(files: [String: Data]) throws {
        self.files = files
        socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(socketFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(socketFD, 8) == 0 else { throw CocoaError(.fileWriteUnknown) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in serve() }
    }

    var baseURL: String { "http://127.0.0.1:\(port)/" }

    /// The next response for `path` stops after `bytes` body bytes and closes the connection.
    func cut(_ path: String, after bytes: Int) { lock.lock(); cutOnce[path] = bytes; lock.unlock() }
    func replace(_ path: String, with data: Data) { lock.lock(); files[path] = data; lock.unlock() }
    var requests: [(path: String, from: Int)] { lock.lock(); defer { lock.unlock() }; return log }

    func stop() {
        lock.lock(); running = false; lock.unlock()
        shutdown(socketFD, Int32(SHUT_RDWR))
        close(socketFD)
    }

    private func serve() {
        while true {
            let client = accept(socketFD, nil, nil)
            lock.lock(); let live = running; lock.unlock()
            guard live, client >= 0 else { if client >= 0 { close(client) }; return }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var request = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.contains(Data("\r\n\r\n".utf8)) {
            let n = recv(client, &buffer, buffer.count, 0)
            if n <= 0 { return }
            request.append(contentsOf: buffer[0..<n])
        }
        let text = String(decoding: request, as: UTF8.self)
        let firstLine = text.split(separator: "\r\n").first ?? ""
        let parts = firstLine.split(separator: " ")
        let path = parts.count > 1 ? String(parts[1].dropFirst()) : ""
        var from = 0
        for line in text.split(separator: "\r\n") where line.lowercased().hasPrefix("range: bytes=") {
            from = Int(line.split(separator: "=")[1].split(separator: "-")[0]) ?? 0
        }
        lock.lock()
        log.append((path, from))
        let body = files[path]
        let cut = cutOnce.removeValue(forKey: path)
        lock.unlock()
        guard let body else {
            send(client, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"); return
        }
        guard from <= body.count else {
            send(
                client,
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */\(body.count)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            ); return
        }
        let slice = body[(body.startIndex + from)...]
        let head =
            from > 0
            ? "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes \(from)-\(body.count - 1)/\(body.count)\r\nContent-Length: \(slice.count)\r\nConnection: close\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nContent-Length: \(slice.count)\r\nConnection: close\r\n\r\n"
        send(client, head)
        let payload = cut.map { Data(slice.prefix($0)) } ?? Data(slice)
        payload.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = Foundation.send(client, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                sent += n
            }
        }
    }

    private func send(_ client: Int32, _ text: String) {
        _ = text.withCString { Foundation.send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }
}

/// A ustar archive of `files` (path -> bytes), as `tar` writes it.
func tarArchive(_ files: [(String, Data)]) -> Data {
    var out = Data()
    for (name, body) in files {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) { for (i, b) in text.utf8.enumerated() { header[offset + i] = b } }
        put(name, at: 0)
        put("0000644", at: 100); put("0000000", at: 108); put("0000000", at: 116)
        put(String(format: "%011o", body.count), at: 124)
        put("00000000000", at: 136)
        header[156] = UInt8(ascii: "0")
        put("ustar", at: 257); put("00", at: 263)
        for i in 148..<156 { header[i] = 32 }
        let sum = header.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o", sum), at: 148); header[154] = 0; header[155] = 32
        out.append(contentsOf: header)
        out.append(body)
        out.append(Data(count: (512 - body.count % 512) % 512))
    }
    out.append(Data(count: 1024))
    return out
}

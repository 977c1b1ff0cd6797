import Foundation
import SlipwayCore
import SlipwayTestSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 server on loopback that answers as kube-apiserver did: each answer is a recording taken from the real
/// server (`Tests/Fixtures/kube-recordings`, made by `Tests/Fixtures/kube-record`), sent as recorded — status,
/// headers, body, and an end without a last chunk where the real one cut the connection. For the error paths a real
/// server will not take on demand: load shedding (429), a watch cut mid-stream.
final class RecordedAPIServer: Sendable {
    /// One answer: a recording by name, or a success with `object` as its JSON body.
    enum Answer: Sendable {
        case recorded(String)
        case object(JSONValue)
        /// A watch stream of `events` (each `{"type","object"}`), ended cleanly.
        case watch([JSONValue])
    }

    /// A recording, as `kube-record` writes it.
    struct Recording: Decodable, Sendable {
        struct Request: Decodable, Sendable {
            var method: String
            var path: String
        }
        struct Response: Decodable, Sendable {
            var status: Int
            var reason: String
            var headers: [String: String]
            var body: String
        }
        struct Wire: Decodable, Sendable {
            var end: String?
        }
        var request: Request
        var response: Response
        var wire: Wire?

        /// Whether the real server ended the answer by cutting the connection.
        var isCut: Bool { wire?.end?.contains("no last chunk") == true }

        static func load(_ name: String) throws -> Recording {
            let path = Fixtures.path("kube-recordings/\(name).json")
            return try JSONDecoder().decode(Recording.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }

    /// Its port on 127.0.0.1.
    let port: Int
    private let listener: Int32
    private let state: Mutex<(answers: [Answer], requests: [String], stopped: Bool)>

    /// A server giving `answers` in order, one per request; once they are used up, it answers 500.
    init(_ answers: [Answer]) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw LoopbackHTTP.Failure(description: "cannot listen on loopback: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        listener = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        state = Mutex((answers, [], false))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// The requests received, as `METHOD path?query`, in order.
    var requests: [String] { state.withLock { $0.requests } }

    /// Stops accepting.
    func stop() {
        state.withLock { $0.stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                if state.withLock({ $0.stopped }) { return }
                continue
            }
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    /// Answers the requests of one connection, one after the other.
    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var buffer: [UInt8] = []
        while let (head, rest) = readHead(connection, buffer) {
            buffer = rest
            let lines = head.split(separator: "\r\n")
            let requestLine = lines.first.map(String.init) ?? ""
            let length =
                lines.dropFirst().first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            while buffer.count < length {
                guard let more = read(connection) else { return }
                buffer += more
            }
            buffer.removeFirst(min(length, buffer.count))
            let words = requestLine.split(separator: " ")
            let request = words.count >= 2 ? "\(words[0]) \(words[1])" : requestLine
            let answer = state.withLock { state -> Answer? in
                state.requests.append(request)
                return state.answers.isEmpty ? nil : state.answers.removeFirst()
            }
            guard write(answer, to: connection) else { return }
        }
    }

    /// Sends one answer; false when the connection must close after it.
    private func write(_ answer: Answer?, to connection: Int32) -> Bool {
        switch answer {
        case .recorded(let name):
            guard let recording = try? Recording.load(name) else {
                send(connection, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
                return true
            }
            let response = recording.response
            var text = "HTTP/1.1 \(response.status) \(response.reason)\r\n"
            for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
            text += "\r\n"
            let chunked = response.headers.contains { $0.key.lowercased() == "transfer-encoding" }
            if chunked {
                let body = Array(response.body.utf8)
                text += String(body.count, radix: 16) + "\r\n" + response.body + "\r\n"
                if recording.isCut {
                    send(connection, text)
                    return false
                }
                text += "0\r\n\r\n"
            } else {
                text += response.body
            }
            send(connection, text)
            return true
        case .object(let object):
            let body = Self.json(object)
            send(
                connection,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            return true
        case .watch(let events):
            var text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            for event in events {
                let line = Self.json(event) + "\n"
                text += String(line.utf8.count, radix: 16) + "\r\n" + line + "\r\n"
            }
            send(connection, text + "0\r\n\r\n")
            return true
        case nil:
            send(connection, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
            return true
        }
    }

    private static func json(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    private func readHead(_ connection: Int32, _ start: [UInt8]) -> (String, [UInt8])? {
        var buffer = start
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let range = buffer.firstRange(of: end) {
                let head = String(decoding: buffer[..<range.lowerBound], as: UTF8.self)
                return (head, Array(buffer[range.upperBound...]))
            }
            guard let more = read(connection) else { return nil }
            buffer += more
        }
    }

    private func read(_ connection: Int32) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 16384)
        let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(chunk[..<count]) : nil
    }

    private func send(_ connection: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes {
                Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { return }
            sent += written
        }
    }
}

import NIOCore
import NIOEmbedded
import NIOHTTP1
import SlipwayHTTP1
import Testing

/// The same responses through llhttp (SwiftNIO's strict response decoder) and ``ResponseStream``: they must agree on
/// what is accepted, on what an accepted head says and on the body, except where a difference is listed with its
/// reason.
@Suite struct ResponseDifferentialTests {
    enum Verdict: Equatable, CustomStringConvertible {
        case accepted(status: Int, minor: Int, fields: [String], body: String)
        case refused
        case incomplete

        var description: String {
            switch self {
            case .accepted(let status, let minor, let fields, let body):
                return "accepted \(status) 1.\(minor) \(fields) \(body.debugDescription)"
            case .refused: return "refused"
            case .incomplete: return "incomplete"
            }
        }
    }

    /// llhttp's reading of a response to a GET, once the instance has closed the connection.
    static func old(_ bytes: [UInt8]) -> Verdict {
        let channel = EmbeddedChannel()
        let decoder = HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .forward)
        try? channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
        // The decoder learns the request's method from the outgoing head.
        _ = try? channel.writeOutbound(
            HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/"))
        )
        do {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            _ = try channel.finish()
        } catch {
            return .refused
        }
        var head: HTTPResponseHead?
        var body = ""
        var ended = false
        while let part = try? channel.readInbound(as: HTTPClientResponsePart.self) {
            switch part {
            case .head(let received) where head == nil: head = received
            case .head: break
            case .body(let buffer): body += String(buffer: buffer)
            case .end: ended = true
            }
            if ended { break }
        }
        guard let head else { return .incomplete }
        guard ended else { return .incomplete }
        return .accepted(
            status: Int(head.status.code),
            minor: head.version.minor,
            fields: head.headers.map { "\($0.name): \($0.value.trimmingCharacters(in: [" ", "\t"]))" },
            body: body
        )
    }

    /// The new front end's reading of the same bytes, with the chunk framing taken off to compare bodies; as
    /// llhttp does, it reads on past the first response, and the connection closing ends the bytes.
    static func new(_ bytes: [UInt8]) -> Verdict {
        var stream = ResponseStream()
        var buffer = ByteBuffer(bytes: bytes)
        var first: Verdict?
        var head: ResponseHead?
        var body = ""
        while true {
            switch stream.next(&buffer, requestMethod: .get) {
            case .failure:
                return .refused
            case .success(nil):
                // The instance closed the connection: a body it delimits ends; anything else was cut short.
                if let head, stream.closed() != nil {
                    return first ?? accepted(head, body)
                }
                if head == nil, buffer.readableBytes == 0, first != nil { return first! }
                return .refused
            case .success(.head(let received)?):
                if received.isInterim { continue }
                head = received
                stream.decodeChunks = true
            case .success(.body(let part)?):
                body += String(buffer: part)
            case .success(.end?):
                if let head, first == nil { first = accepted(head, body) }
                head = nil
                body = ""
            }
        }
    }

    static func accepted(_ head: ResponseHead, _ body: String) -> Verdict {
        .accepted(
            status: head.status,
            minor: head.minorVersion,
            fields: head.fields.map { "\(head.text($0.name)): \(head.text($0.value))" },
            body: body
        )
    }

    static let bases = [
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
        "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close",
        "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n",
    ]

    static let interesting: [UInt8] = [0, 1, 9, 10, 13, 32, 44, 48, 58, 59, 65, 97, 127, 128, 255]

    static func mutations() -> [[UInt8]] {
        var all: [[UInt8]] = []
        for base in bases {
            let bytes = Array(base.utf8)
            for position in 0..<bytes.count {
                for byte in interesting {
                    var inserted = bytes
                    inserted.insert(byte, at: position)
                    all.append(inserted)
                    var replaced = bytes
                    replaced[position] = byte
                    all.append(replaced)
                }
            }
        }
        return all
    }

    /// Where the new front end is meant to differ, and why.
    enum Difference: String, CaseIterable {
        /// llhttp takes a status code below 100, control bytes or a bare CR in the reason phrase, and a lone CR or
        /// LF before the status line (or the next one). The proxy passes the status line on to the client, so it
        /// refuses them (502).
        case stricterStatusLine = "the status line is read strictly"
        /// llhttp reads `Transfer-Encoding: chunked<TAB>` as not chunked, where other parsers read it as chunked: the
        /// proxy refuses a tab after a framing field's value rather than guess.
        case tabAfterFraming = "a tab after a framing field is refused"

        static func explaining(_ bytes: [UInt8], old: Verdict, new: Verdict) -> Difference? {
            guard case .accepted = old, case .refused = new else { return nil }
            let text = String(decoding: bytes, as: UTF8.self)
            if text.contains("Transfer-Encoding: chunke\t") || text.contains("Transfer-Encoding: chunked\t")
                || text.contains("Content-Length: 5\t")
            {
                return .tabAfterFraming
            }
            if text.contains("\r\n\r\n\n") || text.range(of: #"\r\n\r\n\r[^\n]"#, options: .regularExpression) != nil {
                return .stricterStatusLine
            }
            let line = bytes.prefix { $0 != 10 }
            guard line.count >= 12 else { return .stricterStatusLine }
            let status = line.dropFirst(9).prefix(3)
            let controls = line.dropFirst(12).dropLast().contains { $0 < 32 && $0 != 9 || $0 == 127 || $0 == 13 }
            if bytes.first == 10 || bytes.first == 13 || status.first == 48 || controls || line.last != 13 {
                return .stricterStatusLine
            }
            return nil
        }
    }

    @Test func bothReadEveryMutationOfValidResponsesAlike() {
        let corpus = Self.mutations()
        var unexplained: [String] = []
        var explained: [Difference: Int] = [:]
        for bytes in corpus {
            let old = Self.old(bytes)
            let new = Self.new(bytes)
            if old == new { continue }
            if let difference = Difference.explaining(bytes, old: old, new: new) {
                explained[difference, default: 0] += 1
                continue
            }
            unexplained.append(
                "\(String(decoding: bytes, as: UTF8.self).debugDescription)\n    llhttp: \(old)\n    new: \(new)"
            )
        }
        #expect(unexplained.isEmpty, "\(unexplained.count):\n\(unexplained.prefix(30).joined(separator: "\n"))")
        // Each listed difference shows up, so the list stays honest.
        #expect(Set(explained.keys) == Set(Difference.allCases))
        print(
            "response differential: \(corpus.count) mutated responses, \(unexplained.count) disagreements; "
                + explained.map { "\($0.value) where \($0.key.rawValue)" }.sorted().joined(separator: ", ")
        )
    }
}

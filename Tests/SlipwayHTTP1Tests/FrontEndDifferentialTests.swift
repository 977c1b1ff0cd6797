import NIOCore
import NIOEmbedded
import NIOHTTP1
import SlipwayHTTP1
import Testing

@testable import SlipwayProxy

/// The same requests through the old front end (llhttp in SwiftNIO's strict decoder, then the proxy's framing
/// checks) and the new one (``RequestHeadParser``): they must agree on what is accepted, and on what an accepted
/// head says, except where a difference is listed here with its reason.
@Suite struct FrontEndDifferentialTests {
    /// What a front end made of some bytes.
    enum Verdict: Equatable, CustomStringConvertible {
        case accepted(method: String, target: String, minor: Int, fields: [String], body: MessageBody)
        case refused
        case incomplete

        var description: String {
            switch self {
            case .accepted(let method, let target, let minor, let fields, let body):
                return "accepted \(method) \(target) 1.\(minor) \(fields) \(body)"
            case .refused: return "refused"
            case .incomplete: return "incomplete"
            }
        }
    }

    static func old(_ bytes: [UInt8]) -> Verdict {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = 32 * 1024
        limits.maxHeaderFieldSize = 32 * 1024
        let decoder = HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits)
        try? channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
        do {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        } catch {
            return .refused
        }
        guard case .head(let head)? = try? channel.readInbound(as: HTTPServerRequestPart.self) else {
            return .incomplete
        }
        if head.method.rawValue.utf8.count + head.uri.utf8.count + 11 > 8 * 1024 { return .refused }
        guard case .success(let framing) = OldFrontEndChecks.check(head) else { return .refused }
        let body: MessageBody
        switch framing {
        case .none: body = .none
        case .length(let length): body = .length(length)
        case .chunked: body = .chunked
        }
        return .accepted(
            method: head.method.rawValue,
            target: head.uri,
            minor: head.version.minor,
            // RFC 9110 §5.5: whitespace around a value is not part of it; llhttp leaves the trailing part in.
            fields: head.headers.map { "\($0.name): \($0.value.trimmingSpaces())" },
            body: body
        )
    }

    /// The first request's head, unless something in the bytes, this request's body or a request after it, is
    /// refused (llhttp reads them all in one go).
    static func new(_ bytes: [UInt8]) -> Verdict {
        var stream = RequestStream()
        var buffer = ByteBuffer(bytes: bytes)
        var first: Verdict?
        while true {
            switch stream.next(&buffer) {
            case .failure: return .refused
            case .success(nil): return first ?? .incomplete
            case .success(.head(let head)?):
                first =
                    first
                    ?? .accepted(
                        method: head.methodText,
                        target: head.target,
                        minor: head.minorVersion,
                        fields: head.fieldTexts.map { "\($0.0): \($0.1)" },
                        body: head.body
                    )
            case .success(.body?), .success(.end?):
                break
            }
        }
    }

    /// Requests that hold every part the parser reads.
    static let bases = [
        "GET /a/b?c=d&e HTTP/1.1\r\nHost: shop.example\r\nAccept: */*\r\nCookie: u=1; slipway=2\r\n\r\n",
        "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
        "PUT /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
        "GET / HTTP/1.0\r\nUser-Agent: curl/8\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
    ]

    /// Bytes that change meaning somewhere in a head.
    static let interesting: [UInt8] = [
        0, 1, 9, 10, 13, 32, 34, 40, 44, 47, 58, 59, 61, 63, 64, 65, 92, 97, 123, 127, 128, 255,
    ]

    /// Every base with each interesting byte inserted at, and replacing, each position.
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
        /// RFC 9110 §9.1: a method is any token. llhttp knows a fixed list and refuses the rest; the proxy forwards
        /// extension methods (WebDAV, custom RPC verbs) as nginx and HAProxy do.
        case extensionMethod = "an extension method is forwarded"
        /// llhttp takes several spaces between the parts of the request line, and a lone CR or LF before it (or
        /// before the next request); the new front end takes exactly one space, and only CRLF pairs before a request
        /// (RFC 9112 §2.2, §3).
        case stricterRequestLine = "the request line is read strictly"

        /// The proxy forwards HTTP/1.0 as HTTP/1.1, where two `Host` fields are invalid (RFC 9112 §3.2); llhttp and
        /// the old checks let them through on HTTP/1.0.
        case hostsOnHTTP10 = "two Host fields are refused on HTTP/1.0 too"

        static func explaining(_ bytes: [UInt8], old: Verdict, new: Verdict) -> Difference? {
            if case .accepted(_, _, 0, let fields, _) = old, case .refused = new,
                fields.filter({ $0.lowercased().hasPrefix("host:") }).count > 1
            {
                return .hostsOnHTTP10
            }
            switch (old, new) {
            case (.refused, .accepted(let method, _, _, _, _)):
                if case .RAW = HTTPMethod(rawValue: method) { return .extensionMethod }
            case (.accepted, .refused):
                let line = bytes.prefix { $0 != 10 && $0 != 13 }
                let doubled = zip(line, line.dropFirst()).contains { $0 == 32 && $1 == 32 }
                if doubled || line.isEmpty { return .stricterRequestLine }
                // The same before the next request on the connection.
                let end = Array("\r\n\r\n".utf8)
                if let head = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<($0 + 4)]) == end }),
                    let next = bytes.dropFirst(head + 4).first, next == 10 || next == 13
                {
                    return .stricterRequestLine
                }
            default:
                break
            }
            return nil
        }
    }

    /// The disagreements no listed difference explains, and how often each listed one was seen.
    static func compare(_ corpus: [[UInt8]]) -> (unexplained: [String], explained: [Difference: Int]) {
        var unexplained: [String] = []
        var explained: [Difference: Int] = [:]
        for bytes in corpus {
            let old = Self.old(bytes)
            var new = Self.new(bytes)
            if case .refused = old, case .incomplete = new {
                // llhttp refuses a line as soon as it is read; the new front end once the head is complete.
                new = Self.new(bytes + Array("\r\n\r\n".utf8))
            }
            if old == new { continue }
            if let difference = Difference.explaining(bytes, old: old, new: new) {
                explained[difference, default: 0] += 1
                continue
            }
            unexplained.append(
                "\(String(decoding: bytes, as: UTF8.self).debugDescription)\n    old: \(old)\n    new: \(new)"
            )
        }
        return (unexplained, explained)
    }

    @Test func bothFrontEndsAgreeOnEveryMutationOfValidRequests() {
        let corpus = Self.mutations()
        let (unexplained, explained) = Self.compare(corpus)
        #expect(unexplained.isEmpty, "\(unexplained.count):\n\(unexplained.prefix(40).joined(separator: "\n"))")
        // Each listed difference shows up here or in the hostile corpus, so the list stays honest.
        let hostile = Self.compare(Self.hostile.map { Array($0.0.utf8) }).explained
        #expect(Set(explained.keys).union(hostile.keys) == Set(Difference.allCases))
        print(
            "differential: \(corpus.count) mutated requests, \(unexplained.count) disagreements; "
                + explained.map { "\($0.value) where \($0.key.rawValue)" }.sorted().joined(separator: ", ")
        )
    }

    /// Request smuggling and parser-confusion cases collected from public write-ups, each with what must happen.
    static let hostile: [(String, accepted: Bool)] = [
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  chunked\r\n\r\n0\r\n\r\n", true),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n chunked\r\n\r\n0\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunk\r\n\r\n0\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer_Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", true),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x3\r\n\r\nabc", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3 3\r\n\r\nabc", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 003\r\n\r\nabc", true),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", true),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n", true),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", false),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nHost: x\r\nX: a\u{0}b\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\nX: a\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\r\n X: a\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", false),
        ("GET / HTTP/1.1\r\n\r\n", false),
        ("GET / HTTP/1.0\r\n\r\n", true),
        ("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", false),
        ("GET /\u{7f} HTTP/1.1\r\nHost: x\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: y\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGARBAGE\r\n\r\n", false),
    ]

    @Test func bothFrontEndsAgreeOnHostileRequests() {
        for (text, accepted) in Self.hostile {
            let new = Self.new(Array(text.utf8))
            if case .accepted = new {
                #expect(accepted, "\(text.debugDescription): \(new)")
            } else {
                #expect(!accepted, "\(text.debugDescription): \(new)")
            }
        }
        let (unexplained, _) = Self.compare(Self.hostile.map { Array($0.0.utf8) })
        #expect(unexplained.isEmpty, "\(unexplained.joined(separator: "\n"))")
    }

    static func kind(_ verdict: Verdict) -> String {
        switch verdict {
        case .accepted: return "accepted"
        case .refused: return "refused"
        case .incomplete: return "incomplete"
        }
    }
}

import NIOHTTP1

/// What a request head asks of the connection, read once from its `Connection` header.
struct ConnectionIntent {
    /// The client wants the connection kept open after the response.
    var keepAlive: Bool
    /// A protocol upgrade (WebSocket) is requested.
    var upgrade: Bool
    /// The client waits for `100 Continue` before sending the body.
    var expectsContinue: Bool
}

/// Turns the heads that pass through the proxy into what the other side should see: hop-by-hop headers removed
/// (RFC 9110 §7.6.1), forwarding headers added. The head is edited in place only where something changes.
enum HeaderRewriting {
    private static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
    ]

    /// Rewrites a client's request head for an instance and returns what it asked of the connection.
    static func prepareRequest(
        _ head: inout HTTPRequestHead,
        clientAddress: String?,
        requestID: () -> String
    ) -> ConnectionIntent {
        var connectionTokens: [Substring] = []
        var hasHopByHop = false
        var hasForwardedFor = false
        var hasForwardedProto = false
        var hasRequestID = false
        var hasUpgradeHeader = false
        var expectsContinue = false
        for (name, value) in head.headers {
            switch name.utf8.count {
            case 10 where name.lowercased() == "connection":
                connectionTokens += value.split(separator: ",").map { $0.trimmingSpaces() }
                hasHopByHop = true
            case 2, 7, 10, 16:
                let lower = name.lowercased()
                if lower == "upgrade" { hasUpgradeHeader = true }
                if hopByHop.contains(lower) { hasHopByHop = true }
            case 6 where name.lowercased() == "expect":
                expectsContinue = value.trimmingSpaces().lowercased() == "100-continue"
            case 15 where name.lowercased() == "x-forwarded-for":
                hasForwardedFor = true
            case 17 where name.lowercased() == "x-forwarded-proto":
                hasForwardedProto = true
            case 12 where name.lowercased() == "x-request-id":
                hasRequestID = true
            default:
                break
            }
        }
        let tokens = connectionTokens.map { $0.lowercased() }
        let http10 = head.version.major == 1 && head.version.minor == 0
        let keepAlive = http10 ? tokens.contains("keep-alive") : !tokens.contains("close")
        let upgrade = hasUpgradeHeader && tokens.contains("upgrade") && head.method == .GET
        if hasHopByHop {
            for name in hopByHop where !(upgrade && name == "upgrade") { head.headers.remove(name: name) }
            for token in tokens where !token.isEmpty && token != "close" && token != "keep-alive" {
                if !(upgrade && token == "upgrade") { head.headers.remove(name: token) }
            }
            if upgrade { head.headers.add(name: "Connection", value: "Upgrade") }
        }
        if expectsContinue { head.headers.remove(name: "expect") }
        if let clientAddress {
            if hasForwardedFor {
                let existing = head.headers["x-forwarded-for"].joined(separator: ", ")
                head.headers.replaceOrAdd(name: "X-Forwarded-For", value: existing + ", " + clientAddress)
            } else {
                head.headers.add(name: "X-Forwarded-For", value: clientAddress)
            }
        }
        if !hasForwardedProto { head.headers.add(name: "X-Forwarded-Proto", value: "http") }
        if !hasRequestID { head.headers.add(name: "X-Request-Id", value: requestID()) }
        head.version = .http1_1
        return ConnectionIntent(keepAlive: keepAlive, upgrade: upgrade, expectsContinue: expectsContinue)
    }

    /// Rewrites an instance's response head for the client; returns whether the instance keeps the connection open.
    static func prepareResponse(
        _ head: inout HTTPResponseHead,
        clientVersion: HTTPVersion,
        clientKeepAlive: Bool
    ) -> Bool {
        var upstreamTokens: [String] = []
        var hasHopByHop = false
        for (name, value) in head.headers {
            switch name.utf8.count {
            case 2, 7, 10, 16:
                let lower = name.lowercased()
                if lower == "connection" {
                    upstreamTokens += value.split(separator: ",").map { $0.trimmingSpaces().lowercased() }
                }
                if hopByHop.contains(lower) { hasHopByHop = true }
            default:
                break
            }
        }
        let upstreamKeepAlive =
            head.version.minor == 0 ? upstreamTokens.contains("keep-alive") : !upstreamTokens.contains("close")
        let switching = head.status == .switchingProtocols
        if hasHopByHop {
            for name in hopByHop where !(switching && (name == "upgrade" || name == "connection")) {
                head.headers.remove(name: name)
            }
            for token in upstreamTokens where !token.isEmpty && token != "close" && token != "keep-alive" {
                if !(switching && token == "upgrade") { head.headers.remove(name: token) }
            }
        }
        head.version = clientVersion
        if !switching {
            if !clientKeepAlive {
                head.headers.add(name: "Connection", value: "close")
            } else if clientVersion.minor == 0 {
                head.headers.add(name: "Connection", value: "keep-alive")
            }
        }
        return upstreamKeepAlive
    }
}

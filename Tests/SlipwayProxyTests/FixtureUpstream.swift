import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// A real HTTP/1.1 + WebSocket server on 127.0.0.1, built directly on SwiftNIO: the instance the proxy's live
/// tests put behind the proxy.
///
/// Every response carries `x-fixture-name: <name>`, so a test can tell which upstream answered. Routes (any method
/// unless said; `HEAD` always gets the head only):
/// - `/` → 200 `text/plain`, body `<name>\n`.
/// - `/headers` → 200 JSON: the request headers as received (`{"lowercased-name": ["value", …]}`) plus `"_method"`,
///   `"_uri"` and `"_version"` (strings).
/// - `/download?bytes=N` → 200 with `Content-Length: N`, N bytes of the pattern `offset % 251`, written in 64 KiB
///   chunks, each only while the channel is writable (never N bytes at once).
/// - `/download-chunked?bytes=N` → the same without `Content-Length` (chunked transfer encoding).
/// - `POST /upload` → streams the body (Content-Length or chunked; `Expect: 100-continue` honoured), keeping only a
///   count and the sum of its bytes mod 2^32, and answers 200 JSON `{"bytes":N,"sum":S}`. Other methods → 405.
/// - `/slow?ms=N` → 200 `slow\n` after N ms (a scheduled task on the event loop).
/// - `/status?code=N` (200...599) → status N, body `status N\n` (no body for 204 and 304).
/// - `/close` → 200 `bye\n` with `Connection: close`, then closes the connection.
/// - `/hang` → never answers; the connection stays open until the peer closes it (which the fixture notices).
/// - `GET /ws` with `Upgrade: websocket` → WebSocket echo: text, binary and continuation frames come back unchanged,
///   ping → pong, close → close. Accepted as the first request of a connection or after any number of kept-alive
///   requests on it. `/ws` without the upgrade → 426. A request asking for an upgrade that is not made is answered
///   with `Connection: close` (NIO's decoder parses nothing after it).
/// - Anything else → 404. A malformed query parameter → 400.
///
/// Keep-alive and pipelined requests work; `requestCount` counts request heads received (WebSocket upgrades
/// included) and `openConnections` the accepted connections not yet closed.
final class FixtureUpstream: Sendable {
    /// The name answered on `/` and in the `x-fixture-name` header.
    let name: String
    /// The bound port on 127.0.0.1.
    let port: Int

    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: any Channel
    private let stats: FixtureStats
    private let stopped = Atomic<Bool>(false)

    private init(
        name: String,
        port: Int,
        group: MultiThreadedEventLoopGroup,
        serverChannel: any Channel,
        stats: FixtureStats
    ) {
        self.name = name
        self.port = port
        self.group = group
        self.serverChannel = serverChannel
        self.stats = stats
    }

    deinit {
        // A test that failed before `stop()` must not leave the event-loop thread behind.
        if !self.stopped.load(ordering: .acquiring) {
            self.group.shutdownGracefully { _ in }
        }
    }

    /// Requests received so far (request heads, WebSocket upgrades included).
    var requestCount: Int { self.stats.requests.load(ordering: .relaxed) }

    /// Connections accepted and not yet closed.
    var openConnections: Int { self.stats.connections.load(ordering: .relaxed) }

    /// Starts a server on 127.0.0.1 on a free port, with its own one-thread event-loop group.
    static func start(name: String = "fixture") async throws -> FixtureUpstream {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let stats = FixtureStats()
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try FixturePipeline.configure(channel, name: name, stats: stats)
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .get()
            guard let port = channel.localAddress?.port else {
                try await channel.close()
                throw FixtureUpstreamError.noLocalPort
            }
            return FixtureUpstream(name: name, port: port, group: group, serverChannel: channel, stats: stats)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Closes the listening socket, then shuts the event-loop group down, which closes every open connection.
    /// Calling it again does nothing.
    func stop() async throws {
        guard self.stopped.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        do {
            try await self.serverChannel.close()
        } catch ChannelError.alreadyClosed {
            // Already closed: nothing to do.
        }
        try await self.group.shutdownGracefully()
    }
}

enum FixtureUpstreamError: Error {
    case noLocalPort
}

private final class FixtureStats: Sendable {
    let requests = Atomic<Int>(0)
    let connections = Atomic<Int>(0)

    func requestReceived() {
        self.requests.add(1, ordering: .relaxed)
    }
}

// MARK: - Pipeline

private enum FixturePipeline {
    static func configure(_ channel: any Channel, name: String, stats: FixtureStats) throws {
        stats.connections.add(1, ordering: .relaxed)
        channel.closeFuture.whenComplete { _ in
            stats.connections.subtract(1, ordering: .relaxed)
        }
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withServerUpgrade: (
                upgraders: [Self.makeWebSocketUpgrader(stats: stats)],
                completionHandler: { context in Self.removeHTTPHandler(context: context) }
            )
        )
        try channel.pipeline.syncOperations.addHandler(FixtureHTTPHandler(name: name, stats: stats))
    }

    static func makeWebSocketUpgrader(stats: FixtureStats) -> NIOWebSocketServerUpgrader {
        NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 24,
            shouldUpgrade: { channel, head in
                guard head.method == .GET, FixtureRequestTarget(head.uri).path == "/ws" else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                stats.requestReceived()
                return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FixtureWebSocketEchoHandler())
                }
            }
        )
    }

    /// Called once the 101 is sent: the HTTP handler leaves before the WebSocket handlers join.
    static func removeHTTPHandler(context: ChannelHandlerContext) {
        let operations = context.pipeline.syncOperations
        if let handler = try? operations.handler(type: FixtureHTTPHandler.self) {
            operations.removeHandler(handler, promise: nil)
        }
    }

    /// NIO's `HTTPServerUpgradeHandler` only looks at the first request of a connection and then leaves the
    /// pipeline. Put a fresh one back in front of `handler` before a kept-alive response ends, so that a later
    /// request on the same connection (for example a proxy's pooled one) can still be upgraded.
    static func rearmUpgrade(context: ChannelHandlerContext, before handler: FixtureHTTPHandler, stats: FixtureStats) {
        let operations = context.pipeline.syncOperations
        guard (try? operations.handler(type: HTTPServerUpgradeHandler.self)) == nil,
            let encoder = try? operations.handler(type: HTTPResponseEncoder.self),
            let decoder = try? operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self),
            let pipelining = try? operations.handler(type: HTTPServerPipelineHandler.self),
            let validator = try? operations.handler(type: NIOHTTPResponseHeadersValidator.self),
            let errors = try? operations.handler(type: HTTPServerProtocolErrorHandler.self)
        else { return }
        let upgrade = HTTPServerUpgradeHandler(
            upgraders: [Self.makeWebSocketUpgrader(stats: stats)],
            httpEncoder: encoder,
            extraHTTPHandlers: [decoder, pipelining, validator, errors],
            upgradeCompletionHandler: { context in Self.removeHTTPHandler(context: context) }
        )
        try? operations.addHandler(upgrade, position: .before(handler))
    }
}

// MARK: - HTTP

private enum FixtureRoute {
    case root
    case headers
    case download(bytes: Int, chunked: Bool)
    case upload
    case slow(milliseconds: Int64)
    case status(code: Int)
    case close
    case hang
    case webSocketRequired
    case methodNotAllowed(allow: String)
    case badRequest(String)
    case notFound

    init(_ head: HTTPRequestHead) {
        let target = FixtureRequestTarget(head.uri)
        switch target.path {
        case "/": self = .root
        case "/headers": self = .headers
        case "/download", "/download-chunked":
            guard let bytes = target.integer("bytes"), bytes >= 0 else {
                self = .badRequest("bytes must be a non-negative integer")
                return
            }
            self = .download(bytes: bytes, chunked: target.path == "/download-chunked")
        case "/upload":
            self = head.method == .POST ? .upload : .methodNotAllowed(allow: "POST")
        case "/slow":
            guard let milliseconds = target.integer("ms"), milliseconds >= 0 else {
                self = .badRequest("ms must be a non-negative integer")
                return
            }
            self = .slow(milliseconds: Int64(milliseconds))
        case "/status":
            guard let code = target.integer("code"), (200...599).contains(code) else {
                self = .badRequest("code must be an integer in 200...599")
                return
            }
            self = .status(code: code)
        case "/close": self = .close
        case "/hang": self = .hang
        case "/ws": self = .webSocketRequired
        default: self = .notFound
        }
    }
}

private struct FixtureRequestTarget {
    let path: Substring
    let query: [(name: Substring, value: Substring)]

    init(_ uri: String) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = parts[0]
        guard parts.count == 2 else {
            self.query = []
            return
        }
        self.query = parts[1].split(separator: "&").map { pair in
            let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (halves[0], halves.count == 2 ? halves[1] : "")
        }
    }

    func integer(_ name: String) -> Int? {
        self.query.first { $0.name == name }.flatMap { Int($0.value) }
    }
}

private final class FixtureHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private struct Request {
        var head: HTTPRequestHead
        var route: FixtureRoute
        var keepAlive: Bool
        var uploadedBytes = 0
        var uploadSum: UInt32 = 0
    }

    private struct Download {
        var offset = 0
        var remaining: Int
        var keepAlive: Bool
    }

    private let name: String
    private let stats: FixtureStats
    /// The request being received (head seen, end not yet).
    private var request: Request?
    /// The download being written, chunk by chunk, as the channel is writable.
    private var download: Download?
    private var pumping = false
    private var slowResponse: Scheduled<Void>?
    /// Set once the connection is to close: any further request is ignored.
    private var closing = false
    /// Set by `/hang`: the request is never answered.
    private var hanging = false

    init(name: String, stats: FixtureStats) {
        self.name = name
        self.stats = stats
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.closing, !self.hanging else { return }
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.stats.requestReceived()
            let route = FixtureRoute(head)
            if case .upload = route, head.headers[canonicalForm: "expect"].contains(where: { $0 == "100-continue" }) {
                let interim = HTTPResponseHead(version: head.version, status: .continue)
                context.writeAndFlush(Self.wrapOutboundOut(.head(interim)), promise: nil)
            }
            // NIO's request decoder stops parsing after a request asking for an upgrade, so one that was not
            // upgraded is answered with `Connection: close`.
            let keepAlive = head.isKeepAlive && !head.headers.contains(name: "upgrade")
            self.request = Request(head: head, route: route, keepAlive: keepAlive)
        case .body(let chunk):
            guard var request = self.request, case .upload = request.route else { return }
            request.uploadedBytes += chunk.readableBytes
            request.uploadSum &+= FixtureChecksum.sum(chunk)
            self.request = request
        case .end:
            guard let request = self.request else { return }
            self.request = nil
            self.respond(context: context, to: request)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.pumpDownload(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.stopWork()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.stopWork()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A refused WebSocket upgrade is reported here, then the request itself follows as a plain one.
        if error is NIOWebSocketUpgradeError { return }
        self.closing = true
        context.close(promise: nil)
    }

    private func stopWork() {
        self.slowResponse?.cancel()
        self.slowResponse = nil
        self.download = nil
    }

    // MARK: Responses

    private func respond(context: ChannelHandlerContext, to request: Request) {
        switch request.route {
        case .root:
            self.respond(context: context, request, body: "\(self.name)\n")
        case .headers:
            self.respond(
                context: context,
                request,
                contentType: "application/json",
                body: FixtureJSON.headers(request.head)
            )
        case .download(let bytes, let chunked):
            self.startDownload(context: context, request, bytes: bytes, chunked: chunked)
        case .upload:
            self.respond(
                context: context,
                request,
                contentType: "application/json",
                body: "{\"bytes\":\(request.uploadedBytes),\"sum\":\(request.uploadSum)}"
            )
        case .slow(let milliseconds):
            self.slowResponse = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(milliseconds)) {
                self.slowResponse = nil
                self.respond(context: context, request, body: "slow\n")
            }
        case .status(let code):
            let status = HTTPResponseStatus(statusCode: code)
            let bodyless = code == 204 || code == 304
            self.respond(context: context, request, status: status, body: bodyless ? nil : "status \(code)\n")
        case .close:
            var closing = request
            closing.keepAlive = false
            self.respond(context: context, closing, body: "bye\n")
        case .hang:
            self.hang(context: context)
        case .webSocketRequired:
            self.respond(
                context: context,
                request,
                status: .upgradeRequired,
                extraHeaders: [("upgrade", "websocket")],
                body: "websocket upgrade required\n"
            )
        case .methodNotAllowed(let allow):
            self.respond(
                context: context,
                request,
                status: .methodNotAllowed,
                extraHeaders: [("allow", allow)],
                body: "method not allowed\n"
            )
        case .badRequest(let reason):
            self.respond(context: context, request, status: .badRequest, body: "bad request: \(reason)\n")
        case .notFound:
            self.respond(context: context, request, status: .notFound, body: "not found\n")
        }
    }

    private func responseHead(
        _ request: Request,
        status: HTTPResponseStatus,
        keepAlive: Bool,
        headers extra: [(String, String)]
    ) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "x-fixture-name", value: self.name)
        for (name, value) in extra {
            headers.add(name: name, value: value)
        }
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        } else if request.head.version == .http1_0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        return HTTPResponseHead(version: request.head.version, status: status, headers: headers)
    }

    private func respond(
        context: ChannelHandlerContext,
        _ request: Request,
        status: HTTPResponseStatus = .ok,
        contentType: String = "text/plain; charset=utf-8",
        extraHeaders: [(String, String)] = [],
        body: String?
    ) {
        var extra = extraHeaders
        var buffer: ByteBuffer?
        if let body {
            let bytes = context.channel.allocator.buffer(string: body)
            extra.append(("content-type", contentType))
            extra.append(("content-length", String(bytes.readableBytes)))
            buffer = bytes
        }
        let head = self.responseHead(request, status: status, keepAlive: request.keepAlive, headers: extra)
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        if let buffer, request.head.method != .HEAD, buffer.readableBytes > 0 {
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        self.finish(context: context, keepAlive: request.keepAlive)
    }

    /// Ends the response. The next pipelined request may be delivered from inside the `.end` write, so every bit
    /// of state is settled before it.
    private func finish(context: ChannelHandlerContext, keepAlive: Bool) {
        if keepAlive {
            FixturePipeline.rearmUpgrade(context: context, before: self, stats: self.stats)
        } else {
            self.closing = true
        }
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    private func hang(context: ChannelHandlerContext) {
        self.hanging = true
        // HTTPServerPipelineHandler stops reading until a response ends, so the peer going away would go unseen.
        // This connection never answers again: drop the pipelining assistance and let reads (and EOF) through.
        let operations = context.pipeline.syncOperations
        if let pipelining = try? operations.handler(type: HTTPServerPipelineHandler.self) {
            operations.removeHandler(pipelining, promise: nil)
        }
    }

    // MARK: Downloads

    private func startDownload(context: ChannelHandlerContext, _ request: Request, bytes: Int, chunked: Bool) {
        var keepAlive = request.keepAlive
        var headers: [(String, String)] = [("content-type", "application/octet-stream")]
        if !chunked {
            headers.append(("content-length", String(bytes)))
        } else if request.head.version.major == 1 && request.head.version.minor >= 1 {
            headers.append(("transfer-encoding", "chunked"))
        } else {
            // HTTP/1.0 has no chunked encoding: the end of the body is the end of the connection.
            keepAlive = false
        }
        let head = self.responseHead(request, status: .ok, keepAlive: keepAlive, headers: headers)
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        guard request.head.method != .HEAD else {
            self.finish(context: context, keepAlive: keepAlive)
            return
        }
        context.flush()
        self.download = Download(remaining: bytes, keepAlive: keepAlive)
        self.pumpDownload(context: context)
    }

    /// Writes chunks while the channel is writable; `channelWritabilityChanged` resumes it.
    private func pumpDownload(context: ChannelHandlerContext) {
        guard !self.pumping, self.download != nil else { return }
        self.pumping = true
        while let download = self.download, download.remaining > 0, context.channel.isWritable {
            let length = min(FixturePattern.chunkSize, download.remaining)
            let chunk = FixturePattern.chunk(offset: download.offset, length: length)
            self.download?.offset += length
            self.download?.remaining -= length
            context.writeAndFlush(Self.wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
        }
        self.pumping = false
        if let download = self.download, download.remaining == 0 {
            self.download = nil
            self.finish(context: context, keepAlive: download.keepAlive)
        }
    }
}

/// The download body: byte `i` of a body is `i % 251`. Chunks are slices of one shared buffer.
private enum FixturePattern {
    static let modulus = 251
    static let chunkSize = 64 * 1024
    static let source: ByteBuffer = {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(chunkSize + modulus)
        for index in 0..<(chunkSize + modulus) {
            buffer.writeInteger(UInt8(index % modulus))
        }
        return buffer
    }()

    static func chunk(offset: Int, length: Int) -> ByteBuffer {
        precondition(length <= chunkSize)
        return source.getSlice(at: offset % modulus, length: length)!
    }
}

/// The upload checksum, also used by the tests on what they receive.
enum FixtureChecksum {
    /// The sum of the bytes mod 2^32, eight bytes at a time.
    static func sum(_ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { bytes in
            var total: UInt64 = 0
            var index = 0
            let lanes: UInt64 = 0x00FF_00FF_00FF_00FF
            while index + 8 <= bytes.count {
                let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                let pairs = (word & lanes) &+ ((word >> 8) & lanes)
                total &+= (pairs &* 0x0001_0001_0001_0001) >> 48
                index += 8
            }
            while index < bytes.count {
                total &+= UInt64(bytes[index])
                index += 1
            }
            return UInt32(truncatingIfNeeded: total)
        }
    }
}

private enum FixtureJSON {
    static func headers(_ head: HTTPRequestHead) -> String {
        var names: [String] = []
        var values: [String: [String]] = [:]
        for (name, value) in head.headers {
            let key = name.lowercased()
            if values[key] == nil {
                names.append(key)
            }
            values[key, default: []].append(value)
        }
        var members = [
            "\(Self.string("_method")):\(Self.string(head.method.rawValue))",
            "\(Self.string("_uri")):\(Self.string(head.uri))",
            "\(Self.string("_version")):\(Self.string(String(describing: head.version)))",
        ]
        for name in names {
            let list = (values[name] ?? []).map(Self.string).joined(separator: ",")
            members.append("\(Self.string(name)):[\(list)]")
        }
        return "{" + members.joined(separator: ",") + "}\n"
    }

    static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

// MARK: - WebSocket

private final class FixtureWebSocketEchoHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private var sentClose = false
    private var readPending = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            guard !self.sentClose else { return }
            let echo = WebSocketFrame(
                fin: frame.fin,
                rsv1: frame.rsv1,
                rsv2: frame.rsv2,
                rsv3: frame.rsv3,
                opcode: frame.opcode,
                data: frame.unmaskedData
            )
            context.write(Self.wrapOutboundOut(echo), promise: nil)
        case .ping:
            guard !self.sentClose else { return }
            context.write(
                Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)),
                promise: nil
            )
        case .pong:
            break
        case .connectionClose:
            if self.sentClose {
                // The answer to a close we sent: the closing handshake is over.
                context.close(promise: nil)
                return
            }
            var data = frame.unmaskedData
            let code = data.readSlice(length: 2) ?? context.channel.allocator.buffer(capacity: 0)
            self.sendClose(context: context, data: code)
        default:
            var code = context.channel.allocator.buffer(capacity: 2)
            code.write(webSocketErrorCode: .protocolError)
            self.sendClose(context: context, data: code)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    private func sendClose(context: ChannelHandlerContext, data: ByteBuffer) {
        self.sentClose = true
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        context.writeAndFlush(Self.wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    // Echoing must not buffer without bound: stop reading while the channel is not writable.

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            self.readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, self.readPending {
            self.readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }
}

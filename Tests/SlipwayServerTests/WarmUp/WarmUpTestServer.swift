import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP/1.1 server on 127.0.0.1 that a warm-up is pointed at. It remembers every request target in the order
/// received and the most requests it had in progress at once. Routes:
/// - `/slow?ms=N` → 200 after N ms.
/// - `/status?code=N` → status N.
/// - `/hang` → never answers.
/// - anything else → 200 `ok`.
/// The first `slowFirst` requests are answered `slowFirstDelay` later than they would be (a cold cache).
final class WarmUpTestServer: Sendable {
    let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let stats: WarmUpServerStats

    private init(port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel, stats: WarmUpServerStats) {
        self.port = port
        self.group = group
        self.channel = channel
        self.stats = stats
    }

    static func start(
        slowFirst: Int = 0,
        slowFirstDelay: Duration = .milliseconds(100)
    ) async throws -> WarmUpTestServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let stats = WarmUpServerStats(slowFirst: slowFirst, slowFirstDelay: slowFirstDelay)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(WarmUpTestHandler(stats: stats))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return WarmUpTestServer(port: channel.localAddress!.port!, group: group, channel: channel, stats: stats)
    }

    /// Request targets in the order received.
    var targets: [String] { stats.state.withLock { $0.targets } }

    /// The most requests in progress at once so far.
    var maxInProgress: Int { stats.state.withLock { $0.maxInProgress } }

    func stop() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }
}

private final class WarmUpServerStats: Sendable {
    struct State {
        var targets: [String] = []
        var inProgress = 0
        var maxInProgress = 0
    }

    let state = Mutex(State())
    let slowFirst: Int
    let slowFirstDelay: Duration

    init(slowFirst: Int, slowFirstDelay: Duration) {
        self.slowFirst = slowFirst
        self.slowFirstDelay = slowFirstDelay
    }

    /// Counts a request in; returns its number, from 1.
    func started(_ target: String) -> Int {
        state.withLock { state in
            state.targets.append(target)
            state.inProgress += 1
            state.maxInProgress = max(state.maxInProgress, state.inProgress)
            return state.targets.count
        }
    }

    func finished() {
        state.withLock { $0.inProgress -= 1 }
    }
}

private final class WarmUpTestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let stats: WarmUpServerStats
    private var pending = false

    init(stats: WarmUpServerStats) {
        self.stats = stats
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = Self.unwrapInboundIn(data) else { return }
        let number = stats.started(head.uri)
        pending = true
        let (path, query) = Self.split(head.uri)
        var delay = number <= stats.slowFirst ? stats.slowFirstDelay : .zero
        var status = HTTPResponseStatus.ok
        switch path {
        case "/slow": delay += .milliseconds(Int(query) ?? 0)
        case "/status": status = HTTPResponseStatus(statusCode: Int(query) ?? 500)
        case "/hang": return
        default: break
        }
        let keepAlive = head.isKeepAlive
        let loop = context.eventLoop.assumeIsolated()
        let (seconds, attoseconds) = delay.components
        loop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) {
            self.respond(context: context, status: status, keepAlive: keepAlive)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, keepAlive: Bool) {
        guard pending else { return }
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: "3")
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(
            Self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        context.write(Self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok\n")))), promise: nil)
        finish()
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    private func finish() {
        guard pending else { return }
        pending = false
        stats.finished()
    }

    /// `/slow?ms=5` → ("/slow", "5"): the path and the value of the query's only parameter.
    private static func split(_ uri: String) -> (path: String, value: String) {
        let parts = uri.split(separator: "?", maxSplits: 1)
        let path = parts.first.map(String.init) ?? uri
        let value = parts.count > 1 ? parts[1].split(separator: "=", maxSplits: 1).last.map(String.init) ?? "" : ""
        return (path, value)
    }
}

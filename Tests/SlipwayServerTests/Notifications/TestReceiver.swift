import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SlipwayTestSupport
import Synchronization

/// One request the receiver got.
struct RecordedRequest: Sendable {
    var method: String
    var path: String
    /// Header values by lowercased name (the last one when repeated).
    var headers: [String: String]
    var body: [UInt8]

    /// The body as a JSON object, or nil when it is not one.
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
}

/// How the receiver answers one request.
struct ReceiverAnswer: Sendable {
    var status: Int = 200
    var body: String = "ok"
    var headers: [(String, String)] = []
    /// Wait this long before answering.
    var delay: Duration = .zero
    /// Wait until ``TestReceiver/release()`` before answering.
    var held = false

    static func status(_ status: Int, _ body: String = "", headers: [(String, String)] = []) -> ReceiverAnswer {
        ReceiverAnswer(status: status, body: body, headers: headers)
    }

    static func delayed(_ delay: Duration, status: Int = 200) -> ReceiverAnswer {
        ReceiverAnswer(status: status, delay: delay)
    }

    static let held = ReceiverAnswer(held: true)
}

/// A real HTTP/1 server on 127.0.0.1 for tests: records every request and answers as scripted.
///
/// Answers are taken from `script` in order, then `fallback` for every further request.
struct TestReceiver: Sendable {
    let port: Int
    private let core: ReceiverCore
    private let serverChannel: any Channel

    /// Starts a receiver on a free port of 127.0.0.1.
    static func start(
        script: [ReceiverAnswer] = [],
        fallback: ReceiverAnswer = ReceiverAnswer()
    ) async throws -> TestReceiver {
        let core = ReceiverCore(script: script, fallback: fallback)
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                core.adopt(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ReceiverHandler(core: core))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = serverChannel.localAddress?.port else {
            try await serverChannel.close()
            throw ReceiverError.noPort
        }
        return TestReceiver(port: port, core: core, serverChannel: serverChannel)
    }

    /// A port of 127.0.0.1 that refuses every connection (three of them held by a test run at most).
    static func closedPort() async throws -> Int {
        // Held bound, not listening, for the rest of the run: a port merely freed could be taken by another test's
        // server meanwhile, which would accept and never answer.
        let (_, port) = try LoopbackHTTP.refusingPort()
        return port
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    func url(_ path: String) -> String {
        "http://127.0.0.1:\(port)\(path)"
    }

    /// The requests received so far, in order.
    var requests: [RecordedRequest] { core.requests }

    /// How many answers were sent.
    var answeredCount: Int { core.answeredCount }

    /// The requests once there are at least `count`, or those there are after `limit`.
    @discardableResult
    func waitForRequests(_ count: Int, within limit: Duration = .seconds(20)) async -> [RecordedRequest] {
        let end = ContinuousClock.now + limit
        while core.requests.count < count, ContinuousClock.now < end {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return core.requests
    }

    /// Answers the next requests with `answers`, in order, before the fallback.
    func script(_ answers: [ReceiverAnswer]) {
        core.script(answers)
    }

    /// Sends the held answers, and answers later held requests at once.
    func release() {
        core.release()
    }

    /// Releases held answers, stops listening and closes every connection.
    func stop() async {
        core.release()
        try? await serverChannel.close()
        for channel in core.children {
            try? await channel.close()
        }
    }
}

enum ReceiverError: Error {
    case noPort
}

/// The receiver's state, shared by its connections.
final class ReceiverCore: Sendable {
    private struct State {
        var requests: [RecordedRequest] = []
        var script: [ReceiverAnswer]
        var fallback: ReceiverAnswer
        var answered = 0
        var released = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var children: [any Channel] = []
    }

    private let state: Mutex<State>

    init(script: [ReceiverAnswer], fallback: ReceiverAnswer) {
        state = Mutex(State(script: script, fallback: fallback))
    }

    var requests: [RecordedRequest] { state.withLock { $0.requests } }
    var answeredCount: Int { state.withLock { $0.answered } }
    var children: [any Channel] { state.withLock { $0.children } }

    func script(_ answers: [ReceiverAnswer]) {
        state.withLock { $0.script += answers }
    }

    func adopt(_ channel: any Channel) {
        state.withLock { $0.children.append(channel) }
    }

    /// Records `request` and picks its answer.
    func record(_ request: RecordedRequest) -> ReceiverAnswer {
        state.withLock { state in
            state.requests.append(request)
            return state.script.isEmpty ? state.fallback : state.script.removeFirst()
        }
    }

    /// Sends `answer` on `channel`, after its delay or release.
    func respond(_ answer: ReceiverAnswer, on channel: any Channel) async {
        if answer.delay > .zero {
            try? await Task.sleep(for: answer.delay)
        }
        if answer.held {
            await waitForRelease()
        }
        var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: answer.status))
        head.headers.add(name: "Content-Length", value: String(answer.body.utf8.count))
        head.headers.add(name: "Content-Type", value: "text/plain")
        for (name, value) in answer.headers {
            head.headers.replaceOrAdd(name: name, value: value)
        }
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: answer.body))), promise: nil)
        try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        state.withLock { $0.answered += 1 }
    }

    func release() {
        let waiters = state.withLock { state in
            state.released = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters {
            waiter.resume()
        }
    }

    private func waitForRelease() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let released = state.withLock { state in
                if !state.released {
                    state.waiters.append(continuation)
                }
                return state.released
            }
            if released {
                continuation.resume()
            }
        }
    }
}

/// Collects a request's parts and hands the whole request to the core.
final class ReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let core: ReceiverCore
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(core: ReceiverCore) {
        self.core = core
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            var headers: [String: String] = [:]
            for (name, value) in head.headers {
                headers[name.lowercased()] = value
            }
            let request = RecordedRequest(method: head.method.rawValue, path: head.uri, headers: headers, body: body)
            self.head = nil
            let answer = core.record(request)
            let channel = context.channel
            let core = self.core
            Task {
                await core.respond(answer, on: channel)
            }
        }
    }
}

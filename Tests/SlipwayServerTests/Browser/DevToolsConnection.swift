import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import SlipwayCore
import Synchronization

/// A Chrome DevTools Protocol client over one WebSocket: commands are answered by id, events are kept for the
/// test to look at, and JavaScript dialogs (`confirm()`) are accepted as they open, as a person clicking OK.
final class DevToolsConnection: Sendable {
    /// Why a command failed: the browser's error, a timeout, or a lost connection.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A dialog the page opened, and that was accepted.
    struct Dialog: Sendable, Equatable {
        var type: String
        var message: String
    }

    private struct State {
        var nextID = 1
        var pending: [Int: CheckedContinuation<JSONValue, any Error>] = [:]
        var closed: String?
        var dialogs: [Dialog] = []
        var consoleErrors: [String] = []
    }

    private let channel: any Channel
    private let state: Mutex<State>
    /// How long a command may take before it fails.
    let commandTimeout: Duration

    private init(channel: any Channel, commandTimeout: Duration) {
        self.channel = channel
        self.state = Mutex(State())
        self.commandTimeout = commandTimeout
    }

    /// Connects to `ws://127.0.0.1:port/path` (the browser's endpoint from `DevToolsActivePort`).
    static func connect(
        port: Int,
        path: String,
        commandTimeout: Duration = .seconds(30)
    ) async throws
        -> DevToolsConnection
    {
        let connected = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Responses with screenshots are large single frames.
                    let upgrader = NIOTypedWebSocketClientUpgrader<(any Channel)?>(maxFrameSize: 1 << 27) {
                        channel,
                        _ in
                        channel.eventLoop.makeSucceededFuture(channel)
                    }
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "127.0.0.1:\(port)")
                    headers.add(name: "Content-Length", value: "0")
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<(any Channel)?>(
                        upgradeRequestHead: head,
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(nil) }
                    )
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration)
                    )
                }
            }
        guard let channel = try await connected.get() else {
            throw Failure(description: "the browser refused the WebSocket upgrade at \(path)")
        }
        let connection = DevToolsConnection(channel: channel, commandTimeout: commandTimeout)
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(
                FrameHandler(
                    onMessage: { [weak connection] data in connection?.received(data) },
                    onClose: { [weak connection] reason in connection?.fail(reason) }
                )
            )
        }.get()
        return connection
    }

    /// Sends `method` with `params` (to a page when `session` is set) and returns the result object.
    @discardableResult
    func send(
        _ method: String,
        _ params: [String: JSONValue] = [:],
        session: String? = nil
    ) async throws
        -> JSONValue
    {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        let timeout = commandTimeout
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.nanosecondsRounded))) {
            [weak self] in
            self?.resume(id, with: .failure(Failure(description: "\(method) got no answer within \(timeout)")))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let closed = state.withLock { state -> String? in
                if let closed = state.closed { return closed }
                state.pending[id] = continuation
                return nil
            }
            if let closed {
                continuation.resume(throwing: Failure(description: "\(method): connection closed: \(closed)"))
                return
            }
            write(id: id, method: method, params: params, session: session)
        }
    }

    /// The dialogs accepted so far.
    var dialogs: [Dialog] { state.withLock { $0.dialogs } }

    /// The page's uncaught exceptions and console errors so far (for failure messages).
    var consoleErrors: [String] { state.withLock { $0.consoleErrors } }

    /// Closes the WebSocket; pending commands fail.
    func close() async {
        fail("closed by the test")
        try? await channel.close()
    }

    private func write(id: Int, method: String, params: [String: JSONValue], session: String?) {
        var message: [String: JSONValue] = ["id": .int(id), "method": .string(method), "params": .object(params)]
        if let session { message["sessionId"] = .string(session) }
        let data = (try? JSONEncoder().encode(JSONValue.object(message))) ?? Data()
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(bytes: data))
        channel.writeAndFlush(frame).whenFailure { [weak self] error in
            self?.resume(id, with: .failure(Failure(description: "\(method): cannot send: \(error)")))
        }
    }

    private func received(_ data: Data) {
        guard case .object(let message)? = try? JSONDecoder().decode(JSONValue.self, from: data) else { return }
        if let id = message["id"]?.intValue {
            if case .object(let error)? = message["error"] {
                let text = error["message"]?.stringValue ?? "\(error)"
                resume(id, with: .failure(Failure(description: text)))
            } else {
                resume(id, with: .success(message["result"] ?? .object([:])))
            }
            return
        }
        guard let method = message["method"]?.stringValue, case .object(let params)? = message["params"] else {
            return
        }
        switch method {
        case "Page.javascriptDialogOpening":
            let dialog = Dialog(
                type: params["type"]?.stringValue ?? "",
                message: params["message"]?.stringValue ?? ""
            )
            let id = state.withLock { state in
                state.dialogs.append(dialog)
                defer { state.nextID += 1 }
                return state.nextID
            }
            // Answered at once: the page's script is blocked in confirm() until then.
            write(
                id: id,
                method: "Page.handleJavaScriptDialog",
                params: ["accept": true],
                session: message["sessionId"]?.stringValue
            )
        case "Runtime.exceptionThrown":
            let details = params["exceptionDetails"]?.description ?? "\(params)"
            state.withLock { $0.consoleErrors.append(details) }
        case "Runtime.consoleAPICalled" where params["type"]?.stringValue == "error":
            state.withLock { $0.consoleErrors.append(params["args"]?.description ?? "") }
        default:
            break
        }
    }

    private func resume(_ id: Int, with result: Result<JSONValue, any Error>) {
        let continuation = state.withLock { $0.pending.removeValue(forKey: id) }
        continuation?.resume(with: result)
    }

    private func fail(_ reason: String) {
        let pending = state.withLock { state in
            if state.closed == nil { state.closed = reason }
            defer { state.pending = [:] }
            return state.pending
        }
        for continuation in pending.values {
            continuation.resume(throwing: Failure(description: "connection closed: \(reason)"))
        }
    }
}

/// Reassembles text messages from WebSocket frames, answers pings, and reports the end of the connection.
private final class FrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let onMessage: @Sendable (Data) -> Void
    private let onClose: @Sendable (String) -> Void
    private var message = Data()

    init(onMessage: @escaping @Sendable (Data) -> Void, onClose: @escaping @Sendable (String) -> Void) {
        self.onMessage = onMessage
        self.onClose = onClose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            var payload = frame.unmaskedData
            message.append(contentsOf: payload.readBytes(length: payload.readableBytes) ?? [])
            if frame.fin {
                onMessage(message)
                message = Data()
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            onClose("the browser closed the connection")
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose("the connection ended")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        onClose("\(error)")
        context.close(promise: nil)
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    fileprivate var nanosecondsRounded: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

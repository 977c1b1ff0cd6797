import NIOCore
import NIOPosix

/// One GET to an instance, asking whether it can take requests again: passed when the status is 2xx or 3xx within
/// the timeout. The connection is the probe's own and closes after the status line.
enum InstanceProbe {
    /// Asks `instance` for `path` on `loop`; the future never fails, it reports false instead.
    static func run(
        _ instance: UpstreamInstance,
        path: String,
        timeout: TimeAmount,
        on loop: any EventLoop
    ) -> EventLoopFuture<Bool> {
        let promise = loop.makePromise(of: Bool.self)
        let request =
            "GET \(path) HTTP/1.1\r\nHost: \(hostField(instance))\r\nUser-Agent: slipway-probe\r\n"
            + "Connection: close\r\n\r\n"
        let deadline = loop.scheduleTask(in: timeout) { promise.succeed(false) }
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StatusReader(promise: promise))
                }
            }
            .connect(to: instance.address)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    var buffer = channel.allocator.buffer(capacity: request.utf8.count)
                    buffer.writeString(request)
                    channel.writeAndFlush(buffer, promise: nil)
                    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure:
                    promise.succeed(false)
                }
            }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        return promise.futureResult
    }

    private static func hostField(_ instance: UpstreamInstance) -> String {
        instance.host.contains(":") ? "[\(instance.host)]:\(instance.port)" : "\(instance.host):\(instance.port)"
    }

    /// Reads the status line and settles the probe; a close before it is a failure.
    private final class StatusReader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        private let promise: EventLoopPromise<Bool>
        private var received: [UInt8] = []
        private var settled = false

        init(promise: EventLoopPromise<Bool>) {
            self.promise = promise
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !settled else { return }
            received += unwrapInboundIn(data).readableBytesView
            guard let end = received.firstIndex(of: UInt8(ascii: "\n")) ?? (received.count > 1024 ? 1024 : nil)
            else { return }
            settle(Self.passes(statusLine: received[..<end]))
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            settle(false)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            settle(false)
            context.close(promise: nil)
        }

        private func settle(_ passed: Bool) {
            guard !settled else { return }
            settled = true
            promise.succeed(passed)
        }

        /// `HTTP/1.x 2xx` or `3xx`.
        static func passes(statusLine: ArraySlice<UInt8>) -> Bool {
            let line = Array(statusLine)
            guard line.count >= 12, line.starts(with: Array("HTTP/1.".utf8)), line[8] == UInt8(ascii: " ") else {
                return false
            }
            return line[9] == UInt8(ascii: "2") || line[9] == UInt8(ascii: "3")
        }
    }
}

import NIOCore
import SlipwayHTTP1

/// The proxy's end of one keep-alive connection that carries mirrored copies (shadow requests) to an instance, one
/// at a time: it sends a copy, reads the response in place, records its status and latency, and drops the rest.
///
/// Nothing of a shadow's response reaches a user, and nothing a user waits for waits on it: it lives on the event
/// loop of the client whose request it copies, and between copies it waits in its ``ConnectionPool``.
final class ShadowConnection: ChannelInboundHandler, RemovableChannelHandler, PooledConnection {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One copy in flight.
    struct Copy {
        /// Its method: a response to HEAD has no body.
        var method: RequestMethod
        /// When it was sent.
        var sent: NIODeadline
        /// Where its response counts, and on which loop.
        var traffic: TrafficRecorder
        var loop: Int
    }

    let instance: UpstreamInstance
    var pool: ConnectionPool<ShadowConnection>?
    private var context: ChannelHandlerContext?
    private var responses = ResponseStream()
    private var copy: Copy?
    /// The final status read for the copy in flight; 0 before its head.
    private var status = 0
    private var keepAlive = true
    private var timeout: Scheduled<Void>?

    init(instance: UpstreamInstance) {
        self.instance = instance
    }

    var channel: (any Channel)? { context?.channel }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func willWaitInPool() {}

    func close() {
        context?.close(promise: nil)
    }

    /// Sends a copy: its head and body, already framed as the instance reads them. Its response must end within
    /// `timeout`, or it counts as a 504 (502 when the head came and the body did not end) and the connection closes.
    func send(_ copy: Copy, bytes: ByteBuffer, timeout: TimeAmount) {
        self.copy = copy
        status = 0
        keepAlive = true
        instance.requestStarted()
        copy.traffic.requestStarted(loop: copy.loop)
        guard let context else { return finish(status: 502, proxyGenerated: true, reusable: false) }
        self.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            self?.timedOut()
        }
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard let copy else {
            // An idle connection should say nothing: what it says makes it unusable.
            return context.close(promise: nil)
        }
        while self.copy != nil {
            switch responses.next(&buffer, requestMethod: copy.method) {
            case .success(.head(let head)?):
                if head.isInterim { continue }
                status = head.status
                keepAlive = head.keepAlive
                responses.recycle(head.fields)
                // A protocol switch ends the copy: nothing of HTTP follows.
                if head.status == 101 { finish(status: 101, proxyGenerated: false, reusable: false) }
            case .success(.body?):
                continue
            case .success(.end?):
                finish(status: status, proxyGenerated: false, reusable: keepAlive && buffer.readableBytes == 0)
            case .success(nil):
                return
            case .failure:
                finish(status: 502, proxyGenerated: true, reusable: false)
            }
        }
        if buffer.readableBytes > 0 { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pool?.connectionClosed(self)
        pool = nil
        guard copy != nil else { return }
        // A body delimited by the close ends here; any other response was cut short.
        if status != 0, case .end? = responses.closed() {
            finish(status: status, proxyGenerated: false, reusable: false)
        } else {
            finish(status: 502, proxyGenerated: true, reusable: false)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func timedOut() {
        timeout = nil
        guard copy != nil else { return }
        finish(status: status == 0 ? 504 : 502, proxyGenerated: true, reusable: false)
    }

    /// Records the copy in flight and lets go of it: the connection waits for the next copy, or closes.
    private func finish(status: Int, proxyGenerated: Bool, reusable: Bool) {
        guard let copy else { return }
        self.copy = nil
        timeout?.cancel()
        timeout = nil
        instance.requestFinished()
        copy.traffic.requestFinished(
            loop: copy.loop,
            status: status,
            proxyGenerated: proxyGenerated,
            latencyNanoseconds: UInt64(max(0, (NIODeadline.now() - copy.sent).nanoseconds))
        )
        if let pool {
            pool.release(self, reusable: reusable)
        } else if !reusable {
            close()
        }
    }
}

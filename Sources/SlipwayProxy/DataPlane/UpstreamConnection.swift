import NIOCore
import SlipwayHTTP1

/// The proxy's end of one keep-alive connection to an instance: reads the responses of the requests it carries
/// in place (``ResponseStream``), hands their parts to the request's client, and applies backpressure from the
/// client to the instance.
///
/// Lives on one event loop with the client it serves; between requests it waits in its ``UpstreamPool``.
final class UpstreamConnection: ChannelDuplexHandler, RemovableChannelHandler, PooledConnection {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let instance: UpstreamInstance
    /// The client whose request this connection carries; nil while pooled.
    var client: ClientConnection?
    var pool: UpstreamPool?
    /// The responses read from the instance.
    var responses = ResponseStream()
    /// The method of the request in flight: a response to HEAD has no body.
    var requestMethod = RequestMethod.get
    private(set) var context: ChannelHandlerContext?
    private var readPending = false
    /// Bytes read and not yet taken into a response part.
    private var received: ByteBuffer?

    init(instance: UpstreamInstance) {
        self.instance = instance
    }

    /// Adds this handler to a new upstream channel.
    func install(on channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(self)
    }

    var channel: (any Channel)? { context?.channel }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var earlier = received {
            received = nil
            earlier.writeBuffer(&buffer)
            buffer = earlier
        }
        // Parts go to the client while one is attached; it detaches at the end of the response.
        while let client, !responses.switched {
            switch responses.next(&buffer, requestMethod: requestMethod) {
            case .success(let part?):
                client.upstreamRead(part, from: self)
                // The head's field storage serves the next response.
                if case .head(let head) = consume part { responses.recycle((consume head).fields) }
                continue
            case .success(nil):
                break
            case .failure(let error):
                self.client = nil
                client.upstreamFailed(self, reason: error.reason)
                context.close(promise: nil)
                return
            }
            break
        }
        guard buffer.readableBytes > 0 else { return }
        if client == nil, !responses.switched {
            // A pooled connection should say nothing, and a response nothing past its end: what it says makes the
            // connection unusable.
            context.close(promise: nil)
        } else {
            received = buffer
        }
    }

    /// What was read past the `101 Switching Protocols` head: the first bytes of the tunnel.
    func takeReceived() -> ByteBuffer? {
        defer { received = nil }
        return received
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        client?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { client?.upstreamBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pool?.connectionClosed(self)
        pool = nil
        // A body delimited by the close ends here; any other response was cut short.
        if let end = responses.closed(), let client {
            client.upstreamRead(end, from: self)
        }
        let client = self.client
        self.client = nil
        client?.upstreamClosed(self)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Reads only while the client can take what is read.
    func read(context: ChannelHandlerContext) {
        if let client, !client.isWritable {
            readPending = true
        } else {
            context.read()
        }
    }

    /// The client drained its buffer: read on.
    func resumeReading() {
        guard readPending, let context else { return }
        readPending = false
        context.read()
    }

    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func close() {
        context?.close(promise: nil)
    }

    func willWaitInPool() {
        client = nil
    }
}

/// The pool of connections to one instance that clients borrow a connection from.
typealias UpstreamPool = ConnectionPool<UpstreamConnection>

import NIOCore
import NIOHTTP1

/// The proxy's end of one keep-alive connection to an instance: relays the response of the request it currently
/// carries to that request's client, and applies backpressure from the client to the instance.
///
/// Lives on one event loop with the client it serves; between requests it waits in its ``UpstreamPool``.
final class UpstreamConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    let instance: UpstreamInstance
    let encoder: HTTPRequestEncoder
    let decoder: ByteToMessageHandler<HTTPResponseDecoder>
    /// The client whose request this connection carries; nil while pooled.
    var client: ClientConnection?
    var pool: UpstreamPool?
    private(set) var context: ChannelHandlerContext?
    private var readPending = false

    init(instance: UpstreamInstance) {
        self.instance = instance
        self.encoder = HTTPRequestEncoder()
        self.decoder = ByteToMessageHandler(
            HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .forward)
        )
    }

    /// Adds the codec and this handler to a new upstream channel.
    func install(on channel: any Channel) throws {
        // The decoder observes outbound request heads (to know a HEAD response has no body), so it sits after
        // the encoder on the outbound path.
        try channel.pipeline.syncOperations.addHandlers([encoder, decoder, self])
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
        let part = unwrapInboundIn(data)
        if let client {
            client.upstreamRead(part, from: self)
        }
        // A pooled connection should say nothing; whatever it says makes it unusable.
        else {
            context.close(promise: nil)
        }
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

    func write(_ part: HTTPClientRequestPart) {
        context?.write(wrapOutboundOut(part), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func close() {
        context?.close(promise: nil)
    }
}

/// The connections to one instance on one event loop: idle ones kept for reuse, and a cap on how many are open.
final class UpstreamPool {
    let instance: UpstreamInstance
    private(set) var idle: [UpstreamConnection] = []
    private(set) var open = 0
    private let maxOpen: Int
    private let maxIdle: Int

    init(instance: UpstreamInstance, maxOpen: Int, maxIdle: Int) {
        self.instance = instance
        self.maxOpen = maxOpen
        self.maxIdle = maxIdle
    }

    /// An idle, open connection, most recently used first.
    func takeIdle() -> UpstreamConnection? {
        while let connection = idle.popLast() {
            if connection.channel?.isActive == true { return connection }
        }
        return nil
    }

    /// Reserves room for a new connection, or says the cap is reached.
    func reserve() -> Bool {
        guard open < maxOpen else { return false }
        open += 1
        return true
    }

    /// A reserved connection could not be made.
    func reservationFailed() {
        open -= 1
    }

    /// The connection finished a response: keep it for the next request, or close it.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        connection.client = nil
        if reusable, connection.channel?.isActive == true, idle.count < maxIdle {
            idle.append(connection)
        } else {
            connection.close()
        }
    }

    /// The connection leaves the pool for good (a WebSocket tunnel).
    func detach(_ connection: UpstreamConnection) {
        connection.pool = nil
        open -= 1
    }

    /// The connection's channel closed.
    func connectionClosed(_ connection: UpstreamConnection) {
        open -= 1
        if let index = idle.firstIndex(where: { $0 === connection }) { idle.remove(at: index) }
    }

    /// Closes the idle connections (the instance is leaving).
    func closeIdle() {
        let connections = idle
        idle.removeAll()
        for connection in connections { connection.close() }
    }
}

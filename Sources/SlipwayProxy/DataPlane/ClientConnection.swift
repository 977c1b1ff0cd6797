import NIOCore
import SlipwayCore
import SlipwayHTTP1
import Tracing

/// One client connection of an app's listener: reads requests in place from the connection's bytes
/// (``RequestStream``), routes each to an instance through the route table, forwards the request's own bytes with
/// the proxy's few edits, relays request and response bodies in both directions with backpressure, and answers
/// itself when it must (400, 408, 414, 431, 502, 503, 504, 505).
///
/// It is the only handler on the channel: bytes in, bytes out, no HTTP message objects between a codec and the
/// proxy. Requests on a connection are served one at a time, in order: a pipelined request waits, unread, in the
/// connection's buffer until the response before it is complete. Everything happens on the connection's event
/// loop; the only shared state it reads is the atomically swapped ``AppRoutes``.
final class ClientConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One request and its response. A class, so the state machine updates it in place instead of copying it
    /// (and its references) in and out of ``State`` on every event; a connection reuses its last one for the next
    /// request (``restart(head:upstreamHead:addedRequestID:traceparent:keepAlive:routes:decision:started:instanceTraffic:)``).
    final class Exchange {
        /// The request's head; its fields go back to the stream for the next head once the exchange ends.
        var head: RequestHead
        /// The head as the instance receives it, kept to send again on a retry.
        var upstreamHead: ByteBuffer
        /// The request id the proxy added; nil when the client sent one.
        var addedRequestID: UInt64?
        /// The `traceparent` the proxy sent, when tracing is on.
        var traceparent: String?
        var keepAlive = true
        var routes: AppRoutes
        var instance: UpstreamInstance
        var versionIndex = 0
        var setCookie: (name: String, bucket: Int, user: UInt64)?
        /// Whether the request is a comparison unit (``ComparisonUnits``).
        var isUnit = false
        var started = NIODeadline.uptimeNanoseconds(0)
        var upstream: UpstreamConnection?
        /// Body bytes received before an upstream connection was ready.
        var pending: ByteBuffer?
        var requestComplete = false
        var responseStarted = false
        var switching = false
        var status = 0
        var upstreamKeepAlive = true
        /// What happens to the response body's framing on its way to the client.
        var responseFraming = ClientResponseHead.BodyFraming.asIs
        /// Response body bytes passed to the client.
        var responseBytes = 0
        /// The request's server span, when tracing is on; ended with its metrics.
        var span: (any Span)?
        var attempts = 1
        /// When the current attempt's response head is due: the response timeout, or sooner the per-try timeout.
        var responseDeadline: NIODeadline?
        /// The current attempt runs on a connection taken from the pool, which the instance may have closed just
        /// before the request reached it: its closing is no failure of the instance.
        var upstreamReused = false
        /// The version's circuit is open: the request is answered 503 at once and reaches no instance.
        var circuitOpen = false
        /// The app's waiting room let the request in: it tells the room when the request ends.
        var admitted = false
        /// The current attempt, numbered on the connection: a connect that completes for an earlier one (given up
        /// on by a per-try timeout) is not bound to this one.
        var attempt: UInt64 = 0
        /// What the response reported through ``OutcomeHeader``.
        var outcomes: [(name: String, value: Double)] = []
        /// The recorders this request counts into, looked up once.
        var versionTraffic: TrafficRecorder
        var instanceTraffic: TrafficRecorder
        /// The copy a mirror will send once the request is read in full: its head, then its body as it arrives.
        var mirrorCopy: ByteBuffer?
        /// Set once a copy went out: the user's response also counts here, beside the shadow's.
        var originalTraffic: TrafficRecorder?
        /// A bandwidth fault's hold on the response body.
        var throttle: ResponseThrottle?
        /// A delay fault's wait before the first attempt.
        var delayed: Scheduled<Void>?

        init(
            head: RequestHead,
            upstreamHead: ByteBuffer,
            addedRequestID: UInt64?,
            traceparent: String?,
            keepAlive: Bool,
            routes: AppRoutes,
            decision: RouteDecision,
            started: NIODeadline,
            instanceTraffic: TrafficRecorder
        ) {
            self.head = head
            self.upstreamHead = upstreamHead
            self.routes = routes
            self.instance = decision.instance
            self.versionTraffic = instanceTraffic
            self.instanceTraffic = instanceTraffic
            restart(
                head: head,
                upstreamHead: upstreamHead,
                addedRequestID: addedRequestID,
                traceparent: traceparent,
                keepAlive: keepAlive,
                routes: routes,
                decision: decision,
                started: started,
                instanceTraffic: instanceTraffic
            )
        }

        /// Makes a finished exchange the exchange of a new request: every field as a new one would have it.
        func restart(
            head: RequestHead,
            upstreamHead: ByteBuffer,
            addedRequestID: UInt64?,
            traceparent: String?,
            keepAlive: Bool,
            routes: AppRoutes,
            decision: RouteDecision,
            started: NIODeadline,
            instanceTraffic: TrafficRecorder
        ) {
            self.head = head
            self.upstreamHead = upstreamHead
            self.addedRequestID = addedRequestID
            self.traceparent = traceparent
            self.keepAlive = keepAlive
            self.routes = routes
            self.instance = decision.instance
            self.versionIndex = decision.versionIndex
            self.setCookie = decision.setCookie
            self.isUnit = false
            self.started = started
            self.upstream = nil
            self.pending = nil
            self.requestComplete = false
            self.responseStarted = false
            self.switching = false
            self.status = 0
            self.upstreamKeepAlive = true
            self.responseFraming = .asIs
            self.responseBytes = 0
            self.span = nil
            self.attempts = 1
            self.responseDeadline = nil
            self.upstreamReused = false
            self.circuitOpen = decision.circuitOpen
            self.admitted = false
            if !outcomes.isEmpty { outcomes = [] }
            self.mirrorCopy = nil
            self.originalTraffic = nil
            if let throttle { throttle.scheduled?.cancel() }
            self.throttle = nil
            delayed?.cancel()
            self.delayed = nil
            self.versionTraffic = routes.versionTraffic[decision.versionIndex]
            self.instanceTraffic = instanceTraffic
        }

        /// Lets go of the request's buffers (they belong to the channels again) once the exchange is over.
        func release() {
            head.bytes = Self.noBytes
            head.fields = []
            upstreamHead = Self.noBytes
            pending = nil
            mirrorCopy = nil
        }

        private static let noBytes = ByteBuffer()

        /// The version the request was routed to.
        var version: String? {
            versionIndex < routes.table.versions.count ? routes.table.versions[versionIndex].version : nil
        }

        /// The request id the instance received.
        var requestID: String { addedRequestID.map(RequestID.text) ?? head.value(of: .xRequestID) ?? "" }
    }

    enum State {
        /// Waiting for a request head.
        case idle
        /// Answering a refused request once its (empty) body has been read.
        case refusing(ProxyError, keepAlive: Bool, minorVersion: Int, routes: AppRoutes?)
        /// Waiting in the app's waiting room for its turn, its body (if any) unread.
        case waiting(RequestHead, keepAlive: Bool, token: UInt64)
        /// Answered already (the waiting page); the request's end is all that remains to read.
        case answered
        /// Relaying a request and its response.
        case relaying(Exchange)
        /// The connection is being closed.
        case closing
    }

    let core: ListenerCore
    let loop: LoopResources
    var context: ChannelHandlerContext!
    var state = State.idle
    private var requests: RequestStream
    /// Bytes read and not yet taken into a request part: a head still arriving, or a pipelined request waiting.
    var received: ByteBuffer?
    private var readPending = false
    private var clientAddress: String?
    var waitingSince = NIODeadline.uptimeNanoseconds(0)
    /// When the listener began quiescing, as this connection learnt it.
    var quiescedAt: NIODeadline?
    private var quiescing: Bool { quiescedAt != nil || core.quiescing.load(ordering: .relaxed) }
    var headInProgress = false
    /// The request being answered is a `HEAD`: an answer of the proxy's own has no body.
    private var answeringHead = false
    var timer: (deadline: NIODeadline, task: Scheduled<Void>)?
    /// The buffers the last heads were written into, reused once the channels have written them out.
    var upstreamHeadScratch: ByteBuffer?
    var responseHeadScratch: ByteBuffer?
    /// The last finished exchange, for the next request on the connection.
    var spareExchange: Exchange?
    /// Attempts begun on this connection, for ``Exchange/attempt``.
    private var attemptsBegun: UInt64 = 0

    init(core: ListenerCore, loop: LoopResources) {
        self.core = core
        self.loop = loop
        self.requests = RequestStream(
            maxRequestLineBytes: core.settings.maxRequestLineBytes,
            maxHeadBytes: core.settings.maxHeaderBytes
        )
    }

    /// Whether the client takes more response bytes now: its channel is writable and no bandwidth fault holds
    /// enough of them.
    var isWritable: Bool { (context?.channel.isWritable ?? false) && !throttleIsFull }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        clientAddress = context.channel.remoteAddress?.ipAddress
        waitingSince = loop.eventLoop.now
        if core.quiescing.load(ordering: .relaxed) { quiescedAt = waitingSince }
        armTimer()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        quiescedAt = loop.eventLoop.now
        armTimer()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var earlier = received {
            received = nil
            earlier.writeBuffer(&buffer)
            buffer = earlier
        }
        readParts(from: &buffer)
        if buffer.readableBytes > 0, !isClosing { received = buffer }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .idle = state, !headInProgress, received != nil {
            // Bytes arrived but no complete head: from now on the header timeout applies.
            headInProgress = true
            armTimer()
        }
        if case .relaying(let exchange) = state, let upstream = exchange.upstream {
            upstream.flush()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .relaying(let exchange) = state {
            exchange.upstream?.resumeReading()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
        if case .waiting(_, _, let token) = state { core.waitingRoom?.cancel(token) }
        if case .relaying(let exchange) = state {
            // The client left mid-exchange: the upstream connection is in an unknown state, so it goes.
            exchange.upstream?.client = nil
            exchange.upstream?.close()
            finishMetrics(exchange, status: 499, proxyGenerated: false)
        }
        state = .closing
        received = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Reads only while the request can go somewhere, and not past a pipelined request that waits.
    func read(context: ChannelHandlerContext) {
        if shouldHoldReads {
            readPending = true
        } else {
            context.read()
        }
    }

    var isClosing: Bool {
        if case .closing = state { return true }
        return false
    }

    private var shouldHoldReads: Bool {
        if case .waiting = state { return true }
        guard case .relaying(let exchange) = state else { return false }
        // A pipelined request waits in `received`; read no further until it is served.
        if exchange.requestComplete { return received != nil }
        guard let upstream = exchange.upstream else { return true }
        return !upstream.isWritable
    }

    func resumeReadingIfHeld() {
        guard readPending, !shouldHoldReads, let context else { return }
        readPending = false
        context.read()
    }

    // MARK: Requests

    /// Takes request parts from `buffer` while the connection can act on them: a pipelined request stays in the
    /// buffer until the response before it is complete.
    func readParts(from buffer: inout ByteBuffer) {
        while true {
            switch state {
            case .idle, .refusing, .answered: break
            case .relaying(let exchange) where !exchange.requestComplete: break
            case .relaying, .closing, .waiting: return
            }
            switch requests.next(&buffer) {
            case .success(nil):
                return
            case .success(let part?):
                handle(part)
            case .failure(let error):
                // The bytes can no longer be trusted: say why, then close.
                let refusal = ProxyError(error)
                if case .relaying = state {
                    failExchange(refusal, proxyGenerated: true, closing: true)
                } else {
                    respond(refusal, minorVersion: 1, keepAlive: false, routes: nil)
                }
                return
            }
        }
    }

    private func handle(_ part: RequestStream.Part) {
        switch (state, part) {
        case (.idle, .head(let head)):
            receivedHead(head)
        case (.refusing(let error, let keepAlive, let minorVersion, let routes), .end):
            state = .idle
            respond(error, minorVersion: minorVersion, keepAlive: keepAlive, routes: routes)
        case (.answered, .end):
            requestEnded()
        case (.relaying(let exchange), .body(let buffer)):
            if exchange.mirrorCopy != nil { copyBody(buffer, in: exchange) }
            forward(buffer, in: exchange)
        case (.relaying(let exchange), .end):
            exchange.requestComplete = true
            if exchange.circuitOpen { return failOpenCircuit(exchange) }
            if exchange.mirrorCopy != nil { sendMirrorCopy(of: exchange) }
            if exchange.switching { startTunnelIfReady() }
        case (.idle, _), (.refusing, _), (.relaying, .head), (.closing, _), (.waiting, _), (.answered, _):
            // The stream gives a head only after the previous request's end, and reading stops while a request
            // waits or the connection closes: nothing else can arrive here.
            preconditionFailure("request part \(part) in state \(state)")
        }
    }

    private func receivedHead(_ head: RequestHead) {
        headInProgress = false
        answeringHead = head.method == .head
        // A quiescing listener answers this request, then ends the connection cleanly.
        let keepAlive = head.keepAlive && !quiescing
        guard passWaitingRoom(head, keepAlive: keepAlive) else { return }
        forward(head, keepAlive: keepAlive, admitted: core.waitingRoom != nil)
    }

    /// Routes a request (let in by the waiting room, when the app has one) and sends it on.
    func forward(_ head: RequestHead, keepAlive: Bool, admitted: Bool) {
        let routes = core.routes.load(ordering: .acquiring)
        guard let decision = routes.table.route(fields: head, random: &loop.random) else {
            if admitted { core.waitingRoom?.finished() }
            routes.unrouted.requestStarted(loop: loop.index)
            if let accessLog = core.accessLog {
                logAccess(
                    to: accessLog,
                    head: head,
                    requestID: nil,
                    traceparent: nil,
                    version: nil,
                    instance: nil,
                    status: 503,
                    latency: 0,
                    bytes: 0
                )
            }
            return refuse(
                .serviceUnavailable("no healthy instance"),
                minorVersion: head.minorVersion,
                keepAlive: keepAlive && head.body == .none,
                routes: routes
            )
        }
        let fault = drawFault(for: head, routes: routes, decision: decision)
        if let fault,
            injectAtHead(
                fault,
                head: head,
                keepAlive: keepAlive,
                admitted: admitted,
                routes: routes,
                decision: decision
            )
        {
            return
        }
        if head.expectsContinue, head.body != .none {
            // Answered here, as the body is read here; the instance gets the body without having to ask.
            writeStatic(head.minorVersion == 0 ? "HTTP/1.0 100 Continue\r\n\r\n" : "HTTP/1.1 100 Continue\r\n\r\n")
            context.flush()
        }
        var span: (any Span)?
        var trace: (traceparent: String, tracestate: String?)?
        if let tracing = core.tracing {
            let started = tracing.start(head, app: core.app)
            span = started.span
            trace = started.fields
        }
        var upstreamHead = Self.take(&upstreamHeadScratch, capacity: head.bytes.readableBytes + 160, from: context)
        let addedRequestID = UpstreamRequestHead.write(
            head,
            clientAddress: clientAddress,
            trace: trace,
            into: &upstreamHead
        ) { loop.random.requestID() }
        if let span, let id = addedRequestID.map(RequestID.text) ?? head.value(of: .xRequestID) {
            span.attributes["slipway.request_id"] = id
        }
        let instanceTraffic = routes.traffic(of: decision.instance, book: core.book)
        let exchange: Exchange
        if let spare = takeSpareExchange() {
            spare.restart(
                head: head,
                upstreamHead: upstreamHead,
                addedRequestID: addedRequestID,
                traceparent: trace?.traceparent,
                keepAlive: keepAlive,
                routes: routes,
                decision: decision,
                started: loop.eventLoop.now,
                instanceTraffic: instanceTraffic
            )
            exchange = spare
        } else {
            exchange = Exchange(
                head: head,
                upstreamHead: upstreamHead,
                addedRequestID: addedRequestID,
                traceparent: trace?.traceparent,
                keepAlive: keepAlive,
                routes: routes,
                decision: decision,
                started: loop.eventLoop.now,
                instanceTraffic: instanceTraffic
            )
        }
        if decision.byWeight {
            // A sticky user counts once, by their first request, when their bucket sent them at random; a request
            // without a user to follow drew its own bucket.
            exchange.isUnit =
                decision.user.map { core.book.isFirstSight(of: $0, epoch: routes.unitEpoch) == true } ?? true
        }
        exchange.span = span
        exchange.admitted = admitted
        startMetrics(exchange)
        state = .relaying(exchange)
        if exchange.circuitOpen {
            // Answered once the request's end is read (at once for a request without a body), so the connection
            // can stay; a request with a body is answered now and the connection closes.
            if head.body != .none { failOpenCircuit(exchange) }
            return
        }
        loop.retryBudget.requestStarted(now: exchange.started.uptimeNanoseconds)
        if let mirror = routes.table.mirror {
            planMirrorCopy(of: exchange, mirror: mirror, mirrorIndex: routes.table.mirrorIndex)
        }
        if let fault, holdForFault(fault, exchange) { return }
        startAttempt(exchange)
    }

    /// The connection's last exchange, when nothing else holds it any more.
    private func takeSpareExchange() -> Exchange? {
        guard var spare = spareExchange else { return nil }
        spareExchange = nil
        return isKnownUniquelyReferenced(&spare) ? spare : nil
    }

    /// Answers `error` once the request's (empty) body is read, or at once when the request has a body.
    func refuse(_ error: ProxyError, minorVersion: Int, keepAlive: Bool, routes: AppRoutes? = nil) {
        if error.closesConnection || !keepAlive {
            respond(error, minorVersion: minorVersion, keepAlive: false, routes: routes)
        } else {
            state = .refusing(error, keepAlive: keepAlive, minorVersion: minorVersion, routes: routes)
        }
    }

    /// Writes a response the proxy makes itself.
    func respond(_ error: ProxyError, minorVersion: Int, keepAlive: Bool, routes: AppRoutes?) {
        let keepAlive = keepAlive && !error.closesConnection
        if let routes, error.status == 503 {
            routes.unrouted.requestFinished(loop: loop.index, status: 503, proxyGenerated: true, latencyNanoseconds: 0)
        }
        writeError(error, minorVersion: minorVersion, keepAlive: keepAlive)
        if keepAlive {
            requestEnded()
        } else {
            state = .closing
        }
    }

    func writeError(_ error: ProxyError, minorVersion: Int, keepAlive: Bool) {
        guard let context else { return }
        var answer = context.channel.allocator.buffer(capacity: 256)
        error.writeAnswer(minorVersion: minorVersion, keepAlive: keepAlive, headOnly: answeringHead, into: &answer)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// A cleared buffer: the scratch one when the channel is done with it (no allocation), or a new one.
    static func take(
        _ scratch: inout ByteBuffer?,
        capacity: Int,
        from context: ChannelHandlerContext
    ) -> ByteBuffer {
        guard var buffer = scratch else { return context.channel.allocator.buffer(capacity: capacity) }
        scratch = nil
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    func writeStatic(_ text: StaticString) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8CodeUnitCount)
        buffer.writeStaticString(text)
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    // MARK: Upstream

    func attachUpstream() {
        guard case .relaying(let exchange) = state else { return }
        attemptsBegun += 1
        let attempt = attemptsBegun
        exchange.attempt = attempt
        let pool = loop.pool(for: exchange.instance)
        if let connection = pool.takeIdle() {
            exchange.upstreamReused = true
            bind(connection, into: exchange)
            return
        }
        exchange.upstreamReused = false
        guard pool.reserve() else {
            return failExchange(.serviceUnavailable("instance connection limit reached"), proxyGenerated: true)
        }
        let instance = exchange.instance
        loop.connect(to: instance).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                let connection = UpstreamConnection(instance: instance)
                do {
                    try connection.install(on: channel)
                } catch {
                    pool.reservationFailed()
                    channel.close(promise: nil)
                    return self.connectFailed(attempt: attempt, reason: "\(error)")
                }
                connection.pool = pool
                guard case .relaying(let exchange) = self.state, exchange.attempt == attempt, exchange.upstream == nil
                else {
                    // The client went away, or the attempt was given up on, meanwhile: the connection serves the
                    // next request instead.
                    pool.release(connection, reusable: true)
                    return
                }
                self.bind(connection, into: exchange)
                self.resumeReadingIfHeld()
            case .failure(let error):
                pool.reservationFailed()
                self.connectFailed(attempt: attempt, reason: Self.describe(error))
            }
        }
    }

    private func bind(_ connection: UpstreamConnection, into exchange: Exchange) {
        connection.client = self
        connection.requestMethod = exchange.head.method
        exchange.upstream = connection
        connection.write(exchange.upstreamHead)
        if let pending = exchange.pending {
            connection.write(pending)
            exchange.pending = nil
        }
        connection.flush()
    }

    private func forward(_ body: ByteBuffer, in exchange: Exchange) {
        if let upstream = exchange.upstream {
            upstream.write(body)
        } else if exchange.pending == nil {
            exchange.pending = body
        } else {
            var body = body
            exchange.pending!.writeBuffer(&body)
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? ChannelError, case .connectTimeout = error { return "connect timed out" }
        let text = String(describing: error)
        if text.contains("refused") || text.contains("ECONNREFUSED") { return "connection refused" }
        return text
    }

    /// The exchange is over and the connection stays: wait for the next request, serving a pipelined one first.
    func requestEnded() {
        if case .relaying(let exchange) = state {
            state = .idle
            let fields = exchange.head.fields
            exchange.head.fields = []
            requests.recycle(fields)
            upstreamHeadScratch = exchange.upstreamHead
            exchange.release()
            spareExchange = exchange
        }
        state = .idle
        waitingSince = loop.eventLoop.now
        headInProgress = false
        if var buffer = received {
            received = nil
            readParts(from: &buffer)
            if buffer.readableBytes > 0, !isClosing { received = buffer }
            if case .idle = state, received != nil { headInProgress = true }
        }
        if case .idle = state { armTimer() }
        resumeReadingIfHeld()
    }
}

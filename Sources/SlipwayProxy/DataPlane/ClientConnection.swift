import NIOCore
import NIOHTTP1
import SlipwayCore
import Tracing

/// One client connection of an app's listener: reads requests, routes each to an instance through the route
/// table, relays request and response bodies in both directions with backpressure, and answers itself when it
/// must (400, 408, 414, 431, 502, 503, 504).
///
/// Requests on a connection are served one at a time, in order: a pipelined request waits, already parsed, until
/// the response before it is complete. Everything happens on the connection's event loop; the only shared state
/// it reads is the atomically swapped ``AppRoutes``.
final class ClientConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// One request and its response. A class, so the state machine updates it in place instead of copying it
    /// (and its references) in and out of ``State`` on every event.
    private final class Exchange {
        var head: HTTPRequestHead
        var clientVersion: HTTPVersion
        var keepAlive: Bool
        var upgrade: Bool
        var body: RequestFraming.Body
        var routes: AppRoutes
        var instance: UpstreamInstance
        var versionIndex: Int
        var setCookie: (name: String, bucket: Int, user: UInt64)?
        /// Whether the request is a comparison unit (``ComparisonUnits``).
        var isUnit = false
        var started: NIODeadline
        var upstream: UpstreamConnection?
        /// Request parts received before an upstream connection was ready.
        var pending: [HTTPClientRequestPart] = []
        var requestComplete = false
        var responseStarted = false
        var switching = false
        var status = 0
        var upstreamKeepAlive = true
        /// Response body bytes passed to the client.
        var responseBytes = 0
        /// The request's server span, when tracing is on; ended with its metrics.
        var span: (any Span)?

        /// The version the request was routed to.
        var version: String? {
            versionIndex < routes.table.versions.count ? routes.table.versions[versionIndex].version : nil
        }
        var attempts = 1
        var responseDeadline: NIODeadline?
        /// What the response reported through ``OutcomeHeader``.
        var outcomes: [(name: String, value: Double)] = []
        /// The recorders this request counts into, looked up once.
        var versionTraffic: TrafficRecorder
        var instanceTraffic: TrafficRecorder

        init(
            head: HTTPRequestHead,
            clientVersion: HTTPVersion,
            keepAlive: Bool,
            upgrade: Bool,
            body: RequestFraming.Body,
            routes: AppRoutes,
            instance: UpstreamInstance,
            versionIndex: Int,
            setCookie: (name: String, bucket: Int, user: UInt64)?,
            started: NIODeadline,
            instanceTraffic: TrafficRecorder
        ) {
            self.head = head
            self.clientVersion = clientVersion
            self.keepAlive = keepAlive
            self.upgrade = upgrade
            self.body = body
            self.routes = routes
            self.instance = instance
            self.versionIndex = versionIndex
            self.setCookie = setCookie
            self.started = started
            self.versionTraffic = routes.versionTraffic[versionIndex]
            self.instanceTraffic = instanceTraffic
        }
    }

    private enum State {
        /// Waiting for a request head.
        case idle
        /// Answering a refused request once its (empty) body has been read.
        case refusing(ProxyError, keepAlive: Bool, version: HTTPVersion, routes: AppRoutes?)
        /// Relaying a request and its response.
        case relaying(Exchange)
        /// The connection is being closed.
        case closing
    }

    private let core: ListenerCore
    private let loop: LoopResources
    private let decoder: ByteToMessageHandler<HTTPRequestDecoder>
    private let encoder: HTTPResponseEncoder
    private var context: ChannelHandlerContext!
    private var state = State.idle
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    private var readPending = false
    private var clientAddress: String?
    private var waitingSince = NIODeadline.uptimeNanoseconds(0)
    /// When the listener began quiescing, as this connection learnt it.
    private var quiescedAt: NIODeadline?
    private var quiescing: Bool { quiescedAt != nil || core.quiescing.load(ordering: .relaxed) }
    private var headInProgress = false
    private var timer: (deadline: NIODeadline, task: Scheduled<Void>)?

    init(
        core: ListenerCore,
        loop: LoopResources,
        decoder: ByteToMessageHandler<HTTPRequestDecoder>,
        encoder: HTTPResponseEncoder
    ) {
        self.core = core
        self.loop = loop
        self.decoder = decoder
        self.encoder = encoder
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

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
        let part = unwrapInboundIn(data)
        if !pipelined.isEmpty {
            pipelined.append(part)
            return
        }
        handle(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .idle = state, pipelined.isEmpty, !headInProgress {
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
        if case .relaying(let exchange) = state {
            // The client left mid-exchange: the upstream connection is in an unknown state, so it goes.
            exchange.upstream?.client = nil
            exchange.upstream?.close()
            finishMetrics(exchange, status: 499, proxyGenerated: false)
        }
        state = .closing
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard case .idle = state, pipelined.isEmpty else {
            context.close(promise: nil)
            return
        }
        // A request the parser refused: say why, then close.
        let refusal: ProxyError
        switch error as? HTTPParserError {
        case .headerOverflow: refusal = .headersTooLarge
        case .some(let parserError): refusal = .badRequest("malformed request (\(parserError))")
        case .none: refusal = .badRequest("malformed request")
        }
        respond(refusal, version: .http1_1, keepAlive: false, routes: nil)
    }

    /// Reads only while the request can go somewhere.
    func read(context: ChannelHandlerContext) {
        if shouldHoldReads {
            readPending = true
        } else {
            context.read()
        }
    }

    private var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    private var shouldHoldReads: Bool {
        if !pipelined.isEmpty { return true }
        if case .relaying(let exchange) = state {
            guard let upstream = exchange.upstream else { return !exchange.requestComplete }
            return !upstream.isWritable
        }
        return false
    }

    private func resumeReadingIfHeld() {
        guard readPending, !shouldHoldReads, let context else { return }
        readPending = false
        context.read()
    }

    // MARK: Requests

    private func handle(_ part: HTTPServerRequestPart) {
        switch (state, part) {
        case (.idle, .head(let head)):
            receivedHead(head)
        case (.idle, _):
            // Body of a request already answered and closed over; nothing to do.
            break
        case (.refusing(let error, let keepAlive, let version, let routes), .end):
            state = .idle
            respond(error, version: version, keepAlive: keepAlive, routes: routes)
        case (.refusing, _):
            break
        case (.relaying, .head):
            // A pipelined request: it waits for the current response.
            pipelined.append(part)
        case (.relaying(let exchange), .body(let buffer)):
            forward(.body(.byteBuffer(buffer)), in: exchange)
        case (.relaying(let exchange), .end(let trailers)):
            exchange.requestComplete = true
            forward(.end(trailers), in: exchange)
            if exchange.switching { startTunnelIfReady() }
        case (.closing, _):
            break
        }
    }

    private func receivedHead(_ received: HTTPRequestHead) {
        headInProgress = false
        let requestLine = received.method.rawValue.utf8.count + received.uri.utf8.count + 11
        if requestLine > core.settings.maxRequestLineBytes {
            return refuse(.uriTooLong, head: received, keepAlive: false)
        }
        let body: RequestFraming.Body
        switch RequestFraming.check(received) {
        case .success(let framing): body = framing
        case .failure(let error): return refuse(error, head: received, keepAlive: false)
        }
        var head = received
        var intent = HeaderRewriting.prepareRequest(&head, clientAddress: clientAddress) { loop.random.requestID() }
        // A quiescing listener answers this request, then ends the connection cleanly.
        if quiescing { intent.keepAlive = false }
        let routes = core.routes.load(ordering: .acquiring)
        guard let decision = routes.table.route(headers: head.headers, random: &loop.random) else {
            routes.unrouted.requestStarted(loop: loop.index)
            if let accessLog = core.accessLog {
                logAccess(to: accessLog, head: head, version: nil, instance: nil, status: 503, latency: 0, bytes: 0)
            }
            return refuse(
                .serviceUnavailable("no healthy instance"),
                head: received,
                keepAlive: intent.keepAlive && body == .none,
                routes: routes
            )
        }
        if intent.expectsContinue, body != .none {
            // Answered here, as the body is read here; the instance gets the body without having to ask.
            context.writeAndFlush(
                wrapOutboundOut(.head(HTTPResponseHead(version: received.version, status: .continue))),
                promise: nil
            )
        }
        let span = core.tracing?.start(&head, app: core.app)
        let exchange = Exchange(
            head: head,
            clientVersion: received.version,
            keepAlive: intent.keepAlive,
            upgrade: intent.upgrade,
            body: body,
            routes: routes,
            instance: decision.instance,
            versionIndex: decision.versionIndex,
            setCookie: decision.setCookie,
            started: loop.eventLoop.now,
            instanceTraffic: routes.traffic(of: decision.instance, book: core.book)
        )
        if decision.byWeight {
            // A sticky user counts once, by their first request, when their bucket sent them at random; a request
            // without a user to follow drew its own bucket.
            exchange.isUnit =
                decision.user.map { core.book.isFirstSight(of: $0, epoch: routes.unitEpoch) == true } ?? true
        }
        exchange.span = span
        startMetrics(exchange)
        exchange.responseDeadline = exchange.started + core.settings.responseTimeout
        state = .relaying(exchange)
        armTimer()
        attachUpstream()
    }

    /// Answers `error` once the request's (empty) body is read, or at once when the request has a body.
    private func refuse(_ error: ProxyError, head: HTTPRequestHead, keepAlive: Bool, routes: AppRoutes? = nil) {
        if error.closesConnection || !keepAlive {
            respond(error, version: head.version, keepAlive: false, routes: routes)
        } else {
            state = .refusing(error, keepAlive: keepAlive, version: head.version, routes: routes)
        }
    }

    /// Writes a response the proxy makes itself.
    private func respond(_ error: ProxyError, version: HTTPVersion, keepAlive: Bool, routes: AppRoutes?) {
        let keepAlive = keepAlive && !error.closesConnection
        if let routes, error.status == .serviceUnavailable {
            routes.unrouted.requestFinished(
                loop: loop.index,
                status: Int(error.status.code),
                proxyGenerated: true,
                latencyNanoseconds: 0
            )
        }
        writeError(error, version: version, keepAlive: keepAlive)
        if keepAlive {
            requestEnded()
        } else {
            state = .closing
        }
    }

    private func writeError(_ error: ProxyError, version: HTTPVersion, keepAlive: Bool) {
        guard let context else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(error.body.utf8.count))
        headers.add(name: "Server", value: "slipway")
        if error.status == .serviceUnavailable { headers.add(name: "Retry-After", value: "1") }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: error.status, headers: headers))),
            promise: nil
        )
        context.write(
            wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: error.body)))),
            promise: nil
        )
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    // MARK: Upstream

    private func attachUpstream() {
        guard case .relaying(let exchange) = state else { return }
        let pool = loop.pool(for: exchange.instance)
        if let connection = pool.takeIdle() {
            bind(connection, into: exchange)
            return
        }
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
                    return self.connectFailed(instance: instance, reason: "\(error)")
                }
                connection.pool = pool
                guard case .relaying(let exchange) = self.state, exchange.instance === instance else {
                    // The client went away meanwhile; keep the connection for the next request.
                    pool.release(connection, reusable: true)
                    return
                }
                self.bind(connection, into: exchange)
                self.resumeReadingIfHeld()
            case .failure(let error):
                pool.reservationFailed()
                self.connectFailed(instance: instance, reason: Self.describe(error))
            }
        }
    }

    private func bind(_ connection: UpstreamConnection, into exchange: Exchange) {
        connection.client = self
        exchange.upstream = connection
        connection.write(.head(exchange.head))
        for part in exchange.pending { connection.write(part) }
        exchange.pending.removeAll()
        connection.flush()
    }

    private func forward(_ part: HTTPClientRequestPart, in exchange: Exchange) {
        if let upstream = exchange.upstream {
            upstream.write(part)
        } else {
            exchange.pending.append(part)
        }
    }

    /// Connecting failed. Nothing reached the instance, so another instance of the same version is tried (up to
    /// ``maximumAttempts`` in all); then 502.
    private func connectFailed(instance: UpstreamInstance, reason: String) {
        guard case .relaying(let exchange) = state, exchange.instance === instance else { return }
        if exchange.attempts < Self.maximumAttempts, retry(after: instance, sameAllowed: false) { return }
        failExchange(.badGateway("cannot connect to instance \(instance.id): \(reason)"), proxyGenerated: true)
    }

    private static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .DELETE, .PUT: return true
        default: return false
        }
    }

    /// Attempts per request: the first, and retries when nothing of the request was processed.
    private static let maximumAttempts = 3

    /// Moves the exchange to another instance of its version (or, when `sameAllowed`, to a fresh connection to the
    /// same one) and sends the request again. Returns false when there is nowhere to go.
    private func retry(after failed: UpstreamInstance, sameAllowed: Bool) -> Bool {
        guard case .relaying(let exchange) = state else { return false }
        guard let next = alternative(to: failed, in: exchange) ?? (sameAllowed ? failed : nil) else { return false }
        let latency = UInt64(max(0, (loop.eventLoop.now - exchange.started).nanoseconds))
        exchange.instanceTraffic.requestFinished(
            loop: loop.index,
            status: 502,
            proxyGenerated: true,
            latencyNanoseconds: latency
        )
        failed.requestFinished()
        next.requestStarted()
        exchange.instanceTraffic = exchange.routes.traffic(of: next, book: core.book)
        exchange.instanceTraffic.requestStarted(loop: loop.index)
        exchange.instance = next
        exchange.attempts += 1
        exchange.upstream = nil
        if exchange.requestComplete, exchange.body == .none { exchange.pending = [.end(nil)] }
        attachUpstream()
        return true
    }

    private func alternative(to failed: UpstreamInstance, in exchange: Exchange) -> UpstreamInstance? {
        let others = exchange.routes.table.versions[exchange.versionIndex].instances.filter { $0 !== failed }
        return WeightedLeastOutstanding.pick(from: others, random: &loop.random)
    }

    // MARK: Responses

    func upstreamRead(_ part: HTTPClientResponsePart, from connection: UpstreamConnection) {
        guard case .relaying(let exchange) = state, exchange.upstream === connection, let context else { return }
        switch part {
        case .head(var head):
            if head.status.code < 200, head.status != .switchingProtocols {
                // 1xx informational (e.g. 103 Early Hints): passed on; the final head follows.
                if head.status != .continue {
                    head.version = exchange.clientVersion
                    context.write(wrapOutboundOut(.head(head)), promise: nil)
                }
                return
            }
            exchange.responseDeadline = nil
            exchange.status = Int(head.status.code)
            rememberForReplay(exchange)
            if head.status == .switchingProtocols {
                guard exchange.upgrade else {
                    return failExchange(.badGateway("unrequested protocol switch"), proxyGenerated: true)
                }
                exchange.switching = true
            }
            exchange.outcomes = OutcomeHeader.take(from: &head.headers)
            exchange.upstreamKeepAlive = HeaderRewriting.prepareResponse(
                &head,
                clientVersion: exchange.clientVersion,
                clientKeepAlive: exchange.keepAlive
            )
            if let cookie = exchange.setCookie {
                head.headers.add(
                    name: "Set-Cookie",
                    value:
                        "\(cookie.name)=\(TrafficBucket.cookieValue(bucket: cookie.bucket, user: cookie.user)); Path=/; "
                        + "Max-Age=2592000; HttpOnly; SameSite=Lax"
                )
            }
            exchange.responseStarted = true
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        case .body(let buffer):
            exchange.responseBytes += buffer.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .end(let trailers):
            if exchange.switching {
                context.flush()
                return startTunnelIfReady()
            }
            completeExchange(exchange, trailers: trailers)
        }
    }

    /// A GET the instance answers 2xx or 3xx is worth replaying to a new instance: its target (path and query,
    /// nothing else) goes into this loop's ring.
    private func rememberForReplay(_ exchange: Exchange) {
        guard loop.recentRequests.capacity > 0, exchange.head.method == .GET, (200...399).contains(exchange.status)
        else { return }
        loop.recentRequests.record(exchange.head.uri, at: loop.eventLoop.now.uptimeNanoseconds)
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamBecameWritable() {
        resumeReadingIfHeld()
    }

    func upstreamClosed(_ connection: UpstreamConnection) {
        guard case .relaying(let exchange) = state, exchange.upstream === connection else { return }
        if exchange.responseStarted {
            // Part of the response is out: the client can only learn of the failure by the connection closing.
            finishMetrics(exchange, status: 502, proxyGenerated: true)
            state = .closing
            context?.close(promise: nil)
            return
        }
        // The instance closed before answering (a kept-alive connection it had just closed, or it died): an
        // idempotent request without a body is sent again, preferably elsewhere.
        if exchange.attempts < Self.maximumAttempts, exchange.body == .none, Self.isIdempotent(exchange.head.method),
            retry(after: exchange.instance, sameAllowed: true)
        {
            return
        }
        failExchange(.badGateway("instance \(exchange.instance.id) closed the connection"), proxyGenerated: true)
    }

    private func completeExchange(_ exchange: Exchange, trailers: HTTPHeaders?) {
        finishMetrics(exchange, status: exchange.status, proxyGenerated: false)
        if let upstream = exchange.upstream {
            let reusable = exchange.upstreamKeepAlive && exchange.requestComplete
            if let pool = upstream.pool {
                pool.release(upstream, reusable: reusable)
            } else {
                upstream.client = nil
                upstream.close()
            }
        }
        guard let context else { return }
        if exchange.keepAlive && exchange.requestComplete {
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
            requestEnded()
        } else {
            state = .closing
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func failExchange(_ error: ProxyError, proxyGenerated: Bool) {
        guard case .relaying(let exchange) = state else { return }
        if let upstream = exchange.upstream {
            upstream.client = nil
            upstream.close()
        }
        finishMetrics(
            exchange,
            status: Int(error.status.code),
            proxyGenerated: proxyGenerated,
            proxyError: proxyGenerated ? String(error.body.dropLast()) : nil
        )
        if exchange.responseStarted {
            state = .closing
            context?.close(promise: nil)
            return
        }
        let keepAlive = exchange.keepAlive && exchange.requestComplete
        writeError(error, version: exchange.clientVersion, keepAlive: keepAlive)
        if keepAlive {
            requestEnded()
        } else {
            state = .closing
        }
    }

    /// The exchange is over and the connection stays: wait for the next request, serving pipelined ones first.
    private func requestEnded() {
        state = .idle
        waitingSince = loop.eventLoop.now
        headInProgress = false
        // Replay what was read ahead: the next request's head and all of its parts, up to the head after it.
        while let part = pipelined.first {
            if case .head = part, !isIdle { break }
            if case .closing = state { break }
            handle(pipelined.removeFirst())
        }
        resumeReadingIfHeld()
    }

    // MARK: WebSocket tunnel

    /// After `101 Switching Protocols`, once the request is complete: the two connections become one byte pipe.
    private func startTunnelIfReady() {
        guard case .relaying(let exchange) = state, exchange.switching, exchange.requestComplete,
            let upstream = exchange.upstream, let upstreamChannel = upstream.channel, let context
        else { return }
        finishMetrics(exchange, status: 101, proxyGenerated: false)
        state = .closing
        timer?.task.cancel()
        timer = nil
        upstream.pool?.detach(upstream)
        upstream.client = nil
        let (clientGlue, upstreamGlue) = GlueHandler.pair()
        let clientPipeline = context.pipeline.syncOperations
        let upstreamPipeline = upstreamChannel.pipeline.syncOperations
        do {
            try clientPipeline.addHandler(clientGlue)
            try upstreamPipeline.addHandler(upstreamGlue)
            upstreamPipeline.removeHandler(upstream, promise: nil)
            upstreamPipeline.removeHandler(upstream.encoder, promise: nil)
            upstreamPipeline.removeHandler(upstream.decoder, promise: nil)
            clientPipeline.removeHandler(encoder, promise: nil)
            clientPipeline.removeHandler(context: context, promise: nil)
            clientPipeline.removeHandler(decoder, promise: nil)
        } catch {
            context.close(promise: nil)
            upstreamChannel.close(promise: nil)
        }
    }

    // MARK: Metrics

    private func startMetrics(_ exchange: Exchange) {
        exchange.instance.requestStarted()
        exchange.versionTraffic.requestStarted(loop: loop.index)
        exchange.instanceTraffic.requestStarted(loop: loop.index)
    }

    private func finishMetrics(
        _ exchange: Exchange,
        status: Int,
        proxyGenerated: Bool,
        proxyError: String? = nil
    ) {
        exchange.instance.requestFinished()
        let latency = UInt64(max(0, (loop.eventLoop.now - exchange.started).nanoseconds))
        if status >= 500 { rememberFailure(exchange, status: status, latency: latency, proxyError: proxyError) }
        if let span = exchange.span, let tracing = core.tracing {
            tracing.end(
                span,
                status: status,
                version: exchange.version,
                instance: exchange.instance.id,
                bytes: exchange.responseBytes
            )
            exchange.span = nil
        }
        if let accessLog = core.accessLog {
            logAccess(
                to: accessLog,
                head: exchange.head,
                version: exchange.version,
                instance: exchange.instance.id,
                status: status,
                latency: latency,
                bytes: exchange.responseBytes
            )
        }
        exchange.versionTraffic.requestFinished(
            loop: loop.index,
            status: status,
            proxyGenerated: proxyGenerated,
            latencyNanoseconds: latency
        )
        if !exchange.outcomes.isEmpty {
            exchange.versionTraffic.recordOutcomes(loop: loop.index, exchange.outcomes)
        }
        if exchange.isUnit {
            exchange.versionTraffic.unitFinished(
                loop: loop.index,
                bad: status >= 500,
                latencyNanoseconds: latency,
                outcomes: exchange.outcomes
            )
        }
        exchange.instanceTraffic.requestFinished(
            loop: loop.index,
            status: status,
            proxyGenerated: proxyGenerated,
            latencyNanoseconds: latency
        )
    }

    /// One line of the access log into this loop's buffer, handed to the writer once the buffer is large enough
    /// (and by the listener's periodic flush otherwise).
    private func logAccess(
        to accessLog: AccessLog,
        head: HTTPRequestHead,
        version: String?,
        instance: String?,
        status: Int,
        latency: UInt64,
        bytes: Int
    ) {
        AccessLogLine(
            timeNs: FailedRequest.now(),
            app: core.app,
            version: version,
            instance: instance,
            method: head.method.rawValue,
            target: head.uri,
            status: status,
            durationNs: latency,
            bytes: bytes,
            requestID: head.headers.first(name: "X-Request-Id") ?? "",
            traceparent: head.headers.first(name: "traceparent")
        ).write(into: &loop.accessLines)
        if loop.accessLines.count >= AccessLog.flushBytes { loop.flushAccessLines(to: accessLog) }
    }

    /// A 5xx goes into this loop's ring of failed requests, for rollout reports: method, path without its query,
    /// status, latency and request id, nothing else of the request.
    private func rememberFailure(_ exchange: Exchange, status: Int, latency: UInt64, proxyError: String?) {
        let version = exchange.version ?? "?"
        let requestID = exchange.head.headers.first(name: "X-Request-Id") ?? ""
        loop.failedRequests.record(
            FailedRequest(
                timeNs: FailedRequest.now(),
                version: version,
                instance: exchange.instance.id,
                method: exchange.head.method.rawValue,
                path: FailedRequest.path(of: exchange.head.uri),
                status: status,
                latencyMs: Double(latency) / 1_000_000,
                requestID: FailedRequest.cut(requestID[...], to: FailedRequest.maximumRequestIDBytes),
                proxyError: proxyError
            )
        )
    }

    // MARK: Timeouts

    /// The moment something must happen by, for the state the connection is in.
    private var deadline: NIODeadline? {
        switch state {
        case .idle where headInProgress:
            return waitingSince + core.settings.headerTimeout
        case .idle:
            let idle = waitingSince + core.settings.idleTimeout
            guard let quiescedAt else { return idle }
            return min(idle, quiescedAt + ListenerCore.quiesceGrace)
        case .relaying(let exchange):
            return exchange.responseDeadline
        case .refusing, .closing:
            return nil
        }
    }

    /// Schedules the connection's single timer for the current deadline, unless it already fires earlier.
    private func armTimer() {
        guard let deadline, let context else { return }
        if let timer, timer.deadline <= deadline { return }
        timer?.task.cancel()
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.timerFired() }
        timer = (deadline, task)
    }

    private func timerFired() {
        timer = nil
        guard let deadline else { return }
        guard loop.eventLoop.now >= deadline else { return armTimer() }
        switch state {
        case .idle where headInProgress:
            respond(.requestTimeout, version: .http1_1, keepAlive: false, routes: nil)
        case .idle:
            state = .closing
            context?.close(promise: nil)
        case .relaying(let exchange) where !exchange.responseStarted:
            failExchange(.gatewayTimeout, proxyGenerated: true)
        default:
            break
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? ChannelError, case .connectTimeout = error { return "connect timed out" }
        let text = String(describing: error)
        if text.contains("refused") || text.contains("ECONNREFUSED") { return "connection refused" }
        return text
    }
}

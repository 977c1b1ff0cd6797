import NIOCore
import SlipwayHTTP1

extension ClientConnection {
    // MARK: Responses

    func upstreamRead(_ part: ResponseStream.Part, from connection: UpstreamConnection) {
        guard case .relaying(let exchange) = state, exchange.upstream === connection, let context else { return }
        switch part {
        case .head(let head):
            if head.isInterim {
                // 1xx informational (e.g. 103 Early Hints): passed on; the final head follows. 100 Continue was
                // already answered by the proxy.
                if head.status != 100 { writeHead(head, of: exchange) }
                return
            }
            if responseArrived(status: head.status, on: connection, in: exchange) { return }
            exchange.responseDeadline = nil
            exchange.status = head.status
            rememberForReplay(exchange)
            if head.status == 101 {
                guard exchange.head.upgrade else {
                    return failExchange(.badGateway("unrequested protocol switch"), proxyGenerated: true)
                }
                exchange.switching = true
            }
            if head.fields.contains(where: { $0.known == .slipwayOutcome }) {
                exchange.outcomes = OutcomeHeader.outcomes(in: head.values(of: .slipwayOutcome))
            }
            exchange.upstreamKeepAlive = head.keepAlive
            let clientMinor = exchange.head.minorVersion
            switch head.body {
            case .chunked where clientMinor == 0:
                // An HTTP/1.0 client reads no chunks: the body goes without them, delimited by the close.
                exchange.responseFraming = .chunkingRemoved
                connection.responses.decodeChunks = true
                exchange.keepAlive = false
            case .untilClose where exchange.keepAlive:
                if clientMinor == 1 {
                    exchange.responseFraming = .chunkingAdded
                } else {
                    exchange.keepAlive = false
                }
            default:
                break
            }
            exchange.responseStarted = true
            writeHead(head, of: exchange)
            if exchange.switching {
                // Nothing of HTTP follows a 101: the connections join once the request is complete.
                context.flush()
                startTunnelIfReady()
            }
        case .body(let buffer):
            exchange.responseBytes += buffer.readableBytes
            if let throttle = exchange.throttle {
                self.throttle(buffer, of: exchange, by: throttle)
            } else {
                writeBody(buffer, of: exchange)
            }
        case .end:
            if throttleEnded(exchange) { return }
            endResponse(exchange)
        }
    }

    /// Writes response body bytes to the client, framed as the client reads them.
    func writeBody(_ buffer: ByteBuffer, of exchange: Exchange) {
        guard let context else { return }
        if exchange.responseFraming == .chunkingAdded {
            var size = context.channel.allocator.buffer(capacity: 18)
            size.writeString(String(buffer.readableBytes, radix: 16))
            size.writeStaticString("\r\n")
            context.write(wrapOutboundOut(size), promise: nil)
            context.write(wrapOutboundOut(buffer), promise: nil)
            writeStatic("\r\n")
        } else {
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
    }

    /// The response's last bytes are out: ends its framing and the exchange.
    func endResponse(_ exchange: Exchange) {
        if exchange.responseFraming == .chunkingAdded { writeStatic("0\r\n\r\n") }
        completeExchange(exchange)
    }

    private func writeHead(_ head: ResponseHead, of exchange: Exchange) {
        var cookie: String?
        if !head.isInterim, let setCookie = exchange.setCookie {
            let value = TrafficBucket.cookieValue(bucket: setCookie.bucket, user: setCookie.user)
            cookie = "Set-Cookie: \(setCookie.name)=\(value); Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax\r\n"
        }
        var out = Self.take(
            &responseHeadScratch,
            capacity: head.bytes.readableBytes + 64 + (cookie?.utf8.count ?? 0),
            from: context
        )
        ClientResponseHead.write(
            head,
            clientMinorVersion: exchange.head.minorVersion,
            clientKeepAlive: exchange.keepAlive,
            framing: exchange.responseFraming,
            extraFields: cookie,
            into: &out
        )
        context.write(wrapOutboundOut(out), promise: nil)
        responseHeadScratch = out
    }

    /// A GET the instance answers 2xx or 3xx is worth replaying to a new instance: its target (path and query,
    /// nothing else) goes into this loop's ring.
    private func rememberForReplay(_ exchange: Exchange) {
        guard loop.recentRequests.capacity > 0, exchange.head.method == .get, (200...399).contains(exchange.status)
        else { return }
        loop.recentRequests.record(exchange.head.target, at: loop.eventLoop.now.uptimeNanoseconds)
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamBecameWritable() {
        resumeReadingIfHeld()
    }

    /// The instance's response cannot be passed on (its framing is malformed or ambiguous); the connection to it
    /// is closing.
    func upstreamFailed(_ connection: UpstreamConnection, reason: String) {
        guard case .relaying(let exchange) = state, exchange.upstream === connection else { return }
        exchange.upstream = nil
        if !exchange.responseStarted { countFailure(of: exchange) }
        failExchange(.badGateway("instance \(exchange.instance.id) sent a \(reason)"), proxyGenerated: true)
    }

    func upstreamClosed(_ connection: UpstreamConnection) {
        guard case .relaying(let exchange) = state, exchange.upstream === connection else { return }
        if exchange.throttle?.ended == true {
            // The response is complete; only its last bytes still wait for a bandwidth fault's pace.
            exchange.upstream = nil
            return
        }
        if exchange.responseStarted {
            // Part of the response is out: the client can only learn of the failure by the connection closing.
            finishMetrics(exchange, status: 502, proxyGenerated: true)
            state = .closing
            context?.close(promise: nil)
            return
        }
        // The instance closed before answering (a kept-alive connection it had just closed, or it died): an
        // idempotent request without a body may be sent again, preferably elsewhere.
        exchange.upstream = nil
        if attemptFailed(.reset, in: exchange) { return }
        failExchange(.badGateway("instance \(exchange.instance.id) closed the connection"), proxyGenerated: true)
    }

    func completeExchange(_ exchange: Exchange) {
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
            context.flush()
            requestEnded()
        } else {
            state = .closing
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Ends the exchange with an answer of the proxy's own (or, once the response has started, by closing).
    func failExchange(_ error: ProxyError, proxyGenerated: Bool, closing: Bool = false) {
        guard case .relaying(let exchange) = state else { return }
        if let upstream = exchange.upstream {
            upstream.client = nil
            upstream.close()
        }
        finishMetrics(
            exchange,
            status: Int(error.status),
            proxyGenerated: proxyGenerated,
            proxyError: proxyGenerated ? String(error.body.dropLast()) : nil
        )
        if exchange.responseStarted {
            state = .closing
            context?.close(promise: nil)
            return
        }
        let keepAlive = exchange.keepAlive && exchange.requestComplete && !closing && !error.closesConnection
        writeError(error, minorVersion: exchange.head.minorVersion, keepAlive: keepAlive)
        if keepAlive {
            requestEnded()
        } else {
            state = .closing
        }
    }

    // MARK: WebSocket tunnel

    /// After `101 Switching Protocols`, once the request is complete: the two connections become one byte pipe.
    /// Bytes either side sent early (read past the request, or past the 101 head) go through first.
    func startTunnelIfReady() {
        guard case .relaying(let exchange) = state, exchange.switching, exchange.requestComplete,
            let upstream = exchange.upstream, let upstreamChannel = upstream.channel, let context
        else { return }
        finishMetrics(exchange, status: 101, proxyGenerated: false)
        state = .closing
        timer?.task.cancel()
        timer = nil
        upstream.pool?.detach(upstream)
        upstream.pool = nil
        upstream.client = nil
        if let early = received {
            received = nil
            upstream.write(early)
            upstream.flush()
        }
        if let early = upstream.takeReceived() {
            context.writeAndFlush(wrapOutboundOut(early), promise: nil)
        }
        let (clientGlue, upstreamGlue) = GlueHandler.pair()
        let clientPipeline = context.pipeline.syncOperations
        let upstreamPipeline = upstreamChannel.pipeline.syncOperations
        do {
            try clientPipeline.addHandler(clientGlue)
            try upstreamPipeline.addHandler(upstreamGlue)
            upstreamPipeline.removeHandler(upstream, promise: nil)
            clientPipeline.removeHandler(context: context, promise: nil)
        } catch {
            context.close(promise: nil)
            upstreamChannel.close(promise: nil)
        }
    }
}

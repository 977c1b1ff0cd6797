import NIOCore
import SlipwayCore
import SlipwayHTTP1

extension ClientConnection {
    // MARK: Metrics

    func startMetrics(_ exchange: Exchange) {
        exchange.versionTraffic.requestStarted(loop: loop.index)
        // A request answered for an open circuit reaches no instance, so no instance counts it.
        guard !exchange.circuitOpen else { return }
        exchange.instance.requestStarted()
        exchange.instanceTraffic.requestStarted(loop: loop.index)
    }

    func finishMetrics(
        _ exchange: Exchange,
        status: Int,
        proxyGenerated: Bool,
        proxyError: String? = nil
    ) {
        if !exchange.circuitOpen { exchange.instance.requestFinished() }
        if exchange.admitted {
            exchange.admitted = false
            core.waitingRoom?.finished()
        }
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
                requestID: exchange.requestID,
                traceparent: exchange.traceparent,
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
        if let original = exchange.originalTraffic {
            exchange.originalTraffic = nil
            original.requestFinished(
                loop: loop.index,
                status: status,
                proxyGenerated: proxyGenerated,
                latencyNanoseconds: latency
            )
        }
        if !exchange.circuitOpen {
            exchange.instanceTraffic.requestFinished(
                loop: loop.index,
                status: status,
                proxyGenerated: proxyGenerated,
                latencyNanoseconds: latency
            )
        }
    }

    /// One line of the access log into this loop's buffer, handed to the writer once the buffer is large enough
    /// (and by the listener's periodic flush otherwise).
    func logAccess(
        to accessLog: AccessLog,
        head: RequestHead,
        requestID: String?,
        traceparent: String?,
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
            method: head.methodText,
            target: head.target,
            status: status,
            durationNs: latency,
            bytes: bytes,
            requestID: requestID ?? head.value(of: .xRequestID) ?? "",
            traceparent: traceparent ?? head.value(of: .traceparent)
        ).write(into: &loop.accessLines)
        if loop.accessLines.count >= AccessLog.flushBytes { loop.flushAccessLines(to: accessLog) }
    }

    /// A 5xx goes into this loop's ring of failed requests, for rollout reports: method, path without its query,
    /// status, latency and request id, nothing else of the request.
    private func rememberFailure(_ exchange: Exchange, status: Int, latency: UInt64, proxyError: String?) {
        let requestID = exchange.requestID
        loop.failedRequests.record(
            FailedRequest(
                timeNs: FailedRequest.now(),
                version: exchange.version ?? "?",
                instance: exchange.instance.id,
                method: exchange.head.methodText,
                path: FailedRequest.path(of: exchange.head.target),
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
        case .refusing, .closing, .waiting, .answered:
            return nil
        }
    }

    /// Schedules the connection's single timer for the current deadline, unless it already fires earlier.
    func armTimer() {
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
            respond(.requestTimeout, minorVersion: 1, keepAlive: false, routes: nil)
        case .idle:
            state = .closing
            context?.close(promise: nil)
        case .relaying(let exchange) where !exchange.responseStarted:
            attemptTimedOut(exchange)
        default:
            break
        }
    }
}

import NIOCore

extension ClientConnection {
    // MARK: Attempts and retries

    /// How an attempt failed.
    enum AttemptFailure {
        /// No connection to the instance: nothing of the request reached it.
        case connectFailure
        /// The instance closed the connection before its answer began.
        case reset
        /// No response head within the per-try timeout.
        case timeout
        /// The instance answered with this 5xx status.
        case status(Int)

        /// The status an attempt that failed so counts as, for the instance's traffic.
        var status: Int {
            switch self {
            case .connectFailure, .reset: return 502
            case .timeout: return 504
            case .status(let status): return status
            }
        }
    }

    /// Sends the request to `exchange.instance`, due to answer by the response timeout (counted from the request's
    /// arrival) or sooner by the per-try timeout.
    func startAttempt(_ exchange: Exchange) {
        let now = loop.eventLoop.now
        var deadline = exchange.started + core.settings.responseTimeout
        if let perTry = core.settings.retries.perTryTimeout { deadline = min(deadline, now + perTry) }
        exchange.responseDeadline = deadline
        armTimer()
        attachUpstream()
    }

    /// Connecting for `attempt` failed: nothing reached the instance, so another instance of the same version may
    /// take it; else 502. A failure for an attempt already given up on changes nothing.
    func connectFailed(attempt: UInt64, reason: String) {
        guard case .relaying(let exchange) = state, exchange.attempt == attempt, exchange.upstream == nil else {
            return
        }
        if attemptFailed(.connectFailure, in: exchange) { return }
        failExchange(
            .badGateway("cannot connect to instance \(exchange.instance.id): \(reason)"),
            proxyGenerated: true
        )
    }

    /// Every instance of the version is ejected: 503 at once, counted against the version.
    func failOpenCircuit(_ exchange: Exchange) {
        let version = exchange.version ?? "?"
        failExchange(.serviceUnavailable("every instance of version \(version) is failing"), proxyGenerated: true)
    }

    /// The current attempt's response head is late: past the response timeout the request is answered 504; past
    /// only the per-try timeout it may go to another instance first.
    func attemptTimedOut(_ exchange: Exchange) {
        if let upstream = exchange.upstream {
            upstream.client = nil
            upstream.close()
            exchange.upstream = nil
        }
        guard exchange.requestComplete else {
            // The client has not sent the whole request yet: the instance cannot be blamed for not answering it.
            return failExchange(.gatewayTimeout, proxyGenerated: true)
        }
        if loop.eventLoop.now < exchange.started + core.settings.responseTimeout,
            attemptFailed(.timeout, in: exchange)
        {
            return
        }
        if loop.eventLoop.now >= exchange.started + core.settings.responseTimeout { countFailure(of: exchange) }
        failExchange(.gatewayTimeout, proxyGenerated: true)
    }

    /// The instance answered a final head: a 5xx may be dropped unread and the request sent again (returns true
    /// then); any other status counts as the instance's success.
    func responseArrived(status: Int, on connection: UpstreamConnection, in exchange: Exchange) -> Bool {
        guard status >= 500 else {
            if core.outliers != nil { exchange.instance.attemptSucceeded() }
            return false
        }
        countFailure(of: exchange)
        guard let next = retryTarget(after: .status(status), exchange) else { return false }
        connection.client = nil
        connection.close()
        exchange.upstream = nil
        retry(exchange, to: next, status: status, proxyGenerated: false)
        return true
    }

    /// Counts the failed attempt against its instance, then sends the request again when the retry settings, the
    /// request and the budget allow. Returns whether it was sent again.
    func attemptFailed(_ failure: AttemptFailure, in exchange: Exchange) -> Bool {
        // A pooled connection the instance closed as the request went out is the keep-alive race, not a failure:
        // the request goes again on a fresh connection, outside the budget.
        if case .reset = failure, exchange.upstreamReused {
            // Two such retries are allowed whatever the settings: the race is the pool's, not the app's.
            guard exchange.attempts <= max(core.settings.retries.attempts, 2), isSafeToRepeat(exchange) else {
                return false
            }
            let next = alternative(to: exchange.instance, in: exchange) ?? exchange.instance
            retry(exchange, to: next, status: 502, proxyGenerated: true)
            return true
        }
        countFailure(of: exchange)
        guard let next = retryTarget(after: failure, exchange) else { return false }
        retry(exchange, to: next, status: failure.status, proxyGenerated: true)
        return true
    }

    /// The instance a retry after `failure` goes to, when the settings, the request and the loop's budget allow one
    /// (spending from the budget then).
    private func retryTarget(after failure: AttemptFailure, _ exchange: Exchange) -> UpstreamInstance? {
        guard mayRetry(failure, exchange), let next = alternative(to: exchange.instance, in: exchange) else {
            return nil
        }
        guard loop.retryBudget.spend(now: loop.eventLoop.now.uptimeNanoseconds) else {
            exchange.versionTraffic.retryRefused(loop: loop.index)
            return nil
        }
        return next
    }

    /// Whether the settings allow a retry after `failure`, the request may be sent twice and attempts remain.
    private func mayRetry(_ failure: AttemptFailure, _ exchange: Exchange) -> Bool {
        let settings = core.settings.retries
        guard exchange.attempts <= settings.attempts else { return false }
        switch failure {
        case .connectFailure:
            guard settings.on.contains(.connectFailure) else { return false }
        case .reset:
            guard settings.on.contains(.reset), isSafeToRepeat(exchange) else { return false }
        case .timeout:
            guard settings.on.contains(.timeout), isSafeToRepeat(exchange) else { return false }
        case .status(let status):
            let wanted =
                settings.on.contains(.serverError)
                || ((502...504).contains(status) && settings.on.contains(.gatewayError))
            guard wanted, isSafeToRepeat(exchange), !exchange.responseStarted else { return false }
        }
        return true
    }

    /// An idempotent method without a body: the instance may have acted on it, and acting twice is harmless.
    private func isSafeToRepeat(_ exchange: Exchange) -> Bool {
        exchange.head.body == .none && exchange.head.method.isIdempotent
    }

    /// Counts a failed attempt against the instance for outlier detection, telling the guard once the instance has
    /// failed enough times in a row.
    func countFailure(of exchange: Exchange) {
        guard let outliers = core.outliers else { return }
        let row = exchange.instance.attemptFailed()
        if outliers.settings.consecutiveFailures > 0, row >= outliers.settings.consecutiveFailures {
            outliers.failedInARow(exchange.instance, now: loop.eventLoop.now)
        }
    }

    /// Moves `exchange` to `next` and sends the request again; the failed attempt counts in its instance's traffic
    /// as `status`.
    private func retry(_ exchange: Exchange, to next: UpstreamInstance, status: Int, proxyGenerated: Bool) {
        let latency = UInt64(max(0, (loop.eventLoop.now - exchange.started).nanoseconds))
        exchange.instanceTraffic.requestFinished(
            loop: loop.index,
            status: status,
            proxyGenerated: proxyGenerated,
            latencyNanoseconds: latency
        )
        exchange.instanceTraffic.recordRetry(loop: loop.index)
        exchange.versionTraffic.recordRetry(loop: loop.index)
        exchange.instance.requestFinished()
        next.requestStarted()
        exchange.instanceTraffic = exchange.routes.traffic(of: next, book: core.book)
        exchange.instanceTraffic.requestStarted(loop: loop.index)
        exchange.instance = next
        exchange.attempts += 1
        exchange.upstream = nil
        startAttempt(exchange)
    }

    /// The instance of the exchange's version a retry goes to: in rotation, and not the one that failed.
    private func alternative(to failed: UpstreamInstance, in exchange: Exchange) -> UpstreamInstance? {
        let others = exchange.routes.table.versions[exchange.versionIndex].instances.filter { $0 !== failed }
        return WeightedLeastOutstanding.pick(from: others, random: &loop.random)
    }
}

import NIOCore
import SlipwayHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// Faults the proxy injects (``FaultSet``): drawn once per request, after routing, so a fault can be about one
/// version. An abort or a reset ends the request before it reaches an instance; a delay holds it before its first
/// attempt; a bandwidth limit paces its response body. Each counts into the version's ``InjectedFaults``, apart from
/// the app's own responses.
extension ClientConnection {
    /// The fault that applies to a request routed by `decision`, if any.
    func drawFault(for head: RequestHead, routes: AppRoutes, decision: RouteDecision) -> ProxyFault? {
        let faults = core.faults.load(ordering: .acquiring)
        guard !faults.isEmpty, !decision.circuitOpen else { return nil }
        let version = routes.table.versions[decision.versionIndex].version
        return faults.draw(for: head, version: version, now: loop.eventLoop.now, random: &loop.random)
    }

    /// Carries out an abort or a reset, which answer the request at its head; false for the other faults.
    func injectAtHead(
        _ fault: ProxyFault,
        head: RequestHead,
        keepAlive: Bool,
        admitted: Bool,
        routes: AppRoutes,
        decision: RouteDecision
    ) -> Bool {
        let status: Int
        switch fault.effect {
        case .abort(let code): status = code
        case .reset: status = 0
        case .delay, .bandwidth: return false
        }
        if admitted { core.waitingRoom?.finished() }
        let traffic = routes.versionTraffic[decision.versionIndex]
        if status == 0 {
            traffic.recordInjected(loop: loop.index, .reset)
            resetConnection()
            return true
        }
        traffic.recordInjected(loop: loop.index, .abort)
        if let accessLog = core.accessLog {
            logAccess(
                to: accessLog,
                head: head,
                requestID: nil,
                traceparent: nil,
                version: routes.table.versions[decision.versionIndex].version,
                instance: nil,
                status: status,
                latency: 0,
                bytes: 0
            )
        }
        refuse(.injected(status: status), minorVersion: head.minorVersion, keepAlive: keepAlive && head.body == .none)
        return true
    }

    /// Applies a delay or a bandwidth limit to a request about to be sent; true when the first attempt waits (a
    /// delay), which then starts by itself.
    func holdForFault(_ fault: ProxyFault, _ exchange: Exchange) -> Bool {
        switch fault.effect {
        case .delay(let nanoseconds, let jitter):
            exchange.versionTraffic.recordInjected(loop: loop.index, .delay)
            let extra = jitter > 0 ? Int64(RoutingRandom.below(Int(jitter) + 1, using: &loop.random)) : 0
            let delay = TimeAmount.nanoseconds(nanoseconds + extra)
            // The app's latency leaves the injected delay out; so does its response timeout.
            exchange.started = exchange.started + delay
            exchange.delayed = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                exchange.delayed = nil
                guard case .relaying(let current) = self.state, current === exchange, exchange.upstream == nil else {
                    return
                }
                self.startAttempt(exchange)
            }
            return true
        case .bandwidth(let bytesPerSecond):
            exchange.versionTraffic.recordInjected(loop: loop.index, .bandwidth)
            exchange.throttle = ResponseThrottle(bytesPerSecond: bytesPerSecond, now: loop.eventLoop.now)
            return false
        case .abort, .reset:
            return false
        }
    }

    /// Ends the client's connection with a TCP reset (`SO_LINGER` 0), as a crashed server or a middlebox would.
    func resetConnection() {
        state = .closing
        received = nil
        guard let context else { return }
        let channel = context.channel
        guard let provider = channel as? any SocketOptionProvider else { return channel.close(promise: nil) }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }

    // MARK: Bandwidth

    /// Response body bytes under a bandwidth fault: they wait in the throttle and go out at its rate.
    func throttle(_ buffer: ByteBuffer, of exchange: Exchange, by throttle: ResponseThrottle) {
        throttle.enqueue(buffer)
        if throttle.scheduled == nil { pumpThrottle(of: exchange) }
    }

    /// The response ended under a bandwidth fault: the exchange completes once its last bytes are out. False when
    /// none wait, so it completes now.
    func throttleEnded(_ exchange: Exchange) -> Bool {
        guard let throttle = exchange.throttle, !throttle.isEmpty else { return false }
        throttle.ended = true
        return true
    }

    /// Writes what the rate allows now, then comes back a tick later while bytes wait.
    private func pumpThrottle(of exchange: Exchange) {
        guard let throttle = exchange.throttle, let context else { return }
        throttle.scheduled = nil
        let released = throttle.release(at: loop.eventLoop.now)
        for slice in released { writeBody(slice, of: exchange) }
        if !released.isEmpty { context.flush() }
        if !throttle.isFull { exchange.upstream?.resumeReading() }
        if throttle.isEmpty {
            if throttle.ended { endResponse(exchange) }
            return
        }
        throttle.scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: ResponseThrottle.tick) {
            guard case .relaying(let current) = self.state, current === exchange else { return }
            self.pumpThrottle(of: exchange)
        }
    }

    /// Whether the exchange's throttle holds more bytes than it lets the instance add to.
    var throttleIsFull: Bool {
        guard case .relaying(let exchange) = state, let throttle = exchange.throttle else { return false }
        return throttle.isFull
    }
}

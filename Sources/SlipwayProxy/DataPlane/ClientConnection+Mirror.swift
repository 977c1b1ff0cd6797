import NIOCore
import SlipwayHTTP1

/// Traffic mirroring: a share of requests is copied to another version once read in full, fire-and-forget. The
/// copy carries `X-Slipway-Mirror: 1`; its response is read on a connection of its own and dropped, and only its
/// status and latency are kept, next to those of the user's response to the same request.
extension ClientConnection {
    /// The header every copy carries, so the instance (and its logs) can tell a shadow request from a user's.
    static let mirrorField: StaticString = "X-Slipway-Mirror: 1\r\n\r\n"

    /// Decides at the request's head whether a copy goes out, and if so starts it: the head as the instance gets
    /// it, marked as a copy. Requests to the mirrored version itself, protocol switches, methods not listed and
    /// bodies over the bound are not copied.
    func planMirrorCopy(of exchange: Exchange, mirror: TrafficMirror, mirrorIndex: Int) {
        let head = exchange.head
        guard exchange.versionIndex != mirrorIndex, !head.upgrade else { return }
        switch head.body {
        case .none: break
        case .length(let length): guard length <= mirror.maxBodyBytes else { return }
        case .chunked: guard mirror.maxBodyBytes > 0 else { return }
        case .untilClose: return
        }
        guard mirror.methods.contains(head.methodText) else { return }
        guard RoutingRandom.falls(inShare: mirror.share, using: &loop.random) else { return }
        let upstreamHead = exchange.upstreamHead
        // The head ends with its blank line; the mark goes before it.
        guard upstreamHead.readableBytes >= 2 else { return }
        var copy = context.channel.allocator.buffer(capacity: upstreamHead.readableBytes + 24)
        copy.writeImmutableBuffer(
            upstreamHead.getSlice(at: upstreamHead.readerIndex, length: upstreamHead.readableBytes - 2)!
        )
        copy.writeStaticString(Self.mirrorField)
        exchange.mirrorCopy = copy
    }

    /// Adds body bytes to the copy, or gives the copy up once the body outgrows the bound (a chunked body, whose
    /// length is not known in advance).
    func copyBody(_ body: ByteBuffer, in exchange: Exchange) {
        guard var copy = exchange.mirrorCopy else { return }
        exchange.mirrorCopy = nil
        let limit = exchange.routes.table.mirror?.maxBodyBytes ?? 0
        let headBytes = exchange.upstreamHead.readableBytes - 2 + Self.mirrorField.utf8CodeUnitCount
        guard copy.readableBytes + body.readableBytes <= headBytes + limit else { return }
        copy.writeImmutableBuffer(body)
        exchange.mirrorCopy = copy
    }

    /// The request is read in full: the copy goes to an instance of the mirrored version, on a connection of its
    /// own from this loop. With no instance that takes requests, or every connection to it busy, the copy is dropped
    /// and counted as such.
    func sendMirrorCopy(of exchange: Exchange) {
        guard let copy = exchange.mirrorCopy else { return }
        exchange.mirrorCopy = nil
        let routes = exchange.routes
        guard let shadowTraffic = routes.shadowTraffic else { return }
        let target = routes.table.versions.withUnsafeBufferPointer { versions in
            WeightedLeastOutstanding.pick(from: versions[routes.table.mirrorIndex].instances, random: &loop.random)
        }
        let book = core.book
        guard let instance = target else {
            book.mirrorsDropped.add(1, ordering: .relaxed)
            return
        }
        let shadow = ShadowConnection.Copy(
            method: exchange.head.method,
            sent: loop.eventLoop.now,
            traffic: shadowTraffic,
            loop: loop.index
        )
        let timeout = core.settings.responseTimeout
        let pool = loop.shadowPool(for: instance)
        let idle = pool.takeIdle()
        guard idle != nil || pool.reserve() else {
            book.mirrorsDropped.add(1, ordering: .relaxed)
            return
        }
        // The user's response counts beside the shadow's only when the copy goes out.
        if exchange.versionIndex < routes.originalTraffic.count {
            let original = routes.originalTraffic[exchange.versionIndex]
            original.requestStarted(loop: loop.index)
            exchange.originalTraffic = original
        }
        if let idle { return idle.send(shadow, bytes: copy, timeout: timeout) }
        loop.connect(to: instance).assumeIsolated().whenComplete { result in
            let connection = ShadowConnection(instance: instance)
            switch result {
            case .success(let channel):
                do {
                    try channel.pipeline.syncOperations.addHandler(connection)
                } catch {
                    pool.reservationFailed()
                    channel.close(promise: nil)
                    return connection.send(shadow, bytes: copy, timeout: timeout)
                }
                connection.pool = pool
                connection.send(shadow, bytes: copy, timeout: timeout)
            case .failure:
                pool.reservationFailed()
                // Counted as the proxy's 502, as a user's request would be.
                connection.send(shadow, bytes: copy, timeout: timeout)
            }
        }
    }
}

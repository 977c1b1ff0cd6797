import NIOCore
import SlipwayHTTP1

extension ClientConnection {
    // MARK: The waiting room

    /// Takes `head` through the app's waiting room, when it has one. Returns true when the request may go on now;
    /// otherwise it waits on this connection, or was answered (the waiting page, or 503 when the line is full).
    func passWaitingRoom(_ head: RequestHead, keepAlive: Bool) -> Bool {
        guard let room = core.waitingRoom else { return true }
        if room.settings.waitingPage, Self.isPageVisit(head) {
            let cookie = RoutingCookies.value(named: WaitingRoomGuard.cookieName, in: head) {
                String(decoding: $0, as: UTF8.self)
            }
            switch room.visit(cookie: cookie) {
            case .admitted:
                return true
            case .waiting(let ticket, let place):
                writeWaitingPage(room: room, ticket: ticket, place: place, head: head, keepAlive: keepAlive)
            case .full:
                refuseWaiting(head, "too many visitors are waiting", keepAlive: keepAlive)
            }
            return false
        }
        let (arrival, token) = room.arrive(self, on: loop.eventLoop)
        switch arrival {
        case .admitted:
            return true
        case .waiting:
            state = .waiting(head, keepAlive: keepAlive, token: token)
        case .full:
            refuseWaiting(head, "too many requests are waiting", keepAlive: keepAlive)
        }
        return false
    }

    /// The held request's turn came (on this connection's loop).
    func waitingRoomAdmitted(_ token: UInt64) {
        guard case .waiting(let head, let keepAlive, let waiting) = state, waiting == token else {
            // The client left meanwhile: the slot it was given goes to the next in line.
            core.waitingRoom?.finished()
            return
        }
        state = .idle
        forward(head, keepAlive: keepAlive, admitted: true)
        readHeldParts()
    }

    /// The held request waited the queue timeout (on this connection's loop).
    func waitingRoomTimedOut(_ token: UInt64) {
        guard case .waiting(let head, let keepAlive, let waiting) = state, waiting == token else { return }
        state = .idle
        refuseWaiting(head, "waited too long for a free slot", keepAlive: keepAlive)
        readHeldParts()
    }

    /// Goes on with what the stream held back while the request waited (its end, its body, a pipelined request),
    /// then reads from the socket again.
    private func readHeldParts() {
        guard let context else { return }
        var buffer = received ?? context.channel.allocator.buffer(capacity: 0)
        received = nil
        readParts(from: &buffer)
        if buffer.readableBytes > 0, !isClosing { received = buffer }
        resumeReadingIfHeld()
    }

    /// 503 with `Retry-After` for a request the room did not let in, counted with the app's unrouted requests.
    private func refuseWaiting(_ head: RequestHead, _ reason: String, keepAlive: Bool) {
        let routes = core.routes.load(ordering: .acquiring)
        routes.unrouted.requestStarted(loop: loop.index)
        refuse(
            .serviceUnavailable(reason),
            minorVersion: head.minorVersion,
            keepAlive: keepAlive && head.body == .none,
            routes: routes
        )
    }

    /// A browser asking for a page: GET or HEAD without a body, accepting `text/html`.
    private static func isPageVisit(_ head: RequestHead) -> Bool {
        guard head.method == .get || head.method == .head, head.body == .none,
            let accept = head.firstValue(named: "accept")
        else { return false }
        return accept.lowercased().contains("text/html")
    }

    /// 503 with the waiting page: the visitor's place, asking again by itself; the signed ticket in a cookie.
    private func writeWaitingPage(
        room: WaitingRoomGuard,
        ticket: UInt64,
        place: Int,
        head: RequestHead,
        keepAlive: Bool
    ) {
        let refresh = max(1, room.settings.pageRefreshMs / 1000)
        let body = WaitingPage.html(place: place, refreshSeconds: refresh)
        var out = context.channel.allocator.buffer(capacity: body.utf8.count + 512)
        out.writeString(head.minorVersion == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        out.writeString("503 Service Unavailable\r\nContent-Type: text/html; charset=utf-8\r\n")
        out.writeString("Cache-Control: no-store\r\nServer: slipway\r\nRetry-After: \(refresh)\r\n")
        out.writeString("Set-Cookie: \(WaitingRoomGuard.cookieName)=\(room.cookieValue(ticket: ticket)); Path=/; ")
        out.writeString("HttpOnly; SameSite=Lax\r\nContent-Length: \(body.utf8.count)\r\n")
        if !keepAlive {
            out.writeString("Connection: close\r\n")
        } else if head.minorVersion == 0 {
            out.writeString("Connection: keep-alive\r\n")
        }
        out.writeString("\r\n")
        if head.method != .head { out.writeString(body) }
        let routes = core.routes.load(ordering: .acquiring)
        routes.unrouted.requestStarted(loop: loop.index)
        routes.unrouted.requestFinished(loop: loop.index, status: 503, proxyGenerated: true, latencyNanoseconds: 0)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            state = .answered
        } else {
            state = .closing
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// The page a visitor sees while waiting: its place, refreshed by the browser itself (no script needed).
enum WaitingPage {
    static func html(place: Int, refreshSeconds: Int) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="refresh" content="\(refreshSeconds)">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <title>You are in line</title>
        <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933}
        .place{font-size:3rem;font-weight:700;margin:.5rem 0}</style></head>
        <body><h1>Many people are visiting right now</h1>
        <p>You are in line and will be let in as soon as there is room, in the order you arrived.</p>
        <p>Your place in line:</p><p class="place" id="place" data-place="\(place)">\(place)</p>
        <p>This page checks again every \(refreshSeconds) seconds by itself. Keep it open to keep your place.</p>
        </body></html>

        """
    }
}

import NIOCore
import NIOPosix
import Testing

@testable import SlipwayProxy

/// An instance that answers every request head with the same bytes, exactly, and then closes or not: for responses
/// no well-behaved server library would send.
final class CannedUpstream: Sendable {
    let group: MultiThreadedEventLoopGroup
    let channel: any Channel

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.group = group
        self.channel = channel
    }

    static func start(answer: String, thenClose: Bool) async throws -> CannedUpstream {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(answer: answer, thenClose: thenClose))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return CannedUpstream(group: group, channel: channel)
    }

    var port: Int { channel.localAddress!.port! }

    func instance() throws -> UpstreamInstance {
        try UpstreamInstance(id: "canned", version: "v1", host: "127.0.0.1", port: port)
    }

    func stop() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let answer: String
        let thenClose: Bool
        var received = ""

        init(answer: String, thenClose: Bool) {
            self.answer = answer
            self.thenClose = thenClose
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += String(buffer: unwrapInboundIn(data))
            while let end = received.range(of: "\r\n\r\n") {
                received.removeSubrange(..<end.upperBound)
                let written = context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)))
                if thenClose {
                    let channel = context.channel
                    written.whenComplete { _ in channel.close(promise: nil) }
                    return
                }
            }
        }
    }
}

/// How instances' response bodies reach clients that read them differently: the body framing is passed through
/// where the client can read it, and changed where it cannot.
@Suite struct DataPlaneResponseFramingTests {
    @Test func aBodyEndedByTheInstanceClosingIsChunkedForAKeptAliveClient() async throws {
        let upstream = try await CannedUpstream.start(
            answer: "HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nno length",
            thenClose: true
        )
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let connection = try RawConnection(port: proxy.port)
        connection.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = connection.readText(until: "0\r\n\r\n")
        #expect(first.hasPrefix("HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), "\(first)")
        #expect(first.hasSuffix("9\r\nno length\r\n0\r\n\r\n"), "\(first)")
        // The client's connection stays: a second request on it is answered the same way.
        connection.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(connection.readText(until: "0\r\n\r\n").hasSuffix("9\r\nno length\r\n0\r\n\r\n"))
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func aChunkedBodyReachesAnHTTP10ClientWithoutItsChunksAndThenTheConnectionCloses() async throws {
        let upstream = try await CannedUpstream.start(
            answer:
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\nT: 1\r\n\r\n",
            thenClose: false
        )
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let connection = try RawConnection(port: proxy.port)
        connection.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        // Read to the close.
        let text = String(decoding: connection.read { _ in false }, as: UTF8.self)
        #expect(text == "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nhello, world", "\(text.debugDescription)")
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "HTTP/1.1 200 OK\r\nX: a\nContent-Length: 1\r\n\r\na",
        "HTTP/1.1 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ])
    func aResponseWhoseFramingIsAmbiguousIsA502(answer: String) async throws {
        let upstream = try await CannedUpstream.start(answer: answer, thenClose: false)
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let connection = try RawConnection(port: proxy.port)
        connection.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        if answer.contains("zz") {
            // The head was on its way before the body turned out bad: the client learns of it by the connection
            // closing, and no byte of the bad body reaches it.
            let text = String(decoding: connection.read { _ in false }, as: UTF8.self)
            #expect(!text.contains("zz"))
            #expect(!text.contains("502"))
        } else {
            let text = connection.readText(until: "\n", count: 1)
            #expect(text.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"), "\(answer.debugDescription): \(text)")
        }
        try await proxy.stop()
        try await upstream.stop()
    }
}

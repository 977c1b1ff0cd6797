import NIOCore
import NIOPosix
import SlipwayProxy

/// Runs `body` with the loops of a fresh two-thread group, and shuts the group down however `body` ends.
func withTwoEventLoops(_ body: ([any EventLoop]) async throws -> Void) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    do {
        try await body(Array(group.makeIterator()))
    } catch {
        try await group.shutdownGracefully()
        throw error
    }
    try await group.shutdownGracefully()
}

/// Records `count` whole requests on loop `index`, from that loop as the data plane does.
func recordRequests(
    _ recorder: TrafficRecorder,
    on loops: [any EventLoop],
    loop index: Int,
    count: Int,
    status: Int = 200,
    proxyGenerated: Bool = false,
    latencyNanoseconds: UInt64
) async throws {
    try await loops[index].submit {
        for _ in 0..<count {
            recorder.requestStarted(loop: index)
            recorder.requestFinished(
                loop: index,
                status: status,
                proxyGenerated: proxyGenerated,
                latencyNanoseconds: latencyNanoseconds
            )
        }
    }.get()
}

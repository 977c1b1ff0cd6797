import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import SlipwayConfig
import SlipwayProxy
import SlipwayServer

/// `slipway proxy`: the data plane alone, in front of fixed upstreams (for benchmarks and simple setups).
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run the built-in proxy alone in front of fixed upstream addresses.",
        discussion: "Runs in the foreground until SIGINT or SIGTERM."
    )

    @Option(help: "The address to listen on, host:port.")
    var listen: String

    @Option(name: .customLong("upstream"), help: "An upstream address, host:port (repeat for several).")
    var upstreams: [String]

    @Option(help: "Event-loop threads.")
    var threads = System.coreCount

    func validate() throws {
        guard HostPort.parse(listen) != nil else {
            throw ValidationError("--listen: expected host:port, got \"\(listen)\"")
        }
        guard !upstreams.isEmpty else { throw ValidationError("at least one --upstream is required") }
        for upstream in upstreams where HostPort.parse(upstream) == nil {
            throw ValidationError(
                "--upstream: expected an IP address and port like 127.0.0.1:8081, got \"\(upstream)\""
            )
        }
        guard (1...64).contains(threads) else { throw ValidationError("--threads: expected 1 to 64, got \(threads)") }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let address = HostPort.parse(listen)!
        let instances = try upstreams.enumerated().map { index, text in
            let upstream = HostPort.parse(text)!
            return try UpstreamInstance(
                id: "upstream-\(index + 1)",
                version: "static",
                host: upstream.host,
                port: upstream.port
            )
        }
        // The same defaults as an app's `proxy:` section.
        let listener = try await AppListener.bind(
            app: "proxy",
            host: address.host,
            port: address.port,
            settings: ProxySettings(ProxySpec()),
            group: group
        )
        listener.update(
            try RouteTable(versions: [VersionRoute(version: "static", weight: 10_000, instances: instances)])
        )
        let bound = HostPort(host: address.host, port: listener.port)
        FileHandle.standardOutput.write(Data("slipway proxy listening on \(bound)\n".utf8))
        let signals = ServiceGroup(
            services: [SignalWait()],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: .init(label: "slipway.proxy")
        )
        try await signals.run()
        try await listener.close()
        try await group.shutdownGracefully()
    }
}

/// A service that only waits for the group's graceful shutdown.
private struct SignalWait: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}

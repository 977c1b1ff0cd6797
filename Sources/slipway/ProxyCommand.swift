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

    @Option(
        name: .customLong("mirror"),
        help: "An address to copy requests to, host:port (repeat for several); their answers are dropped."
    )
    var mirrors: [String] = []

    @Option(help: "The share of GET and HEAD requests copied to the --mirror addresses, in percent.")
    var mirrorShare = 100.0

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
        for mirror in mirrors where HostPort.parse(mirror) == nil {
            throw ValidationError("--mirror: expected an IP address and port like 127.0.0.1:8082, got \"\(mirror)\"")
        }
        guard (mirrorShare * 100).rounded() >= 1, mirrorShare <= 100 else {
            throw ValidationError("--mirror-share: expected a percentage from 0.01 to 100, got \(mirrorShare)")
        }
        guard (1...64).contains(threads) else { throw ValidationError("--threads: expected 1 to 64, got \(threads)") }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let address = HostPort.parse(listen)!
        func instances(_ addresses: [String], named name: String, version: String) throws -> [UpstreamInstance] {
            try addresses.enumerated().map { index, text in
                let address = HostPort.parse(text)!
                return try UpstreamInstance(
                    id: "\(name)-\(index + 1)",
                    version: version,
                    host: address.host,
                    port: address.port
                )
            }
        }
        var versions = [
            VersionRoute(
                version: "static",
                weight: 10_000,
                instances: try instances(upstreams, named: "upstream", version: "static")
            )
        ]
        var mirror: TrafficMirror?
        if !mirrors.isEmpty {
            versions.append(
                VersionRoute(
                    version: "mirror",
                    weight: 0,
                    instances: try instances(mirrors, named: "mirror", version: "mirror")
                )
            )
            mirror = TrafficMirror(version: "mirror", share: Int((mirrorShare * 100).rounded()))
        }
        // The same defaults as an app's `proxy:` section.
        let listener = try await AppListener.bind(
            app: "proxy",
            host: address.host,
            port: address.port,
            settings: ProxySettings(ProxySpec()),
            group: group
        )
        listener.update(try RouteTable(versions: versions, mirror: mirror))
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

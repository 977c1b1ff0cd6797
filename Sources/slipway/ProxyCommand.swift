import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import SlipwayProxy

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
        guard Self.split(listen) != nil else {
            throw ValidationError("--listen: expected host:port, got \"\(listen)\"")
        }
        guard !upstreams.isEmpty else { throw ValidationError("at least one --upstream is required") }
        for upstream in upstreams where Self.split(upstream) == nil {
            throw ValidationError(
                "--upstream: expected an IP address and port like 127.0.0.1:8081, got \"\(upstream)\""
            )
        }
        guard (1...64).contains(threads) else { throw ValidationError("--threads: expected 1 to 64, got \(threads)") }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let (host, port) = Self.split(listen)!
        let instances = try upstreams.enumerated().map { index, address in
            let (upstreamHost, upstreamPort) = Self.split(address)!
            return try UpstreamInstance(
                id: "upstream-\(index + 1)",
                version: "static",
                host: upstreamHost,
                port: upstreamPort
            )
        }
        let listener = try await AppListener.bind(
            app: "proxy",
            host: host,
            port: port,
            settings: ProxySettings(),
            group: group
        )
        listener.update(
            try RouteTable(versions: [VersionRoute(version: "static", weight: 10_000, instances: instances)])
        )
        FileHandle.standardOutput.write(Data("slipway proxy listening on \(host):\(listener.port)\n".utf8))
        let group2 = ServiceGroup(
            services: [SignalWait()],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: .init(label: "slipway.proxy")
        )
        try await group2.run()
        try await listener.close()
        try await group.shutdownGracefully()
    }

    static func split(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? nil : (host, port)
    }
}

/// A service that only waits for the group's graceful shutdown.
private struct SignalWait: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}

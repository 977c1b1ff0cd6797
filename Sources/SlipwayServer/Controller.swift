import AsyncHTTPClient
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import SlipwayConfig
import SlipwayCore
import SlipwayPlatform
import SlipwayProxy
import SlipwayStore

/// The controller: runs every app of a config at its instance count, supervised, with every fact in the event log.
///
/// A `Service`: run it in a `ServiceGroup`; on graceful shutdown it stops every instance it started (each with
/// its app's stop signal and grace period) before returning.
public final class Controller: Service, MetricSource {
    /// Why a controller cannot start. Nothing was started or written when one of these is thrown.
    public enum StartError: Error, CustomStringConvertible {
        /// The config does not fit this machine.
        case config([ConfigDiagnostic])
        /// Another controller holds the state directory.
        case locked(String)
        /// The event log cannot be opened.
        case store(StoreError)

        public var description: String {
            switch self {
            case .config(let diagnostics): return diagnostics.map(\.description).joined(separator: "\n")
            case .locked(let reason): return reason
            case .store(let error): return error.description
            }
        }
    }

    /// The config being run.
    public let config: SlipwayConfig
    /// The event log.
    public let log: EventLog
    /// Where instances run.
    public let platform: LocalPlatform
    private let lock: StateDirectoryLock
    private let logger: Logger
    private let observer: @Sendable (RecordedEvent) -> Void

    /// Checks the config against this machine, takes the state directory and opens its event log.
    /// - Parameter observer: told of every event as it is appended.
    public init(
        config: SlipwayConfig,
        logger: Logger = Logger(label: "slipway.controller"),
        observer: @escaping @Sendable (RecordedEvent) -> Void = { _ in }
    ) throws(StartError) {
        let problems = Preflight.checkFiles(config) + Preflight.checkAddresses(config)
        guard problems.isEmpty else { throw .config(problems) }
        let directory = config.controller.stateDirectory
        do {
            self.lock = try StateDirectoryLock(directory: directory)
        } catch {
            throw .locked(error.description)
        }
        do {
            self.log = try EventLog(directory: directory)
        } catch {
            throw .store(error)
        }
        self.config = config
        self.logger = logger
        self.observer = observer
        self.platform = LocalPlatform(stateDirectory: directory, logger: logger)
    }

    private let listeners = ListenerRegistry()

    public func run() async throws {
        let proxyGroup = MultiThreadedEventLoopGroup(numberOfThreads: config.controller.proxyThreads)
        do {
            for app in config.apps {
                let listener = try await AppListener.bind(
                    app: app.name,
                    host: app.listen.host,
                    port: app.listen.port,
                    settings: ProxySettings(app.proxy),
                    group: proxyGroup
                )
                listeners.add(listener)
            }
        } catch {
            for listener in listeners.all { try? await listener.close() }
            try? await proxyGroup.shutdownGracefully()
            throw error
        }
        defer { lock.release() }
        var clientConfiguration = HTTPClient.Configuration()
        // A probe judges the instance's own answer; a redirect elsewhere proves nothing about it.
        clientConfiguration.redirectConfiguration = .disallow
        let client = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: clientConfiguration
        )
        let recorder = EventRecorder(log: log, logger: logger, observer: observer)
        let timeline = Timeline()
        var supervisors: [String: AppSupervisor] = [:]
        for app in config.apps {
            let first: Int
            do {
                first = try log.highestInstanceNumber(app: app.name) + 1
            } catch {
                try await client.shutdown()
                throw StartError.store(error)
            }
            recorder.record(
                Event(
                    app: app.name,
                    kind: .controllerStarted,
                    fields: [
                        "version": .string(app.version),
                        "instances": .int(app.instances),
                        "listen": .string(listenAddress(of: app)),
                        "config": .string(config.file),
                        "pid": .int(Int(getpid())),
                    ]
                )
            )
            supervisors[app.name] = AppSupervisor(
                spec: app,
                baseDirectory: config.baseDirectory,
                firstInstanceNumber: first,
                platform: platform,
                recorder: recorder,
                prober: HealthProber(client: client),
                timeline: timeline,
                listener: listeners[app.name],
                logger: logger
            )
        }

        let platform = self.platform
        let routing = supervisors
        let exits = Task {
            for await exit in platform.exits {
                guard let supervisor = routing[Self.appName(of: exit.id)] else { continue }
                await supervisor.exited(exit)
            }
        }
        for supervisor in supervisors.values { await supervisor.begin() }

        let api = ControllerAPI(address: config.controller.api, metrics: self, logger: logger)
        let apiTask = Task { try await api.run() }

        // Runs until SIGTERM/SIGINT (or the group's shutdown); cancellation ends the wait too.
        try? await gracefulShutdown()
        apiTask.cancel()
        _ = try? await apiTask.value

        await withTaskGroup(of: Void.self) { group in
            for supervisor in supervisors.values { group.addTask { await supervisor.shutdown() } }
        }
        for app in config.apps {
            recorder.record(Event(app: app.name, kind: .controllerStopped, fields: ["reason": "shutdown"]))
        }
        exits.cancel()
        for listener in listeners.all { try? await listener.close() }
        try? await proxyGroup.shutdownGracefully()
        try await client.shutdown()
    }

    /// The address an app's listener is bound to (the configured one, with the actual port when it was 0).
    public func listenAddress(of app: AppSpec) -> String {
        HostPort(host: app.listen.host, port: listeners[app.name]?.port ?? app.listen.port).description
    }

    /// The listener of `app`, once the controller runs.
    public func listener(of app: String) -> AppListener? {
        listeners[app]
    }

    public func sample(app: String) async throws -> AppTrafficSample {
        guard let listener = listeners[app] else { throw UnknownApp(app: app) }
        return await listener.sample()
    }

    /// Every app's traffic, for `/metrics`.
    func samples() async -> [AppTrafficSample] {
        var samples: [AppTrafficSample] = []
        for listener in listeners.all.sorted(by: { $0.app < $1.app }) { samples.append(await listener.sample()) }
        return samples
    }

    /// The app an instance belongs to: its id without the trailing `-<number>`.
    static func appName(of id: InstanceID) -> String {
        guard let dash = id.rawValue.lastIndex(of: "-") else { return id.rawValue }
        return String(id.rawValue[..<dash])
    }

    /// No app of that name is configured.
    public struct UnknownApp: Error, CustomStringConvertible {
        public var app: String
        public var description: String { "no app named \"\(app)\"" }
    }

    /// Runs the controller until SIGINT or SIGTERM, then shuts down gracefully.
    public func runUntilSignalled() async throws {
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: self)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.logging = .init()
        try await ServiceGroup(configuration: configuration).run()
    }
}

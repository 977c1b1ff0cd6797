import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayPlatform
import SlipwayServer
import Synchronization

/// `slipway chaos run FILE`: runs a chaos experiment against a running controller.
struct ChaosRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a chaos experiment (Chaos Toolkit's structure, in YAML or JSON).",
        discussion: """
            Checks the steady-state hypothesis, runs the method, checks the hypothesis again, then always runs \
            the rollbacks and removes the faults the experiment added (also after Ctrl-C). Writes the journal to \
            --journal and into the event log. Exit codes: 0 the hypothesis held, 1 it deviated, 2 the run failed \
            or was aborted (or the file is invalid), 3 it was interrupted, 4 controller unreachable.
            """
    )

    @Argument(help: "The experiment file.")
    var file: String

    @Option(help: ArgumentHelp("Where the journal goes (JSON).", valueName: "path"))
    var journal = "journal.json"

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the journal as JSON instead of a line per activity.")
    var json = false

    func run() async throws {
        let spec: ChaosExperimentSpec
        do {
            spec = try ChaosExperimentLoader.load(file: file)
        } catch {
            for diagnostic in error.diagnostics { FileHandle.standardErrorWrite(diagnostic.description) }
            throw ExitCode(ExitStatus.badInput)
        }
        let interrupted = InterruptFlag()
        interrupted.install()
        let endpoint = try controller.endpoint()
        let user = controller.user
        let quiet = json
        let result: ChaosJournal = try await ControllerClient.with(endpoint) { client in
            let driver = ExperimentDriver(client: client, user: user, title: spec.title)
            let runner = ChaosExperimentRunner(spec: spec, driver: driver, isInterrupted: { interrupted.isSet })
            if !quiet { ControllerCall.printLine("experiment: \(spec.title)") }
            // The controller shows the run while it is told, every 15 s, that it still runs (best effort).
            let id = UUID().uuidString
            let started = ContinuousClock.now
            let heartbeat = Task {
                while !Task.isCancelled {
                    let running = ExperimentRecord(
                        title: spec.title,
                        status: "running",
                        deviated: false,
                        reason: nil,
                        durationMs: Int((ContinuousClock.now - started).milliseconds),
                        apps: spec.apps,
                        journal: .object([:]),
                        by: user,
                        id: id
                    )
                    _ = try? await client.send(
                        .POST,
                        "/api/v1/chaos/experiments",
                        body: running,
                        as: ExperimentRecord.self
                    )
                    try? await Task.sleep(for: .seconds(15))
                }
            }
            let journal = await runner.run { phase, run in
                guard !quiet else { return }
                ControllerCall.printLine(ChaosRunText.line(phase, run))
            }
            heartbeat.cancel()
            // A report still on its way would come after the end and show the run again.
            await heartbeat.value
            let record = ExperimentRecord(
                title: spec.title,
                status: journal.status.rawValue,
                deviated: journal.deviated,
                reason: journal.reason ?? journal.deviation.map { "deviated: \($0)" },
                durationMs: Int(journal.duration * 1000),
                apps: spec.apps,
                journal: ChaosRunText.json(journal),
                by: user,
                id: id
            )
            do {
                _ = try await driver.retrying {
                    try await client.send(.POST, "/api/v1/chaos/experiments", body: record, as: ExperimentRecord.self)
                }
            } catch {
                FileHandle.standardErrorWrite("warning: the journal could not be recorded by the controller: \(error)")
            }
            return journal
        }
        do {
            try ChaosRunText.encoder.encode(result).write(to: URL(fileURLWithPath: journal))
        } catch {
            FileHandle.standardErrorWrite("warning: cannot write the journal to \(journal): \(error)")
        }
        if json {
            try ControllerCall.printJSON(result)
        } else {
            ControllerCall.printLine(ChaosRunText.summary(result, journalPath: journal))
        }
        if result.exitCode != 0 { throw ExitCode(result.exitCode) }
    }
}

/// Set by the first `SIGINT` or `SIGTERM`; the run then stops its method and runs its rollbacks.
final class InterruptFlag: Sendable {
    private let state = Mutex<Bool>(false)
    /// The signal sources, kept for the life of the process (the command runs once).
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    var isSet: Bool { state.withLock { $0 } }

    func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let first = state.withLock { set in
                    defer { set = true }
                    return !set
                }
                if first { FileHandle.standardErrorWrite("interrupted: running the rollbacks") }
            }
            source.resume()
            Self.sources.append(source)
        }
    }
}

/// Runs an experiment's providers from the command line: HTTP requests and processes here, Slipway's functions
/// through the controller's API (retried while the controller is away, as during its restart).
final class ExperimentDriver: ChaosExperimentDriver, @unchecked Sendable {
    private let client: ControllerClient
    private let user: String
    private let title: String
    /// The faults the experiment added, by app.
    private let added = Mutex<[(app: String, id: String)]>([])
    /// Per app: the steady state measured before the method, and the totals when the method began and ended.
    private let steady = Mutex<[String: SteadyStateProbe]>([:])
    /// How long a call to the controller is retried while it cannot be reached.
    static let patience = Duration.seconds(60)

    init(client: ControllerClient, user: String, title: String) {
        self.client = client
        self.user = user
        self.title = title
    }

    func run(_ provider: ChaosExperimentSpec.Provider) async throws -> JSONValue {
        switch provider {
        case .http(let url, let method, let headers, let body, let timeout):
            return try await http(url: url, method: method, headers: headers, body: body, timeout: timeout)
        case .process(let path, let arguments, let timeout):
            let result = await HookProcess.run(
                argv: [path] + arguments,
                environment: [:],
                workingDirectory: nil,
                baseDirectory: FileManager.default.currentDirectoryPath,
                timeout: timeout,
                outputLimit: 64 * 1024
            )
            switch result.ending {
            case .exited(let status):
                return .object(["status": .int(Int(status)), "stdout": .string(result.output)])
            default:
                throw ExperimentFailure(description: "the process " + result.summary(timeout: timeout))
            }
        case .slipway(let function):
            return try await slipway(function)
        }
    }

    func errorRate(app: String, window: Duration) async throws -> Double {
        let (requests, errors, _) = try await traffic(app: app, window: window)
        return requests > 0 ? errors / requests : 0
    }

    func removeAddedFaults() async throws -> JSONValue {
        try await remove(app: nil)
    }

    private func slipway(_ function: ChaosExperimentSpec.SlipwayFunction) async throws -> JSONValue {
        let reason = "chaos experiment: \(title)"
        switch function {
        case .killInstance(let app, let instance, let signal):
            var body: [String: String] = ["by": user, "reason": reason]
            body["instance"] = instance
            body["signal"] = signal
            return try await call(.POST, ControllerClient.path(app: app, "chaos/kill"), body, ChaosKill.self)
        case .hangInstance(let app, let instance, let duration):
            var body: [String: JSONValue] = [
                "by": .string(user), "reason": .string(reason), "hangMs": .int(Int(duration.milliseconds)),
            ]
            if let instance { body["instance"] = .string(instance) }
            return try await call(.POST, ControllerClient.path(app: app, "chaos/kill"), body, ChaosKill.self)
        case .cutHost(let host, let duration):
            let body: [String: JSONValue] = [
                "by": .string(user), "reason": .string(reason), "durationMs": .int(Int(duration.milliseconds)),
            ]
            let segment = host.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? host
            return try await call(.POST, "/api/v1/hosts/\(segment)/chaos/cut", body, ChaosHostCut.self)
        case .addFault(let app, let fault):
            var fields = fault
            fields["by"] = .string(user)
            fields["reason"] = .string(reason)
            let body = fields
            let added = try await retrying {
                try await self.client.send(
                    .POST,
                    ControllerClient.path(app: app, "faults"),
                    body: body,
                    as: ChaosFault.self
                )
            }
            self.added.withLock { $0.append((app, added.id)) }
            return JSONValue(encoding: added) ?? .null
        case .removeFaults(let app):
            return try await remove(app: app)
        case .restartApp(let app):
            return try await call(.POST, ControllerClient.path(app: app, "restart"), ["by": user], CommandReply.self)
        case .errorRate(let app, let window):
            let (requests, errors, _) = try await traffic(app: app, window: window)
            return .double(requests > 0 ? errors / requests : 0)
        case .latency(let app, let window):
            let (_, _, p99) = try await traffic(app: app, window: window)
            return .double(p99)
        case .steadyState(let app, let window):
            return try await steadyState(app: app, window: window)
        }
    }

    func method(started: Bool) async {
        for app in steady.withLock({ Array($0.keys) }) {
            guard let totals = try? await totals(app) else { continue }
            steady.withLock { probes in
                if started { probes[app]?.methodStart = totals } else { probes[app]?.methodEnd = totals }
            }
        }
    }

    /// Before the method: measures the steady state for `window`. After it (or during it): compares the method's
    /// period with that steady state.
    private func steadyState(app: String, window: Duration) async throws -> JSONValue {
        let probe = steady.withLock { $0[app] }
        guard let probe, let start = probe.methodStart else {
            let first = try await totals(app)
            try await Task.sleep(for: window)
            let second = try await totals(app)
            let baseline = SteadyStateProbe.period(from: first, to: second)
            steady.withLock { $0[app] = SteadyStateProbe(baseline: baseline) }
            return .object([
                "held": true, "phase": "steady state measured", "requests": .int(baseline.requests),
                "errorRate": baseline.errorRate.map(JSONValue.double) ?? .null,
                "p99Ms": baseline.latency.latency(quantile: 0.99).map { .double(Double($0.milliseconds)) } ?? .null,
            ])
        }
        let end: TrafficTotals
        if let ended = probe.methodEnd { end = ended } else { end = try await totals(app) }
        let comparison = SteadyStateComparison(
            before: probe.baseline,
            during: SteadyStateProbe.period(from: start, to: end)
        )
        return .object([
            "held": .bool(comparison.held),
            "findings": .array(comparison.findings.map(JSONValue.string)),
            "before": SteadyStateProbe.describe(comparison.before),
            "during": SteadyStateProbe.describe(comparison.during),
            "errorsEValue": .double(comparison.errors.maxEValue),
            "latencySeparation": .double(comparison.latency.separation),
            "latencyBand": comparison.latency.band.isFinite ? .double(comparison.latency.band) : .null,
            "slowEValue": .double(comparison.slow.maxEValue),
        ])
    }

    private func totals(_ app: String) async throws -> TrafficTotals {
        try await retrying {
            try await self.client.get(ControllerClient.path(app: app, "traffic"), as: TrafficTotals.self)
        }
    }

    private func remove(app: String?) async throws -> JSONValue {
        let mine = added.withLock { list in list.filter { app == nil || $0.app == app } }
        var removed: [JSONValue] = []
        var problems: [String] = []
        for fault in mine {
            do {
                _ = try await retrying {
                    try await self.client.send(
                        .DELETE,
                        ControllerClient.path(app: fault.app, "faults/\(fault.id)"),
                        body: ["by": self.user],
                        as: ChaosFault.self
                    )
                }
                removed.append(.string("\(fault.app)/\(fault.id)"))
            } catch let failure as ControllerFailure where failure.status == ExitStatus.badInput {
                // Gone already (expired, removed, chaos stopped): nothing to undo.
                removed.append(.string("\(fault.app)/\(fault.id)"))
            } catch {
                problems.append("\(fault.app)/\(fault.id): \(error)")
            }
            added.withLock { $0.removeAll { $0 == fault } }
        }
        if !problems.isEmpty { throw ExperimentFailure(description: problems.joined(separator: "; ")) }
        return .object(["removed": .array(removed)])
    }

    /// Requests, 5xx and the highest p99 (ms) of `app` over the last `window`, from the controller's per-second
    /// metrics.
    private func traffic(app: String, window: Duration) async throws -> (Double, Double, Double) {
        let seconds = max(1, Int(window.components.seconds))
        let series = try await retrying {
            try await self.client.get(
                ControllerClient.path(app: app, "metrics") + "?seconds=\(seconds)",
                as: MetricsSeries.self
            )
        }
        var requests = 0.0
        var errors = 0.0
        var p99 = 0.0
        for point in series.points {
            for rates in point.versions.values {
                requests += rates.rps
                errors += rates.rps * rates.errorRate
                p99 = max(p99, rates.p99Ms ?? 0)
            }
        }
        return (requests, errors, p99)
    }

    private func call<Answer: Codable & Sendable>(
        _ method: HTTPMethod,
        _ path: String,
        _ body: some Encodable & Sendable,
        _ answer: Answer.Type
    ) async throws -> JSONValue {
        let reply = try await retrying { try await self.client.send(method, path, body: body, as: answer) }
        return JSONValue(encoding: reply) ?? .null
    }

    /// Runs `body`, again every second while the controller cannot be reached, for at most ``patience``.
    func retrying<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + Self.patience
        while true {
            do {
                return try await body()
            } catch let failure as ControllerFailure where failure.status == ExitStatus.unreachable {
                guard ContinuousClock.now < deadline else { throw failure }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func http(
        url: String,
        method: String,
        headers: [String: String],
        body: String?,
        timeout: Duration
    ) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        do {
            let response = try await client.execute(request, timeout: .milliseconds(timeout.milliseconds))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            try? await client.shutdown()
            var fields: [String: JSONValue] = [:]
            for header in response.headers { fields[header.name.lowercased()] = .string(header.value) }
            return .object([
                "status": .int(Int(response.status.code)), "headers": .object(fields),
                "body": .string(String(buffer: bytes)),
            ])
        } catch {
            try? await client.shutdown()
            throw ExperimentFailure(description: "\(method) \(url): \(ControllerClient.reason(error))")
        }
    }
}

/// A steady-state probe's measurements of one app.
struct SteadyStateProbe: Sendable {
    var baseline: SteadyStateComparison.Period
    var methodStart: TrafficTotals?
    var methodEnd: TrafficTotals?

    init(baseline: SteadyStateComparison.Period) {
        self.baseline = baseline
    }

    /// The traffic between two totals.
    static func period(from first: TrafficTotals, to second: TrafficTotals) -> SteadyStateComparison.Period {
        var earlier: [Int: Int] = [:]
        for pair in first.latency where pair.count == 2 { earlier[pair[0]] = pair[1] }
        let buckets = second.latency.compactMap { pair -> (micros: UInt64, count: Int)? in
            guard pair.count == 2, pair[0] >= 0 else { return nil }
            return (UInt64(pair[0]), max(0, pair[1] - (earlier[pair[0]] ?? 0)))
        }
        return SteadyStateComparison.Period(
            requests: max(0, second.requests - first.requests),
            errors: max(0, second.errors - first.errors),
            latency: LatencyCounts(buckets)
        )
    }

    static func describe(_ period: SteadyStateComparison.Period) -> JSONValue {
        .object([
            "requests": .int(period.requests), "errors": .int(period.errors),
            "errorRate": period.errorRate.map(JSONValue.double) ?? .null,
            "p99Ms": period.latency.latency(quantile: 0.99).map { .double(Double($0.milliseconds)) } ?? .null,
        ])
    }
}

/// An activity that could not run.
struct ExperimentFailure: Error, CustomStringConvertible {
    var description: String
}

extension ChaosExperimentSpec {
    /// The apps the experiment names.
    var apps: [String] {
        var names: [String] = []
        for activity in (hypothesis?.probes ?? []) + method + rollbacks {
            guard case .slipway(let function) = activity.provider else { continue }
            switch function {
            case .killInstance(let app, _, _), .hangInstance(let app, _, _), .addFault(let app, _),
                .restartApp(let app), .errorRate(let app, _), .latency(let app, _), .steadyState(let app, _):
                names.append(app)
            case .removeFaults(let app):
                if let app { names.append(app) }
            case .cutHost:
                // The controller records a cut for every app on the host.
                break
            }
        }
        if let safeguard { names.append(safeguard.app) }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}

/// The run's lines for people, and its journal as JSON.
enum ChaosRunText {
    /// Journals are written with ISO 8601 times.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// The journal as a JSON value, for the controller's event log.
    static func json(_ journal: ChaosJournal) -> JSONValue {
        guard let data = try? encoder.encode(journal) else { return .null }
        return (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
    }

    static func line(_ phase: String, _ run: ChaosJournal.Run) -> String {
        var name = "?"
        if case .object(let object) = run.activity, let text = object["name"]?.stringValue { name = text }
        var line = "  \(phase): \(name): \(run.status)"
        if let met = run.toleranceMet { line += met ? " (within tolerance)" : " (NOT within tolerance)" }
        if let exception = run.exception { line += ": \(exception)" }
        return line
    }

    static func summary(_ journal: ChaosJournal, journalPath: String) -> String {
        var text: String
        switch journal.status {
        case .completed:
            text =
                journal.deviated
                ? "the steady state DEVIATED: \(journal.deviation ?? "a probe failed")"
                : "the steady state held"
        case .failed: text = "failed: \(journal.reason ?? "?")"
        case .aborted: text = "aborted: \(journal.reason ?? "?")"
        case .interrupted: text = "interrupted; the rollbacks ran"
        }
        return "\(text) (\(String(format: "%.1f", journal.duration)) s; journal in \(journalPath))"
    }
}

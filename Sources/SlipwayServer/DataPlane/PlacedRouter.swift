import NIOConcurrencyHelpers
import SlipwayCore
import SlipwayProxy
import SlipwaySupervision

/// Drives each app's listeners where the app runs: on this machine's data plane, or on the data plane of every host
/// the app is placed on.
///
/// Every host of an app gets the same listener and the same routes (every instance of every host, so weights are
/// exact on each host whatever the spread of instances); what is read back (traffic, recent and failed requests) is
/// every host's together. A call to one host is bounded in time (``hostTimeout``), so that a host that stopped
/// answering holds nothing up for long; a change that did not reach every host is an error naming those it missed,
/// and the host's client sets the last routes again once it is back.
final class PlacedRouter: TrafficRouter {
    /// How long one host has to answer one call.
    static let hostTimeout: Duration = .seconds(5)

    /// A host's data plane, as the router drives it.
    struct Member: Sendable {
        var name: String
        var router: any TrafficRouter
        /// The host's state folder, where its data plane writes access logs.
        var stateDirectory: String
    }

    private let local: any TrafficRouter
    private let members: [String: Member]
    /// App name → its hosts, in order; apps not named run on this machine.
    private let placement: [String: [String]]

    init(local: any TrafficRouter, members: [Member], placement: [String: [String]]) {
        self.local = local
        self.members = Dictionary(uniqueKeysWithValues: members.map { ($0.name, $0) })
        self.placement = placement.filter { !$0.value.isEmpty }
    }

    /// The app a listener belongs to: `shop` for `shop` and for its preview listener `shop#preview`.
    private static func app(of listener: String) -> String {
        String(listener.prefix { $0 != "#" })
    }

    /// The data planes that serve `listener`: its app's hosts', or nil when the app runs on this machine.
    private func hosts(of listener: String) -> [Member]? {
        placement[Self.app(of: listener)].map { $0.compactMap { members[$0] } }
    }

    /// Runs `call` on every member at once, each bounded by ``hostTimeout``; results in the order of `members`.
    private func each<T: Sendable>(
        _ members: [Member],
        _ call: @escaping @Sendable (Member) async throws -> T
    ) async -> [(member: String, result: Result<T, any Error>)] {
        await withTaskGroup(of: (Int, Result<T, any Error>).self) { group in
            for (index, member) in members.enumerated() {
                group.addTask {
                    do {
                        return (
                            index,
                            .success(
                                try await Bounded.run(within: Self.hostTimeout) {
                                    try await call(member)
                                }
                            )
                        )
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [(Int, Result<T, any Error>)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map { (members[$0.0].name, $0.1) }
        }
    }

    /// The values of every host; an error naming every host that failed, when one did.
    private func all<T: Sendable>(
        _ listener: String,
        _ doing: String,
        _ members: [Member],
        _ call: @escaping @Sendable (Member) async throws -> T
    ) async throws -> [T] {
        let results = await each(members, call)
        let failed = Self.failures(results)
        guard failed.isEmpty else { throw HostsUnreachable(listener: listener, doing: doing, failures: failed) }
        return results.compactMap { try? $0.result.get() }
    }

    /// Each host that failed, with why: `web-2: no answer within 5.0 seconds`.
    private static func failures<T>(_ results: [(member: String, result: Result<T, any Error>)]) -> [String] {
        results.compactMap { entry -> String? in
            guard case .failure(let error) = entry.result else { return nil }
            return "\(entry.member): \(error)"
        }
    }

    /// The values of the hosts that answered; an error only when none did.
    private func answered<T: Sendable>(
        _ listener: String,
        _ doing: String,
        _ members: [Member],
        _ call: @escaping @Sendable (Member) async throws -> T
    ) async throws -> [T] {
        let results = await each(members, call)
        let values = results.compactMap { try? $0.result.get() }
        if values.isEmpty, !results.isEmpty {
            throw HostsUnreachable(listener: listener, doing: doing, failures: Self.failures(results))
        }
        return values
    }

    func open(_ name: String, _ spec: ListenerSpec) async throws -> Int {
        guard let hosts = hosts(of: name) else { return try await local.open(name, spec) }
        let specs = Dictionary(
            uniqueKeysWithValues: hosts.map { member in
                var onHost = spec
                // The access log is written where the data plane runs, in the host's own folder.
                onHost.settings.accessLog?.path =
                    SupervisionPaths(stateDirectory: member.stateDirectory, app: Self.app(of: name), instance: "")
                    .accessLog
                return (member.name, onHost)
            }
        )
        let results = await each(hosts) { member in try await member.router.open(name, specs[member.name] ?? spec) }
        // A host whose data plane cannot be reached now opens the listener once it is reached (its client keeps
        // the fixed port); any other failure is an error.
        let failed = Self.failures(
            results.filter { entry in
                guard case .failure(let error) = entry.result else { return false }
                return !(error is DataPlaneClient.Unreachable)
            }
        )
        guard failed.isEmpty else {
            throw HostsUnreachable(listener: name, doing: "open the listener", failures: failed)
        }
        return results.compactMap { try? $0.result.get() }.first ?? spec.port
    }

    func close(_ name: String) async throws {
        guard let hosts = hosts(of: name) else { return try await local.close(name) }
        _ = try await all(name, "close the listener", hosts) { try await $0.router.close(name) }
    }

    func setRoutes(_ name: String, _ routes: RouteSpec) async throws {
        guard let hosts = hosts(of: name) else { return try await local.setRoutes(name, routes) }
        _ = try await all(name, "set the routes", hosts) { try await $0.router.setRoutes(name, routes) }
    }

    func setFaults(_ name: String, _ faults: [FaultSpec]) async throws {
        guard let hosts = hosts(of: name) else { return try await local.setFaults(name, faults) }
        _ = try await all(name, "set the faults", hosts) { try await $0.router.setFaults(name, faults) }
    }

    /// Every host's faults, added up by fault: each host counts the requests it affected.
    func faults(_ name: String) async throws -> [FaultStatus] {
        guard let hosts = hosts(of: name) else { return try await local.faults(name) }
        let lists = try await answered(name, "read the faults", hosts) { try await $0.router.faults(name) }
        var merged: [FaultStatus] = []
        for list in lists {
            for status in list {
                if let index = merged.firstIndex(where: { $0.spec == status.spec }) {
                    merged[index].affected += status.affected
                } else {
                    merged.append(status)
                }
            }
        }
        return merged
    }

    /// The routes of the first host that answers (every host is given the same).
    func routes(_ name: String) async throws -> RouteSpec? {
        guard let hosts = hosts(of: name) else { return try await local.routes(name) }
        return try await answered(name, "read the routes", hosts) { try await $0.router.routes(name) }.first ?? nil
    }

    /// Drained on every host at once; an instance is still busy when it is on any host.
    func drain(_ name: String, instances: [String], timeout: Duration) async throws -> [String] {
        guard let hosts = hosts(of: name) else {
            return try await local.drain(name, instances: instances, timeout: timeout)
        }
        let results = await withTaskGroup(of: [String]?.self) { group in
            for member in hosts {
                group.addTask {
                    try? await Bounded.run(within: timeout + Self.hostTimeout) {
                        try await member.router.drain(name, instances: instances, timeout: timeout)
                    }
                }
            }
            var busy: [[String]?] = []
            for await result in group { busy.append(result) }
            return busy
        }
        // A host that did not answer cannot vouch that they are done.
        if results.contains(where: { $0 == nil }) { return instances }
        return Array(Set(results.flatMap { $0 ?? [] })).sorted()
    }

    func sample(_ name: String) async throws -> AppTrafficSample {
        guard let hosts = hosts(of: name) else { return try await local.sample(name) }
        // The hosts that answer: one that cannot be reached leaves its part out until it is back (a window that
        // sees the sum go down is skipped, as after a data plane's restart).
        let samples = try await answered(name, "read the traffic", hosts) { try await $0.router.sample(name) }
        guard let merged = AppTrafficSample.merging(samples) else {
            throw HostsUnreachable(listener: name, doing: "read the traffic", failures: ["the app has no host"])
        }
        return merged
    }

    func recentRequests(_ name: String, limit: Int) async throws -> [String] {
        guard let hosts = hosts(of: name) else { return try await local.recentRequests(name, limit: limit) }
        let lists = try await answered(name, "read the recent requests", hosts) {
            try await $0.router.recentRequests(name, limit: limit)
        }
        // Taken in turn from each host, newest first on each.
        var merged: [String] = []
        var index = 0
        while merged.count < limit, lists.contains(where: { index < $0.count }) {
            for list in lists where index < list.count && merged.count < limit { merged.append(list[index]) }
            index += 1
        }
        return merged
    }

    func failedRequests(_ name: String, after: Int64, limit: Int) async throws -> [FailedRequest] {
        guard let hosts = hosts(of: name) else {
            return try await local.failedRequests(name, after: after, limit: limit)
        }
        let lists = try await answered(name, "read the failed requests", hosts) {
            try await $0.router.failedRequests(name, after: after, limit: limit)
        }
        return Array(lists.flatMap { $0 }.sorted { $0.timeNs < $1.timeNs }.suffix(limit))
    }
}

/// Some hosts of an app did not do what was asked.
struct HostsUnreachable: Error, CustomStringConvertible {
    var listener: String
    var doing: String
    var failures: [String]

    var description: String {
        "cannot \(doing) of \(listener) on every host: " + failures.joined(separator: "; ")
    }
}

/// Work bounded in time.
enum Bounded {
    /// Took longer than allowed.
    struct TimedOut: Error, CustomStringConvertible {
        var limit: Duration
        var description: String { "no answer within \(limit)" }
    }

    /// The result of `work`, or ``TimedOut`` once `limit` has passed (the work goes on, unwaited for, until it ends).
    static func run<T: Sendable>(
        within limit: Duration,
        _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let once = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
        return try await withCheckedThrowingContinuation { continuation in
            once.withLockedValue { $0 = continuation }
            let finish = { @Sendable (result: Result<T, any Error>) in
                once.withLockedValue { pending in
                    defer { pending = nil }
                    return pending
                }?.resume(with: result)
            }
            let timer = Task {
                try? await Task.sleep(for: limit)
                if !Task.isCancelled { finish(.failure(TimedOut(limit: limit))) }
            }
            Task {
                do { finish(.success(try await work())) } catch { finish(.failure(error)) }
                timer.cancel()
            }
        }
    }
}

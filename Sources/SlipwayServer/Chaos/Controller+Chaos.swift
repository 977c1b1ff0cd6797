import Foundation
import SlipwayCore
import SlipwayProxy

extension Controller: ChaosControl {
    private func desk() throws(CommandRefusal) -> ChaosFaults {
        guard let desk = chaosDesk.withLockedValue({ $0 }) else {
            throw CommandRefusal(.conflict, "the controller is still starting; try again in a moment")
        }
        return desk
    }

    public func addFault(app: String, _ request: FaultRequest) async throws(CommandRefusal) -> ChaosFault {
        try await desk().addFault(app: app, request)
    }

    public func removeFault(app: String, id: String, by user: String) async throws(CommandRefusal) -> ChaosFault {
        try await desk().removeFault(app: app, id: id, by: user)
    }

    public func stopChaos(by user: String, reason: String?) async throws(CommandRefusal) -> ChaosStatus {
        var status = try await desk().stopChaos(by: user, reason: reason)
        if let cuts = hostCuts.withLockedValue({ $0 }) {
            _ = await cuts.endAll(because: "chaos was stopped by \(user)")
            status.cuts = await cuts.views()
        }
        return status
    }

    public func releaseChaos(by user: String) async throws(CommandRefusal) -> ChaosStatus {
        try await desk().releaseChaos(by: user)
    }

    public func chaosStatus() async throws(CommandRefusal) -> ChaosStatus {
        var status = try await desk().chaosStatus()
        if let monkey = chaosMonkey.withLockedValue({ $0 }) { status.monkeys = await monkey.views() }
        let kills = (try? log.events(kinds: [.chaosKill])) ?? []
        status.kills = kills.suffix(10).compactMap(ChaosKill.init)
        status.cuts = await hostCuts.withLockedValue({ $0 })?.views() ?? []
        return status
    }

    public func cutHost(_ host: String, _ request: CutRequest) async throws(CommandRefusal) -> ChaosHostCut {
        guard let cuts = hostCuts.withLockedValue({ $0 }) else {
            throw CommandRefusal(.conflict, "the controller is still starting; try again in a moment")
        }
        return try await cuts.cut(host: host, request)
    }

    public func killInstance(app: String, _ request: KillRequest) async throws(CommandRefusal) -> ChaosKill {
        guard let kills = chaosKills.withLockedValue({ $0 }) else {
            throw CommandRefusal(.conflict, "the controller is still starting; try again in a moment")
        }
        return try await kills.kill(app: app, request)
    }

    public func recordExperiment(_ record: ExperimentRecord) async throws(CommandRefusal) -> ExperimentRecord {
        let known = config.apps.map(\.name)
        let named = record.apps.filter(known.contains)
        if record.status == "running" {
            var record = record
            let id = record.id ?? UUID().uuidString
            record.id = id
            try await desk().experimentRunning(
                id: id,
                title: record.title,
                by: record.by,
                apps: named.isEmpty ? known : named
            )
            return record
        }
        var fields: [String: JSONValue] = [
            "title": .string(record.title), "status": .string(record.status), "deviated": .bool(record.deviated),
            "durationMs": .int(record.durationMs), "by": .string(record.by), "journal": record.journal,
        ]
        if let reason = record.reason { fields["reason"] = .string(reason) }
        if let id = record.id { fields["id"] = .string(id) }
        let desk = try desk()
        for app in named.isEmpty ? known : named {
            try await desk.recordEvent(Event(app: app, kind: .chaosExperimentRan, fields: fields))
        }
        return record
    }

    public func traffic(app: String) async throws(CommandRefusal) -> TrafficTotals {
        let sample: AppTrafficSample
        do {
            sample = try await self.sample(app: app)
        } catch {
            throw CommandRefusal(.notFound, "no traffic of an app named \"\(app)\": \(error)")
        }
        var requests = 0
        var errors = 0
        var buckets: [UInt64: Int] = [:]
        for snapshot in sample.versions.values {
            let window = snapshot.window(since: .empty)
            requests += window.requests
            errors += window.errors
            for bucket in window.latencyBuckets { buckets[bucket.micros, default: 0] += bucket.count }
        }
        return TrafficTotals(
            requests: requests,
            errors: errors,
            latency: buckets.keys.sorted().map { [Int($0), buckets[$0]!] }
        )
    }
}

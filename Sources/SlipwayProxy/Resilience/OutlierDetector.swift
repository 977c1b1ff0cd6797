/// Decides which instances leave their version's rotation, for how long, and when they may come back: events in,
/// actions out, the clock passed in. It holds no socket and no timer; ``OutlierGuard`` feeds it and carries out what
/// it decides.
///
/// - An instance that failed ``OutlierSettings/consecutiveFailures`` requests in a row, or whose success rate over an
///   interval fell ``OutlierSettings/successRateDropPercent`` points below its siblings' together, is ejected.
/// - At most ``OutlierSettings/maxEjectedPercent`` of a version's instances are out at once, and never its last one
///   in rotation — unless every instance of the version is failing: then all are out, the version's circuit is open
///   and its requests are answered 503 at once.
/// - An ejection lasts the base time times the instance's ejection count (capped); a healthy interval in rotation
///   lowers the count by one. When it ends the instance is probed: a pass brings it back, a failure ejects it again.
struct OutlierDetector<Key: Hashable & Sendable>: Sendable {
    /// Why an instance was ejected.
    enum Reason: Equatable, Sendable, CustomStringConvertible {
        case consecutiveFailures(Int)
        case successRate(instance: Double, siblings: Double)
        case failedProbe

        var description: String {
            switch self {
            case .consecutiveFailures(let count):
                return "\(count) failed requests in a row"
            case .successRate(let instance, let siblings):
                return "success rate \(Self.percent(instance)) against \(Self.percent(siblings)) on its siblings"
            case .failedProbe:
                return "its probe failed"
            }
        }

        private static func percent(_ value: Double) -> String {
            let tenths = (value * 1000).rounded() / 10
            return tenths == tenths.rounded() ? "\(Int(tenths))%" : "\(tenths)%"
        }
    }

    /// What the guard must do.
    enum Action: Equatable, Sendable {
        /// Take the instance out of rotation for this long.
        case eject(Key, nanoseconds: UInt64, reason: Reason)
        /// Ask the instance whether it can come back; answer with ``probed(_:passed:now:)``.
        case probe(Key)
        /// Put the instance back in rotation.
        case readmit(Key)
    }

    /// What the detector knows of one instance.
    struct Member: Equatable, Sendable {
        var version: String
        /// Until when it is out; nil while in rotation.
        var ejectedUntil: UInt64?
        /// Ejections not yet forgiven by healthy intervals: the next ejection lasts one base time longer.
        var ejections = 0
        /// A probe was asked for and has not answered.
        var probing = false

        var isEjected: Bool { ejectedUntil != nil }
    }

    /// Requests an instance answered during an interval, and how many of them failed.
    struct Counts: Equatable, Sendable {
        var requests: Int
        var failures: Int
    }

    let settings: OutlierSettings
    private(set) var members: [Key: Member] = [:]

    init(settings: OutlierSettings) {
        self.settings = settings
    }

    /// Whether `key` is out of rotation.
    func isEjected(_ key: Key) -> Bool { members[key]?.isEjected ?? false }

    /// Whether every instance of `version` is out: its circuit is open.
    func isOpen(_ version: String) -> Bool {
        let siblings = members.values.filter { $0.version == version }
        return !siblings.isEmpty && siblings.allSatisfy(\.isEjected)
    }

    /// The instances routed now: new ones join in rotation, the ones no longer routed are forgotten.
    mutating func route(_ instances: [(key: Key, version: String)]) {
        var next: [Key: Member] = [:]
        for (key, version) in instances {
            if let known = members[key], known.version == version {
                next[key] = known
            } else {
                next[key] = Member(version: version)
            }
        }
        members = next
    }

    /// `key` has just failed ``OutlierSettings/consecutiveFailures`` requests in a row; `failing` are those of its
    /// siblings that have too, since their last success.
    mutating func failedInARow(_ key: Key, failing: Set<Key>, now: UInt64) -> [Action] {
        guard settings.consecutiveFailures > 0, let member = members[key], !member.isEjected else { return [] }
        let reason = Reason.consecutiveFailures(settings.consecutiveFailures)
        if mayEject(from: member.version) { return [eject(key, reason: reason, now: now)] }
        // Out of room: only a version whose every instance in rotation fails has them all out.
        let inRotation = members.filter { $0.value.version == member.version && !$0.value.isEjected }.map(\.key)
        guard inRotation.allSatisfy({ $0 == key || failing.contains($0) }) else { return [] }
        return inRotation.map { eject($0, reason: reason, now: now) }
    }

    /// An interval ended with `counts` per instance: success rates are compared within each version, healthy
    /// instances are forgiven an ejection, and ejections that ran out ask for probes.
    mutating func intervalEnded(counts: [Key: Counts], now: UInt64) -> [Action] {
        var actions: [Action] = []
        if settings.successRateMinimumRequests > 0 {
            for version in Set(members.values.map(\.version)).sorted() {
                actions += compareSuccessRates(in: version, counts: counts, now: now)
            }
        }
        for (key, member) in members {
            if let until = member.ejectedUntil {
                if until <= now, !member.probing {
                    members[key]?.probing = true
                    actions.append(.probe(key))
                }
            } else if member.ejections > 0, (counts[key]?.failures ?? 0) == 0 {
                members[key]?.ejections -= 1
            }
        }
        return actions
    }

    /// The probe asked for `key` answered: back in rotation when it `passed`, out again (longer) when not.
    mutating func probed(_ key: Key, passed: Bool, now: UInt64) -> [Action] {
        guard let member = members[key], member.isEjected, member.probing else { return [] }
        members[key]?.probing = false
        guard passed else { return [eject(key, reason: .failedProbe, now: now)] }
        members[key]?.ejectedUntil = nil
        return [.readmit(key)]
    }

    // MARK: Rules

    private mutating func compareSuccessRates(in version: String, counts: [Key: Counts], now: UInt64) -> [Action] {
        let minimum = settings.successRateMinimumRequests
        let measured = members.compactMap { key, member -> (key: Key, counts: Counts)? in
            guard member.version == version, !member.isEjected, let counts = counts[key], counts.requests >= minimum
            else { return nil }
            return (key, counts)
        }
        guard measured.count >= 2 else { return [] }
        let drop = Double(settings.successRateDropPercent) / 100
        // Worst first, so that the room for ejections goes to the clearest outliers.
        let ranked = measured.sorted { Self.rate($0.counts) < Self.rate($1.counts) }
        var actions: [Action] = []
        for (key, own) in ranked {
            let others = measured.filter { $0.key != key && !(members[$0.key]?.isEjected ?? true) }
            let requests = others.reduce(0) { $0 + $1.counts.requests }
            let failures = others.reduce(0) { $0 + $1.counts.failures }
            guard requests > 0 else { continue }
            let siblings = Double(requests - failures) / Double(requests)
            let rate = Self.rate(own)
            guard rate < siblings - drop, mayEject(from: version) else { continue }
            actions.append(eject(key, reason: .successRate(instance: rate, siblings: siblings), now: now))
        }
        return actions
    }

    private static func rate(_ counts: Counts) -> Double {
        Double(counts.requests - counts.failures) / Double(max(counts.requests, 1))
    }

    /// Whether one more of `version`'s instances may go out: within the share, and not its last one in rotation.
    private func mayEject(from version: String) -> Bool {
        let siblings = members.values.filter { $0.version == version }
        let out = siblings.filter(\.isEjected).count
        let room = max(1, siblings.count * settings.maxEjectedPercent / 100)
        return out + 1 <= room && siblings.count - out >= 2
    }

    private mutating func eject(_ key: Key, reason: Reason, now: UInt64) -> Action {
        var member = members[key]!
        member.ejections += 1
        let base = UInt64(settings.baseEjectionMs) * 1_000_000
        let length = min(base * UInt64(member.ejections), UInt64(settings.maxEjectionMs) * 1_000_000)
        member.ejectedUntil = now + length
        member.probing = false
        members[key] = member
        return .eject(key, nanoseconds: length, reason: reason)
    }
}

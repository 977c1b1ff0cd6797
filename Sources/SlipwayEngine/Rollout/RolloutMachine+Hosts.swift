import SlipwayCore

/// Hosts that cannot be reached during a rollout.
///
/// A host the controller cannot reach holds the rollout where it is: no step finishes, nothing is started in place of
/// the host's instances, and those instances are out of the routes of every data plane (nobody can vouch for them).
/// When the host is back, its instances are probed again and the rollout goes on. A host still unreachable
/// `progressDeadline` after it was lost sends the rollout back on the hosts that can be reached: the stable release
/// is made whole there, and the instances of the lost host are asked to stop; their stops (and exits) come when the
/// host is back, and the rollout ends without waiting for them.
extension RolloutMachine {
    /// A host that cannot be reached.
    struct UnreachableHost: Sendable, Equatable {
        /// Since when.
        var since: Moment
        /// The instances it runs (of this rollout's or not).
        var instances: Set<InstanceID>
    }

    /// The instances on hosts that cannot be reached.
    var cutOff: Set<InstanceID> {
        unreachableHosts.values.reduce(into: Set<InstanceID>()) { $0.formUnion($1.instances) }
    }

    /// Whether the instances of unreachable hosts are left out of the counts: while the rollout goes back, which it
    /// does on the hosts that can be reached.
    var goingBackWithoutCutOff: Bool { rollback != nil }

    /// When each unreachable host's wait ends.
    var hostDeadlines: [Moment] {
        unreachableHosts.values.map { $0.since + plan.strategy.progressDeadline }
    }

    /// Why the rollout holds, for status views.
    func hostsWaitingFor(at now: Moment) -> String {
        unreachableHosts.sorted { $0.key < $1.key }.map { host, lost in
            let left = lost.since + plan.strategy.progressDeadline - now
            return "host \(host) cannot be reached (\(lost.instances.count) instances out of the routes); "
                + "going back in \(DurationText.format(max(.zero, left))) unless it is back"
        }.joined(separator: "; ")
    }

    /// `host` cannot be reached: its instances leave the routes and the rollout holds.
    mutating func hostLost(_ host: String, instances: Set<InstanceID>, at now: Moment, into actions: inout [Action]) {
        guard outcome == nil else { return }
        var lost = unreachableHosts[host] ?? UnreachableHost(since: now, instances: [])
        lost.instances.formUnion(instances)
        unreachableHosts[host] = lost
        for id in instances {
            guard var member = members[id], member.phase == .ready || member.phase == .warming else { continue }
            member.phase = .unhealthy
            members[id] = member
        }
        guard rollback == nil else { return }
        actions.append(
            record(
                .rolloutHeld,
                [
                    "host": .string(host),
                    "instances": .array(instances.sorted().map { .string($0.rawValue) }),
                    "goingBackAfterMs": .int(Int(plan.strategy.progressDeadline.milliseconds)),
                ]
            )
        )
    }

    /// `host` can be reached again: its instances come back once their probes pass, and the rollout goes on.
    mutating func hostBack(_ host: String, at now: Moment, into actions: inout [Action]) {
        guard let lost = unreachableHosts.removeValue(forKey: host), outcome == nil, rollback == nil else { return }
        actions.append(
            record(
                .rolloutHoldLifted,
                ["host": .string(host), "heldForMs": .int(Int((now - lost.since).milliseconds))]
            )
        )
    }

    /// Sends the rollout back when a host has been unreachable for `progressDeadline`; true when it did.
    mutating func checkHostDeadlines(at now: Moment, into actions: inout [Action]) -> Bool {
        let expired = unreachableHosts.filter { now >= $0.value.since + plan.strategy.progressDeadline }
        guard let (host, lost) = expired.min(by: { $0.key < $1.key }) else { return false }
        startRollback(
            .rolledBack,
            reason: "host \(host) could not be reached for "
                + "\(DurationText.format(plan.strategy.progressDeadline)) (progressDeadline)",
            evidence: [
                "host": .string(host),
                "instances": .array(lost.instances.sorted().map { .string($0.rawValue) }),
                "unreachableForMs": .int(Int((now - lost.since).milliseconds)),
            ],
            at: now,
            into: &actions
        )
        return true
    }
}

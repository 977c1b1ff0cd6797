extension AppTrafficSample {
    /// The traffic of one app served by several data planes (one per host), as one sample: counts, histograms and
    /// tallies added up per version and per instance, what outlier detection holds on any of them, and their
    /// waiting rooms together. Nil when `parts` is empty.
    ///
    /// The sum is cumulative as long as every part is: a data plane that starts again from zero makes the sum go
    /// back, which ``TrafficSnapshot/window(since:)`` treats as it treats a single data plane's restart.
    public static func merging(_ parts: [AppTrafficSample]) -> AppTrafficSample? {
        guard var merged = parts.first else { return nil }
        for part in parts.dropFirst() {
            merged.takenAt = max(merged.takenAt, part.takenAt)
            merged.versions.merge(part.versions) { $0.adding($1) }
            merged.instances.merge(part.instances) { mine, theirs in
                InstanceTraffic(version: mine.version, traffic: mine.traffic.adding(theirs.traffic))
            }
            merged.unrouted = merged.unrouted.adding(part.unrouted)
            merged.outliers = merged.outliers.merging(part.outliers)
            merged.waitingRoom = WaitingRoomState.merging(merged.waitingRoom, part.waitingRoom)
            merged.mirror.shadows.merge(part.mirror.shadows) { $0.adding($1) }
            merged.mirror.originals.merge(part.mirror.originals) { $0.adding($1) }
            merged.mirror.dropped += part.mirror.dropped
        }
        return merged
    }
}

extension TrafficSnapshot {
    /// This snapshot and `other`, of another part of the same subject, added up.
    public func adding(_ other: TrafficSnapshot) -> TrafficSnapshot {
        var sum = self
        sum.add(other)
        return sum
    }
}

extension OutlierState {
    /// What either data plane holds: an instance or a circuit out on one of them is out; events in time order, the
    /// newest ``OutlierGuard/eventCapacity`` kept.
    func merging(_ other: OutlierState) -> OutlierState {
        OutlierState(
            ejected: Array(Set(ejected).union(other.ejected)).sorted(),
            ejections: ejections.merging(other.ejections, uniquingKeysWith: +),
            openCircuits: Array(Set(openCircuits).union(other.openCircuits)).sorted(),
            events: Array((events + other.events).sorted { $0.timeNs < $1.timeNs }.suffix(OutlierGuard.eventCapacity))
        )
    }
}

extension WaitingRoomState {
    /// Two data planes' waiting rooms as one: lines, slots, limits and counts added up, the longest wait kept.
    static func merging(_ first: WaitingRoomState?, _ second: WaitingRoomState?) -> WaitingRoomState? {
        guard let first else { return second }
        guard let second else { return first }
        return WaitingRoomState(
            waiting: first.waiting + second.waiting,
            inFlight: first.inFlight + second.inFlight,
            limit: first.limit + second.limit,
            admittedAfterWaiting: first.admittedAfterWaiting + second.admittedAfterWaiting,
            refusedFull: first.refusedFull + second.refusedFull,
            timedOut: first.timedOut + second.timedOut,
            left: first.left + second.left,
            waitedSeconds: first.waitedSeconds + second.waitedSeconds,
            longestWaitSeconds: max(first.longestWaitSeconds, second.longestWaitSeconds)
        )
    }
}

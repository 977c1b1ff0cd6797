import Histogram
import SlipwayCore

/// Samples cross the data plane's control channel as JSON. A latency histogram goes as its non-empty buckets and its
/// exact extremes, a few hundred numbers at most instead of the tens of thousands of its full layout.
extension TrafficSnapshot: Codable {
    private enum CodingKeys: String, CodingKey {
        case requests, inFlight, responses, proxyGenerated, latency, latencyMin, latencyMax, outcomes, units
        case retries, retriesRefused, injected
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        let pairs = try values.decode([[UInt64]].self, forKey: .latency)
        let buckets = pairs.compactMap { pair in pair.count == 2 ? (value: pair[0], count: pair[1]) : nil }
        self.init(
            requests: try values.decode(Int.self, forKey: .requests),
            inFlight: try values.decode(Int.self, forKey: .inFlight),
            responses: try values.decode([Int].self, forKey: .responses),
            proxyGenerated: try values.decode([Int: Int].self, forKey: .proxyGenerated),
            latency: LatencyHistogram.rebuild(
                buckets,
                lowest: try values.decode(UInt64.self, forKey: .latencyMin),
                highest: try values.decode(UInt64.self, forKey: .latencyMax)
            ),
            // A data plane from before outcomes were counted sends none.
            outcomes: try values.decodeIfPresent([String: OutcomeTally].self, forKey: .outcomes) ?? [:],
            // Nor comparison units.
            units: try values.decodeIfPresent(ComparisonUnits.self, forKey: .units)
        )
        // Nor retries.
        retries = try values.decodeIfPresent(Int.self, forKey: .retries) ?? 0
        retriesRefused = try values.decodeIfPresent(Int.self, forKey: .retriesRefused) ?? 0
        // Nor injected faults.
        injected = try values.decodeIfPresent(InjectedFaults.self, forKey: .injected) ?? InjectedFaults()
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(requests, forKey: .requests)
        try values.encode(inFlight, forKey: .inFlight)
        try values.encode(responses, forKey: .responses)
        try values.encode(proxyGenerated, forKey: .proxyGenerated)
        try values.encode(latency.recordedValues().map { [$0.value, $0.count] }, forKey: .latency)
        try values.encode(latency.min, forKey: .latencyMin)
        try values.encode(latency.maxRecorded, forKey: .latencyMax)
        if !outcomes.isEmpty { try values.encode(outcomes, forKey: .outcomes) }
        try values.encodeIfPresent(units, forKey: .units)
        if retries > 0 { try values.encode(retries, forKey: .retries) }
        if retriesRefused > 0 { try values.encode(retriesRefused, forKey: .retriesRefused) }
        if injected.total > 0 { try values.encode(injected, forKey: .injected) }
    }
}

extension AppTrafficSample.InstanceTraffic: Codable {
    private enum CodingKeys: String, CodingKey {
        case version, traffic
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            version: try values.decode(String.self, forKey: .version),
            traffic: try values.decode(TrafficSnapshot.self, forKey: .traffic)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(version, forKey: .version)
        try values.encode(traffic, forKey: .traffic)
    }
}

/// `takenAt` is an instant of this process's clock, so it does not cross: a decoded sample is taken when it arrives.
extension AppTrafficSample: Codable {
    private enum CodingKeys: String, CodingKey {
        case app, versions, instances, unrouted, outliers, waitingRoom, mirror
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            app: try values.decode(String.self, forKey: .app),
            takenAt: .now,
            versions: try values.decode([String: TrafficSnapshot].self, forKey: .versions),
            instances: try values.decode([String: InstanceTraffic].self, forKey: .instances),
            unrouted: try values.decode(TrafficSnapshot.self, forKey: .unrouted),
            // A data plane from before outlier detection sends none.
            outliers: try values.decodeIfPresent(OutlierState.self, forKey: .outliers) ?? OutlierState(),
            waitingRoom: try values.decodeIfPresent(WaitingRoomState.self, forKey: .waitingRoom),
            // Nor mirrors.
            mirror: try values.decodeIfPresent(MirrorTraffic.self, forKey: .mirror) ?? MirrorTraffic()
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(app, forKey: .app)
        try values.encode(versions, forKey: .versions)
        try values.encode(instances, forKey: .instances)
        try values.encode(unrouted, forKey: .unrouted)
        if outliers != OutlierState() { try values.encode(outliers, forKey: .outliers) }
        try values.encodeIfPresent(waitingRoom, forKey: .waitingRoom)
        if !mirror.isEmpty { try values.encode(mirror, forKey: .mirror) }
    }
}

extension MirrorTraffic: Codable {
    private enum CodingKeys: String, CodingKey {
        case shadows, originals, dropped
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            shadows: try values.decode([String: TrafficSnapshot].self, forKey: .shadows),
            originals: try values.decode([String: TrafficSnapshot].self, forKey: .originals),
            dropped: try values.decodeIfPresent(Int.self, forKey: .dropped) ?? 0
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(shadows, forKey: .shadows)
        try values.encode(originals, forKey: .originals)
        if dropped > 0 { try values.encode(dropped, forKey: .dropped) }
    }
}

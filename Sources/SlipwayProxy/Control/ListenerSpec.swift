import NIOCore

/// Where a listener binds and the limits its connections obey.
public struct ListenerSpec: Sendable, Equatable, Codable {
    /// The IP literal or host name to bind.
    public var host: String
    /// The port; 0 binds any free one (the port actually bound is kept once known).
    public var port: Int
    /// Limits and timeouts.
    public var settings: ProxySettings

    /// Creates a listener spec.
    public init(host: String, port: Int, settings: ProxySettings) {
        self.host = host
        self.port = port
        self.settings = settings
    }

    /// Whether a listener bound for `self` also serves `other`: same address (any port asked for is served by
    /// the port already bound) and the same settings.
    func isServed(by bound: ListenerSpec) -> Bool {
        host == bound.host && (port == 0 || port == bound.port) && settings == bound.settings
    }
}

extension ProxySettings: Codable {
    private enum CodingKeys: String, CodingKey {
        case maxConnections, maxHeaderBytes, maxRequestLineBytes, idleTimeoutMs, headerTimeoutMs, connectTimeoutMs
        case responseTimeoutMs, upstreamConnections, idleUpstreamConnections, replayBufferSize, accessLog
        case outliers, retries, waitingRoom
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        func milliseconds(_ key: CodingKeys) throws -> TimeAmount {
            .milliseconds(try values.decode(Int64.self, forKey: key))
        }
        self.init(
            maxConnections: try values.decode(Int.self, forKey: .maxConnections),
            maxHeaderBytes: try values.decode(Int.self, forKey: .maxHeaderBytes),
            maxRequestLineBytes: try values.decode(Int.self, forKey: .maxRequestLineBytes),
            idleTimeout: try milliseconds(.idleTimeoutMs),
            headerTimeout: try milliseconds(.headerTimeoutMs),
            connectTimeout: try milliseconds(.connectTimeoutMs),
            responseTimeout: try milliseconds(.responseTimeoutMs),
            upstreamConnections: try values.decode(Int.self, forKey: .upstreamConnections),
            idleUpstreamConnections: try values.decode(Int.self, forKey: .idleUpstreamConnections),
            replayBufferSize: try values.decode(Int.self, forKey: .replayBufferSize),
            accessLog: try values.decodeIfPresent(AccessLogSettings.self, forKey: .accessLog),
            outliers: try values.decodeIfPresent(OutlierSettings.self, forKey: .outliers),
            retries: try values.decodeIfPresent(RetrySettings.self, forKey: .retries) ?? RetrySettings(),
            waitingRoom: try values.decodeIfPresent(WaitingRoomSettings.self, forKey: .waitingRoom)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(maxConnections, forKey: .maxConnections)
        try values.encode(maxHeaderBytes, forKey: .maxHeaderBytes)
        try values.encode(maxRequestLineBytes, forKey: .maxRequestLineBytes)
        try values.encode(idleTimeout.nanoseconds / 1_000_000, forKey: .idleTimeoutMs)
        try values.encode(headerTimeout.nanoseconds / 1_000_000, forKey: .headerTimeoutMs)
        try values.encode(connectTimeout.nanoseconds / 1_000_000, forKey: .connectTimeoutMs)
        try values.encode(responseTimeout.nanoseconds / 1_000_000, forKey: .responseTimeoutMs)
        try values.encode(upstreamConnections, forKey: .upstreamConnections)
        try values.encode(idleUpstreamConnections, forKey: .idleUpstreamConnections)
        try values.encode(replayBufferSize, forKey: .replayBufferSize)
        try values.encodeIfPresent(accessLog, forKey: .accessLog)
        try values.encodeIfPresent(outliers, forKey: .outliers)
        try values.encode(retries, forKey: .retries)
        try values.encodeIfPresent(waitingRoom, forKey: .waitingRoom)
    }
}

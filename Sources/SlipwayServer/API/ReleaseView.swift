import Foundation
import SlipwayCore
import SlipwayStore

/// A release of an app as `GET /api/v1/apps/{app}/releases` shows it.
public struct ReleaseView: Sendable, Equatable, Codable {
    public var version: String
    /// When the controller first ran it (as the stable release, or as a rollout's candidate).
    public var firstDeployedAt: Date
    /// How the last rollout to it ended (`promoted`, `rolledBack`, `aborted`, `superseded`; `running` while it
    /// runs); null for a release that only ever ran as the configured stable one.
    public var lastOutcome: String?
    /// Whether it is the stable release now.
    public var stable: Bool

    /// Every release in `events` (one app's, in log order), newest first; `stable` is the release running now.
    public static func fold(app: String, events: [RecordedEvent], stable: String?) -> [ReleaseView] {
        var releases: [String: ReleaseView] = [:]
        var order: [String] = []
        func introduce(_ version: String, at time: Date) {
            guard releases[version] == nil else { return }
            releases[version] = ReleaseView(version: version, firstDeployedAt: time, lastOutcome: nil, stable: false)
            order.append(version)
        }
        for recorded in events where recorded.app == app {
            let fields = recorded.fields
            switch recorded.kind {
            case .controllerStarted:
                if let version = fields["version"]?.stringValue { introduce(version, at: recorded.time) }
            case .rolloutStarted:
                if let version = fields["to"]?.stringValue { introduce(version, at: recorded.time) }
            default:
                continue
            }
        }
        for record in RolloutRecord.fold(events.filter { $0.app == app }) {
            releases[record.to]?.lastOutcome = record.outcome ?? "running"
        }
        if let stable { releases[stable]?.stable = true }
        return order.reversed().compactMap { releases[$0] }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(firstDeployedAt, forKey: .firstDeployedAt)
        try container.encode(lastOutcome, forKey: .lastOutcome)
        try container.encode(stable, forKey: .stable)
    }
}

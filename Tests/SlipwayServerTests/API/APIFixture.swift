import Foundation
import Hummingbird
import HummingbirdTesting
import SlipwayCore
import SlipwayServer
import SlipwayStore
import SlipwayTestSupport

/// What the read endpoints see: configured apps, a real event log in a temporary directory, scripted rollouts.
final class FixedReading: ControllerReading {
    let apps: [ConfiguredApp]
    let log: EventLog
    let rollouts: [String: RolloutSummary]

    init(apps: [ConfiguredApp] = [FixedReading.shop], rollouts: [String: RolloutSummary] = [:]) throws {
        self.apps = apps
        self.log = try EventLog(directory: try makeTemporaryDirectory("slipway-api"))
        self.rollouts = rollouts
    }

    static let shop = ConfiguredApp(name: "shop", listen: "127.0.0.1:8080", instances: 2, version: "1.0.0")

    func configuredApps() -> [ConfiguredApp] { apps }

    func rollout(app: String) async throws(CommandRefusal) -> RolloutSummary? { rollouts[app] }

    /// Appends `events`, one at a time, one second apart from 2025-01-01 00:00 UTC on.
    @discardableResult
    func append(_ events: [Event], startingAt offset: Int = 0) throws -> [RecordedEvent] {
        var recorded: [RecordedEvent] = []
        for (index, event) in events.enumerated() {
            let time = Date(timeIntervalSince1970: 1_735_689_600 + Double(offset + index))
            recorded += try log.append([event], at: time)
        }
        return recorded
    }

    /// A history of `shop`: it starts on 1.0.0, 2.0.0 is rolled back, 2.1.0 is promoted.
    @discardableResult
    func appendShopHistory() throws -> [RecordedEvent] {
        let instance = InstanceID(app: "shop", number: 1)
        return try append([
            Event(app: "shop", kind: .controllerStarted, fields: ["version": "1.0.0", "instances": 2]),
            Event(
                app: "shop",
                kind: .instanceStarted,
                instance: instance,
                fields: ["version": "1.0.0", "pid": 4242, "port": 9001]
            ),
            Event(app: "shop", kind: .instanceHealthy, instance: instance),
            Event(
                app: "shop",
                kind: .rolloutStarted,
                fields: [
                    "rollout": 1, "from": "1.0.0", "to": "2.0.0", "strategy": "canary", "by": "ada",
                    "reason": "new checkout", "plan": .array(["weight 25%", "analysis"]),
                ]
            ),
            Event(
                app: "shop",
                kind: .trafficShifted,
                fields: ["rollout": 1, "weights": .object(["1.0.0": 75, "2.0.0": 25])]
            ),
            Event(
                app: "shop",
                kind: .rolloutRollingBack,
                fields: ["rollout": 1, "reason": "successRate 0.91 < 0.99 over 412 requests"]
            ),
            Event(app: "shop", kind: .trafficShifted, fields: ["rollout": 1, "weights": .object(["1.0.0": 100])]),
            Event(
                app: "shop",
                kind: .rolloutFinished,
                fields: ["rollout": 1, "outcome": "rolledBack", "stable": "1.0.0"]
            ),
            Event(
                app: "shop",
                kind: .rolloutStarted,
                fields: ["rollout": 2, "from": "1.0.0", "to": "2.1.0", "strategy": "canary", "by": "bob"]
            ),
            Event(app: "shop", kind: .rolloutPromoted, fields: ["rollout": 2, "from": "1.0.0", "to": "2.1.0"]),
            Event(app: "shop", kind: .trafficShifted, fields: ["rollout": 2, "weights": .object(["2.1.0": 100])]),
            Event(
                app: "shop",
                kind: .rolloutFinished,
                fields: ["rollout": 2, "outcome": "promoted", "stable": "2.1.0"]
            ),
        ])
    }
}

extension Event {
    /// A filler event of `app`.
    static func note(_ app: String, _ number: Int) -> Event {
        Event(app: app, kind: .commandRefused, fields: ["command": "pause", "reason": .string("note \(number)")])
    }
}

/// The read routes and the event stream mounted at `/api/v1`, as the controller mounts them.
func apiApplication(
    _ reading: FixedReading,
    metrics: MetricsHistory = MetricsHistory(sample: { [] }),
    broadcaster: EventBroadcaster = EventBroadcaster(),
    keepAlive: Duration = .seconds(15)
) -> some ApplicationProtocol {
    let router = Router(context: APIRequestContext.self)
    let api = router.group("api/v1")
    ReadRoutes(reading: reading, metrics: metrics).add(to: api)
    EventStreamRoutes(reading: reading, broadcaster: broadcaster, keepAliveInterval: keepAlive).add(to: api)
    ReportRoutes(reading: reading).add(page: router.group(), json: api)
    return Application(router: router)
}

/// Decodes the API's JSON (ISO 8601 times with fractional seconds).
func decodeAPI<Value: Decodable>(_ type: Value.Type, _ response: TestResponse) throws -> Value {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .custom { decoder in
        let text = try decoder.singleValueContainer().decode(String.self)
        return try Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
    return try decoder.decode(type, from: Data(response.body.readableBytesView))
}

/// The JSON of a response as plain values.
func jsonObject(_ response: TestResponse) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
}

/// The error code and message of an API error response.
func apiError(_ response: TestResponse) throws -> APIError {
    try JSONDecoder().decode(APIError.self, from: Data(response.body.readableBytesView))
}

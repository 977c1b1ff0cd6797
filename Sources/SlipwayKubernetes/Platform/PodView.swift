import Foundation
import SlipwayCore
import SlipwayPlatform

/// What Slipway reads of a pod.
struct PodView: Sendable, Equatable {
    var name: String
    var uid: String
    /// The exact version, from the pod's annotation (nil for a pod that has none).
    var version: String?
    /// The instance number it serves as, once taken.
    var instance: Int?
    /// Its address, once it has one.
    var ip: String?
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    var phase: String
    /// Whether its container runs (has started, and not ended).
    var running: Bool
    /// Whether it is being deleted.
    var deleting: Bool
    /// Whether the serving condition is True.
    var serving: Bool
    /// Whether the pod is Ready.
    var ready: Bool
    /// How many times its container was restarted.
    var restarts: Int
    /// When it started, if it did.
    var startedAt: Date?
    /// How its container last ended (the current state when it ended, else the last one), if it did.
    var lastExit: ExitStatus?
    /// The message its container left when it last ended (its last log lines, with `FallbackToLogsOnError`).
    var lastMessage: String?
    /// Why it is not running, when a reason is given (`ImagePullBackOff`, `Unschedulable`, …).
    var waitingReason: String?

    init?(_ pod: JSONValue) {
        guard let metadata = pod.metadata, let name = metadata["name"]?.stringValue,
            let uid = metadata["uid"]?.stringValue
        else { return nil }
        self.name = name
        self.uid = uid
        version = metadata["annotations"]?[KubernetesNames.versionAnnotation]?.stringValue
        instance = metadata["labels"]?[KubernetesNames.instanceLabel]?.stringValue.flatMap { Int($0) }
        deleting = metadata["deletionTimestamp"] != nil
        let status = pod["status"]
        ip = status?["podIP"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        phase = status?["phase"]?.stringValue ?? "Pending"
        startedAt = status?["startTime"]?.stringValue.flatMap(Self.date)
        var serving = false
        var ready = false
        var scheduleReason: String?
        if case .array(let conditions) = status?["conditions"] ?? .null {
            for condition in conditions {
                let isTrue = condition["status"]?.stringValue == "True"
                switch condition["type"]?.stringValue {
                case KubernetesNames.servingCondition: serving = isTrue
                case "Ready": ready = isTrue
                case "PodScheduled" where !isTrue: scheduleReason = condition["reason"]?.stringValue
                default: break
                }
            }
        }
        self.serving = serving
        self.ready = ready
        let container = Self.container(of: status)
        restarts = container?["restartCount"]?.intValue ?? 0
        running = phase == "Running" && container?["state"]?["running"] != nil
        let terminated = container?["state"]?["terminated"] ?? container?["lastState"]?["terminated"]
        lastExit = terminated.map(Self.exitStatus)
        lastMessage = terminated?["message"]?.stringValue
        waitingReason = container?["state"]?["waiting"]?["reason"]?.stringValue ?? scheduleReason
    }

    /// The status of the release's container.
    private static func container(of status: JSONValue?) -> JSONValue? {
        guard case .array(let containers) = status?["containerStatuses"] ?? .null else { return nil }
        return containers.first { $0["name"]?.stringValue == ReleaseManifest.containerName } ?? containers.first
    }

    private static func exitStatus(_ terminated: JSONValue) -> ExitStatus {
        if let signal = terminated["signal"]?.intValue, signal > 0 { return .signaled(Int32(signal)) }
        if let code = terminated["exitCode"]?.intValue {
            // 128 + n is how a container runtime reports a death by signal n.
            return code > 128 && code < 160 ? .signaled(Int32(code - 128)) : .exited(Int32(code))
        }
        return .unknown
    }

    static func date(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }
}

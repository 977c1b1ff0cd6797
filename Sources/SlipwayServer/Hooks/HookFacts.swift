import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayEngine

/// What a hook is told about the rollout it runs for: as `SLIPWAY_*` environment variables for a command, as a
/// JSON body for a webhook gate.
struct HookFacts: Sendable, Equatable {
    var point: HookPoint
    var app: String
    var baseName: String
    var environment: String?
    var rollout: Int
    var purpose: String
    var stableVersion: String
    var candidateVersion: String
    var strategy: String
    var startedBy: String
    var reason: String?
    /// The app's listener, `http://127.0.0.1:8080`.
    var listenURL: String
    /// The blue-green preview listener, while it is open.
    var previewURL: String?
    /// The candidate instances that take traffic (or would), `http://127.0.0.1:41234` each.
    var candidateURLs: [String]
    /// For `postPromotion` and `onRollback`: how the rollout ended, and why.
    var outcome: String?
    var outcomeReason: String?

    /// The facts of a rollout's plan, before the addresses are known.
    init(point: HookPoint, plan: RolloutPlan, spec: AppSpec, listenURL: String) {
        self.point = point
        self.app = spec.name
        self.baseName = spec.baseName
        self.environment = spec.environment
        self.rollout = plan.number
        self.purpose = plan.purpose.rawValue
        self.stableVersion = plan.stable.version
        self.candidateVersion = plan.candidate.version
        self.strategy = plan.strategyName
        self.startedBy = plan.by
        self.reason = plan.reason
        self.listenURL = listenURL
        self.previewURL = nil
        self.candidateURLs = []
    }

    /// The variables a hook command gets, besides the controller's own and the hook's `env`.
    func environment(hook: String) -> [String: String] {
        var variables = [
            "SLIPWAY_HOOK_POINT": point.rawValue,
            "SLIPWAY_HOOK_NAME": hook,
            "SLIPWAY_APP": app,
            "SLIPWAY_APP_NAME": baseName,
            "SLIPWAY_ENVIRONMENT": environment ?? "",
            "SLIPWAY_ROLLOUT": String(rollout),
            "SLIPWAY_ROLLOUT_PURPOSE": purpose,
            "SLIPWAY_STABLE_VERSION": stableVersion,
            "SLIPWAY_CANDIDATE_VERSION": candidateVersion,
            "SLIPWAY_STRATEGY": strategy,
            "SLIPWAY_STARTED_BY": startedBy,
            "SLIPWAY_REASON": reason ?? "",
            "SLIPWAY_LISTEN_URL": listenURL,
            "SLIPWAY_PREVIEW_URL": previewURL ?? "",
            "SLIPWAY_CANDIDATE_URLS": candidateURLs.joined(separator: " "),
        ]
        if let outcome { variables["SLIPWAY_OUTCOME"] = outcome }
        if let outcomeReason { variables["SLIPWAY_OUTCOME_REASON"] = outcomeReason }
        return variables
    }

    /// The JSON a webhook gate receives on its `attempt`th question.
    func body(hook: String, attempt: Int) -> [UInt8] {
        var object: [String: Any] = [
            "point": point.rawValue,
            "hook": hook,
            "app": app,
            "appName": baseName,
            "rollout": rollout,
            "purpose": purpose,
            "from": stableVersion,
            "to": candidateVersion,
            "strategy": strategy,
            "by": startedBy,
            "listenURL": listenURL,
            "candidateURLs": candidateURLs,
            "attempt": attempt,
        ]
        object["environment"] = environment ?? NSNull()
        object["reason"] = reason ?? NSNull()
        object["previewURL"] = previewURL ?? NSNull()
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }
}

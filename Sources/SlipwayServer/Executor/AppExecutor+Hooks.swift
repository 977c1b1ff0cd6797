import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayEngine

/// Hooks: the rollout asks for a point's hooks, the executor runs them off the actor and answers the rollout when
/// it waits for them.
extension AppExecutor {
    /// Runs the hooks of `point` for the rollout in progress (or the one that just ended, for `postPromotion` and
    /// `onRollback`). A point the rollout waits for is answered at once when it has no hooks.
    func runHooks(_ point: HookPoint, _ rollout: AppMachine.HookContext) {
        let hooks = spec.hooks[point]
        let number = rollout.plan.number
        guard !hooks.isEmpty else {
            if point.blocksRollout { Task { self.hooksFinished(point, failure: nil, rollout: number) } }
            return
        }
        var facts = HookFacts(
            point: point,
            plan: rollout.plan,
            spec: spec,
            listenURL: listenerURL(spec.listen.host, context.listenPort)
        )
        if let preview, case .blueGreen(let blueGreen) = rollout.plan.strategy.kind,
            let address = blueGreen.previewListen
        {
            facts.previewURL = listenerURL(address.host, preview.port)
        }
        facts.candidateURLs = rollout.candidates.compactMap { id in
            runtimes[id].map { url($0.handle.host, $0.handle.port) }
        }
        switch point {
        case .postPromotion:
            facts.outcome = RolloutMachine.Outcome.promoted.rawValue
        case .onRollback:
            // A manual rollback "promotes" the earlier release; for its hooks the app went back.
            facts.outcome =
                rollout.plan.purpose == .rollback
                ? RolloutMachine.Outcome.rolledBack.rawValue : rollout.outcome?.rawValue
            facts.outcomeReason = rollout.rollbackReason
        case .preDeploy, .prePromotion:
            break
        }
        let runner = context.hooks
        let task = Task {
            let failure = await runner.run(hooks, facts: facts)
            if point.blocksRollout { self.hooksFinished(point, failure: failure, rollout: number) }
        }
        if point.blocksRollout {
            hookTask?.cancel()
            hookTask = task
        }
    }

    /// The hooks the rollout waits for ended.
    func hooksFinished(_ point: HookPoint, failure: String?, rollout number: Int) {
        if machine.running?.plan.number == number { hookTask = nil }
        feed(.hooksFinished(point, failure: failure, rollout: number))
    }

    /// The URL of a listener bound to `host`: on an app's first host when it runs on hosts.
    private func listenerURL(_ host: String, _ port: Int) -> String {
        url(context.firstHostAddress ?? host, port)
    }

    private func url(_ host: String, _ port: Int) -> String {
        let shown = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host
        return "http://\(shown.contains(":") ? "[\(shown)]" : shown):\(port)"
    }
}

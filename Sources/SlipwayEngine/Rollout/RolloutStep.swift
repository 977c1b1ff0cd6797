import SlipwayConfig
import SlipwayCore

/// One step of a compiled rollout: every strategy becomes a list of these, ending with the same finale.
public enum RolloutStep: Sendable, Equatable {
    /// Run this many candidate instances; done when that many are ready (healthy and warmed up).
    case scaleCandidate(Int)
    /// Run this many stable instances; done when that many are ready (going up) or the others have exited
    /// (going down, after draining).
    case scaleStable(Int)
    /// Run this many instances of each of an A/B/n test's other variants (``RolloutPlan/challengers``); done when that
    /// many of each are ready, or at once for 0 (they are out of the routes and stopping).
    case scaleChallengers(Int)
    /// Send this share of traffic (basis points) to the candidate, and as much to each other variant.
    case weight(Int)
    /// Wait this long, or until `promote` / `resume` when nil.
    case pause(Duration?)
    /// Judge the candidate on windows of its traffic (`preview`: on the preview listener's traffic).
    case analysis(AnalysisStepSpec, preview: Bool)
    /// Open the preview listener on the candidate set.
    case openPreview
    /// The candidate is the app's release from now on (all traffic is on it).
    case promoted
    /// Keep the old set running this long (for an instant `rollback`), judging the candidate meanwhile.
    case keepOldSet(Duration, analysis: AnalysisStepSpec?)
    /// Run the hooks of a point that holds the rollout (`preDeploy`, `prePromotion`), named here; done when every
    /// one succeeded, and the rollout goes back when one fails.
    case hooks(HookPoint, names: [String])
    /// Run an A/B experiment on the split in force until its end condition, then wait for a person: `promote` keeps
    /// the candidate (`promote --variant` another variant), `abort` keeps stable.
    case experiment(ExperimentSpec)
    /// Copy a share of the requests the other versions serve to the candidate for a while, and judge the candidate's
    /// answers to them (see ``MirrorStepSpec``).
    case mirror(MirrorStepSpec)
    /// Watch the candidate and the stable version without a fault, then under the same fault, and fail the candidate
    /// when it degrades more (see ``ChaosStepSpec``).
    case chaos(ChaosStepSpec)

    /// A few words for people: `weight 25%`, `pause 30s`, `analysis (3 windows)`.
    public var description: String {
        switch self {
        case .scaleCandidate(let count): return "start candidate instances (\(count))"
        case .scaleStable(let count): return "scale stable to \(count)"
        case .scaleChallengers(let count):
            return count == 0 ? "stop the variants not chosen" : "start the other variants' instances (\(count) each)"
        case .weight(let basisPoints): return "weight \(Percentage(basisPoints: basisPoints))"
        case .pause(let duration): return duration.map { "pause \(DurationText.format($0))" } ?? "pause until promote"
        case .analysis(let step, let preview):
            let windows = "\(step.windows) window\(step.windows == 1 ? "" : "s")"
            return preview ? "pre-promotion analysis on preview (\(windows))" : "analysis (\(windows))"
        case .openPreview: return "open preview listener"
        case .promoted: return "promote"
        case .keepOldSet(let delay, let analysis):
            let suffix = analysis.map { ", post-promotion analysis (\($0.windows) windows)" } ?? ""
            return "keep old set for \(DurationText.format(delay))\(suffix)"
        case .hooks(let point, let names):
            return "\(point.rawValue) hooks (\(names.joined(separator: ", ")))"
        case .experiment(let spec):
            return "experiment on \(spec.goals.map(\.name).joined(separator: ", ")), then wait for promote or abort"
        case .mirror(let spec):
            return "mirror \(spec.share) of requests to the candidate for \(DurationText.format(spec.duration))"
        case .chaos(let spec):
            let target = spec.target.map { " (on \($0))" } ?? ""
            return "chaos: \(spec.fault.description)\(target) for \(DurationText.format(spec.duration)), "
                + "after \(DurationText.format(spec.before)) without it"
        }
    }

    /// Whether the step waits on people or the clock rather than on work (`promote` may end it).
    var isHold: Bool {
        switch self {
        case .pause, .analysis, .experiment, .mirror, .chaos: return true
        default: return false
        }
    }
}

extension RolloutPlan {
    /// The steps of this plan, and the index where the finale (everything to the candidate) begins.
    public func compile() -> (steps: [RolloutStep], finale: Int) {
        let total = instances
        var steps: [RolloutStep] = []
        switch purpose {
        case .restart:
            steps = Self.rollingSteps(total: total, surge: 1, unavailable: 0, analysis: nil)
        case .rollback:
            steps = [.scaleCandidate(total)]
        case .deploy:
            switch strategy.kind {
            case .recreate:
                steps = [.scaleStable(0), .scaleCandidate(total)]
            case .rolling(let rolling):
                // A mirror runs on one candidate instance that takes no user traffic, before the first batch.
                if let mirror = strategy.mirror { steps = [.scaleCandidate(1), .mirror(mirror)] }
                steps += Self.rollingSteps(
                    total: total,
                    surge: rolling.maxSurge.resolve(of: total, roundUp: true),
                    unavailable: rolling.maxUnavailable.resolve(of: total, roundUp: false),
                    analysis: rolling.analysis
                )
            case .blueGreen(let blueGreen):
                steps = [.scaleCandidate(total)]
                if let mirror = strategy.mirror { steps.append(.mirror(mirror)) }
                if blueGreen.previewListen != nil { steps.append(.openPreview) }
                if let pre = blueGreen.prePromotion {
                    steps.append(.analysis(pre, preview: blueGreen.previewListen != nil))
                }
                if !blueGreen.autoPromote { steps.append(.pause(nil)) }
            case .canary(let canary):
                var running = 0
                if case .fixed(let count) = canary.instances {
                    running = min(count, total)
                    steps.append(.scaleCandidate(running))
                }
                // A mirror needs a candidate instance to copy requests to, before any weight starts one.
                let mirrors = (strategy.mirror.map { [CanarySpec.Step.mirror($0)] } ?? [])
                for step in mirrors + canary.steps {
                    switch step {
                    case .weight(let percentage):
                        if case .scaled = canary.instances {
                            running = Self.scaled(total, to: percentage.basisPoints)
                            steps.append(.scaleCandidate(running))
                        }
                        steps.append(.weight(percentage.basisPoints))
                    case .pause(let duration):
                        steps.append(.pause(duration))
                    case .analysis(let analysis):
                        steps.append(.analysis(analysis, preview: false))
                    case .mirror(let mirror):
                        if running == 0 {
                            running = 1
                            steps.append(.scaleCandidate(1))
                        }
                        steps.append(.mirror(mirror))
                    case .chaos(let chaos):
                        steps.append(.chaos(chaos))
                    }
                }
            case .abTest(let abTest):
                let share = abTest.variantShare(variants: 1 + challengers.count)
                let count: Int
                switch abTest.instances {
                case .fixed(let fixed): count = min(fixed, total)
                case .scaled: count = Self.scaled(total, to: share)
                }
                steps = [.scaleCandidate(count)]
                if !challengers.isEmpty { steps.append(.scaleChallengers(count)) }
                if let mirror = strategy.mirror { steps.append(.mirror(mirror)) }
                steps += [.weight(share), .experiment(abTest.experiment)]
            }
        }
        if purpose == .deploy, let names = hooks[.preDeploy], !names.isEmpty {
            steps.insert(.hooks(.preDeploy, names: names), at: 0)
        }
        // `promote --full` skips to the finale, but never past the smoke tests and gates before promotion.
        let finale = steps.count
        if !challengers.isEmpty { steps.append(.scaleChallengers(0)) }
        if purpose == .deploy, let names = hooks[.prePromotion], !names.isEmpty {
            steps.append(.hooks(.prePromotion, names: names))
        }
        steps.append(.scaleCandidate(total))
        steps.append(.weight(10_000))
        steps.append(.promoted)
        if purpose == .deploy, case .blueGreen(let blueGreen) = strategy.kind {
            steps.append(.keepOldSet(blueGreen.scaleDownDelay, analysis: blueGreen.postPromotion))
        }
        steps.append(.scaleStable(0))
        return (steps, finale)
    }

    /// Batches of a rolling update: never more than `total + surge` instances, never fewer than
    /// `total - unavailable` ready.
    /// The candidate instances a share of `basisPoints` of `total` needs: rounded up, at least 1, at most `total`.
    static func scaled(_ total: Int, to basisPoints: Int) -> Int {
        min(total, max(1, (total * basisPoints + 9_999) / 10_000))
    }

    static func rollingSteps(total: Int, surge: Int, unavailable: Int, analysis: AnalysisStepSpec?) -> [RolloutStep] {
        var steps: [RolloutStep] = []
        var stable = total
        var candidate = 0
        var guardCount = 0
        while candidate < total, guardCount <= 2 * total + 2 {
            guardCount += 1
            let stopFirst = min(unavailable, stable, total - candidate)
            if stopFirst > 0 {
                stable -= stopFirst
                steps.append(.scaleStable(stable))
            }
            let start = min(total - candidate, total + surge - stable - candidate)
            if start > 0 {
                candidate += start
                steps.append(.scaleCandidate(candidate))
                if let analysis { steps.append(.analysis(analysis, preview: false)) }
            }
            if stable + candidate > total {
                stable = max(0, total - candidate)
                steps.append(.scaleStable(stable))
            }
        }
        return steps
    }
}

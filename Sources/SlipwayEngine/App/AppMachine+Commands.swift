import SlipwayConfig
import SlipwayCore

/// Users' commands: which deploys, restarts, retries and rollbacks the app accepts, and what they start.
extension AppMachine {
    /// Why a command was not carried out. Nothing changed, apart from the refusal being recorded when `event` is set.
    public struct Refusal: Error, Sendable, Equatable {
        /// The kind of refusal.
        public enum Code: String, Sendable {
            /// The request itself is wrong (unknown strategy, bad version string).
            case badRequest
            /// No such version.
            case notFound
            /// The command does not fit the app's state.
            case conflict
        }

        /// The kind of refusal.
        public var code: Code
        /// What was wrong and what would be accepted.
        public var message: String
        /// The `commandRefused` event to record, for refusals worth keeping in the log.
        public var event: Event?
    }

    /// The answer to a command.
    public enum CommandAnswer: Sendable, Equatable {
        /// Refused; nothing changed.
        case refused(Refusal)
        /// Carried out (or already in effect): perform `actions`.
        case applied(message: String?, actions: [Action])
        /// A new rollout: perform `actions`, prepare the plan (its preview listener), then call ``begin(_:at:)``.
        case startRollout(RolloutPlan, message: String?, actions: [Action])
    }

    /// A rule the deploy goes ahead against (a deploy window, the environment order), with why it applies now.
    public struct Override: Sendable, Equatable {
        /// The rule's name.
        public var policy: String
        /// Why it would have refused.
        public var detail: String

        /// Creates an override.
        public init(policy: String, detail: String) {
            self.policy = policy
            self.detail = detail
        }
    }

    /// Checks what a deploy request asks for, before any rule about the app's state: the version, the environment
    /// names, the strategy.
    public func validate(_ request: DeployRequest) -> Refusal? {
        guard Self.isVersion(request.version) else {
            return Refusal(
                code: .badRequest,
                message: "version: \"\(request.version)\" is not a version (letters, digits, '.', '_', '+' and '-', "
                    + "starting with a letter or digit, at most 128 characters)"
            )
        }
        for key in request.env.keys.sorted() where !Self.isEnvironmentName(key) {
            return Refusal(code: .badRequest, message: "env: \"\(key)\" is not an environment variable name")
        }
        if let problem = request.release.problem { return Refusal(code: .badRequest, message: problem) }
        let strategy: StrategySpec
        do {
            strategy = try self.strategy(named: request.strategy)
        } catch {
            return error
        }
        return request.variants.isEmpty ? nil : Self.variantsRefusal(request, strategy: strategy)
    }

    /// Why an A/B/n deploy's further variants cannot run with `strategy`; nil when they can.
    ///
    /// What the request alone gets wrong (a variant that is not a version, an environment name, more than 8, an
    /// explicit strategy other than abTest) is a bad request, as the API's schema says. What it gets wrong only
    /// against the app (its configured strategy, weight or match rules) or against its own `version` (a version named
    /// twice) is a conflict: the same request suits another app, or another version.
    static func variantsRefusal(_ request: DeployRequest, strategy: StrategySpec) -> Refusal? {
        func refusal(_ message: String) -> Refusal { Refusal(code: .badRequest, message: message) }
        func conflict(_ message: String) -> Refusal { Refusal(code: .conflict, message: message) }
        guard case .abTest(let abTest) = strategy.kind else {
            let message =
                "variants: only an abTest strategy runs several variants (this deploy's strategy is \(strategy.name))"
            return request.strategy == nil ? conflict(message) : refusal(message)
        }
        var seen: Set<String> = [request.version]
        for (index, variant) in request.variants.enumerated() {
            guard isVersion(variant.version) else {
                return refusal("variants[\(index)].version: \"\(variant.version)\" is not a version")
            }
            guard seen.insert(variant.version).inserted else {
                return conflict(
                    "variants[\(index)].version: \(variant.version) is named twice; every variant is another version "
                        + "(give a variant of the same build another version name, like 2.0.0-flag)"
                )
            }
            for key in variant.env.keys.sorted() where !isEnvironmentName(key) {
                return refusal("variants[\(index)].env: \"\(key)\" is not an environment variable name")
            }
        }
        guard request.variants.count <= 8 else {
            return refusal(
                "variants: \(request.variants.count) further variants; an A/B/n test runs at most 8 beside B"
            )
        }
        if !abTest.match.isEmpty {
            return conflict(
                "variants: the abTest's match rules send their requests to one variant; an A/B/n test splits by "
                    + "weight or stickiness"
            )
        }
        let variants = request.variants.count + 1
        let share = abTest.variantShare(variants: variants)
        if share * variants >= 10_000 {
            return conflict(
                "variants: \(variants) variants at \(Percentage(basisPoints: share)) each leave nothing to the control "
                    + "A; lower strategy.abTest.weight below \(Percentage(basisPoints: 10_000 / (variants + 1) + 1)) "
                    + "or leave it out for an equal split"
            )
        }
        return nil
    }

    /// A deploy of `request.version`, valid by ``validate(_:)``, that goes ahead against `overrides` (the deploy
    /// rules the user forced, each recorded).
    public mutating func deploy(
        _ request: DeployRequest,
        overriding overrides: [Override],
        at now: Moment
    )
        -> CommandAnswer
    {
        if let refusal = validate(request) { return .refused(refusal) }
        if let pending {
            return .refused(
                Refusal(code: .conflict, message: "a deploy of \(pending.request.version) is already waiting to start")
            )
        }
        if let machine = running {
            guard request.supersede else {
                let step = min(machine.stepIndex + 1, machine.steps.count)
                let where_ = "step \(step)/\(machine.steps.count) \(machine.currentStep?.description ?? "finishing")"
                return .refused(
                    Refusal(
                        code: .conflict,
                        message: "rollout #\(machine.plan.number) (\(machine.plan.stable.version) → "
                            + "\(machine.plan.candidate.version), \(where_)) is running; abort it first, or deploy "
                            + "with --supersede"
                    )
                )
            }
            let number = reserveNumber()
            setPending(PendingDeploy(request: request, number: number))
            var rollout = machine
            let decided = rollout.supersede(by: request.version, at: now)
            let actions = forced(overrides, number: number, request) + took(rollout, decided, at: now)
            return .applied(
                message: "superseding the running rollout: traffic goes back to \(stable.version) first",
                actions: actions
            )
        }
        let candidate = Release(version: request.version, env: request.env)
        if request.variants.contains(where: { $0.version == stable.version }) {
            return .refused(
                Refusal(
                    code: .conflict,
                    message: "variants: \(stable.version) is the stable release of \(spec.name), the control A of the "
                        + "test; name other versions"
                )
            )
        }
        if candidate == stable {
            return .refused(
                Refusal(
                    code: .conflict,
                    message: "\(request.version) is already the stable release of \(spec.name); `slipway restart "
                        + "\(spec.name)` replaces its instances"
                )
            )
        }
        let plan = deployPlan(number: lastNumber + 1, request)
        return .startRollout(plan, message: nil, actions: forced(overrides, number: plan.number, request))
    }

    /// Replaces every instance of the stable release, one at a time.
    public func restart(by user: String) -> CommandAnswer {
        if let machine = running {
            return .refused(
                Refusal(
                    code: .conflict,
                    message: "rollout #\(machine.plan.number) is running; a restart waits until it has ended"
                )
            )
        }
        let plan = makePlan(
            number: lastNumber + 1,
            purpose: .restart,
            candidate: stable,
            strategy: spec.strategy,
            by: user,
            reason: "restart"
        )
        return .startRollout(plan, message: nil, actions: [])
    }

    /// Applies a user command at `now`: to the running rollout, else to the app (`retry`, `rollback`).
    ///
    /// A `retry` answered with ``CommandAnswer/startRollout(_:message:actions:)`` is still subject to the deploy
    /// rules for its candidate, which the executor checks before it begins.
    public mutating func command(_ command: UserCommand, by user: String, at now: Moment) -> CommandAnswer {
        if var machine = running {
            let result = machine.command(command, by: user, at: now)
            guard result.accepted else { return .refused(refusal(command, result.message, by: user)) }
            return .applied(message: result.message, actions: took(machine, result.actions, at: now))
        }
        switch command {
        case .retry:
            guard let ended = lastEnded, ended.outcome != "promoted" else {
                let message =
                    lastEnded.map { "rollout #\($0.plan.number) was promoted; there is nothing to retry" }
                    ?? "\(spec.name) has had no rollout to retry"
                return .refused(refusal(command, message, by: user))
            }
            guard ended.plan.stable.version == stable.version else {
                let message =
                    "rollout #\(ended.plan.number) went from \(ended.plan.stable.version), but \(stable.version) "
                    + "is stable now; deploy \(ended.plan.candidate.version) instead"
                return .refused(refusal(command, message, by: user))
            }
            var plan = ended.plan
            plan.number = lastNumber + 1
            plan.by = user
            plan.reason = "retry of rollout #\(ended.plan.number)"
            return .startRollout(
                plan,
                message: "retrying rollout #\(ended.plan.number) as #\(plan.number)",
                actions: []
            )
        case .rollback(let version):
            let target: Release
            if let version {
                guard let release = releases.last(where: { $0.version == version }) else {
                    return .refused(
                        Refusal(
                            code: .notFound,
                            message: "\(spec.name) never ran \(version); releases it ran: "
                                + releases.map(\.version).joined(separator: ", ")
                        )
                    )
                }
                target = release
            } else {
                guard let previous = releases.dropLast().last else {
                    let message = "\(spec.name) has no earlier release than \(stable.version) to go back to"
                    return .refused(refusal(command, message, by: user))
                }
                target = previous
            }
            if target == stable {
                let message = "\(target.version) is already the stable release of \(spec.name)"
                return .refused(refusal(command, message, by: user))
            }
            let plan = makePlan(
                number: lastNumber + 1,
                purpose: .rollback,
                candidate: target,
                strategy: spec.strategy,
                by: user,
                reason: "rollback to \(target.version)"
            )
            return .startRollout(plan, message: "rolling back to \(target.version)", actions: [])
        case .promote, .choose, .abort, .pause, .resume:
            // Already in effect (promote after promotion, abort after an abort) is accepted; the rest is refused.
            if let ended = lastEnded {
                let repeated: Bool
                switch command {
                case .promote: repeated = ended.outcome == "promoted"
                case .choose(let variant):
                    repeated = ended.outcome == "promoted" && ended.plan.candidate.version == variant
                case .abort: repeated = ["aborted", "rolledBack", "superseded"].contains(ended.outcome)
                default: repeated = false
                }
                if repeated {
                    return .applied(
                        message: "rollout #\(ended.plan.number) already ended: \(ended.outcome)",
                        actions: []
                    )
                }
            }
            let message =
                "no rollout of \(spec.name) is running"
                + (lastEnded.map { " (the last one, #\($0.plan.number), ended \($0.outcome))" } ?? "")
            return .refused(refusal(command, message, by: user))
        }
    }

    /// A refusal of `command` that the log keeps.
    public func refusal(_ command: UserCommand, _ message: String, by user: String) -> Refusal {
        Refusal(
            code: .conflict,
            message: message,
            event: Event(
                app: spec.name,
                kind: .commandRefused,
                fields: ["command": .string(command.name), "reason": .string(message), "by": .string(user)]
            )
        )
    }

    private func forced(_ overrides: [Override], number: Int, _ request: DeployRequest) -> [Action] {
        guard !overrides.isEmpty else { return [] }
        return [
            .record(
                Event(
                    app: spec.name,
                    kind: .deployForced,
                    fields: [
                        "rollout": .int(number),
                        "version": .string(request.version),
                        "by": .string(request.by),
                        "reason": .string(request.reason ?? ""),
                        "overridden": .array(overrides.map { .string($0.policy) }),
                        "details": .array(overrides.map { .string($0.detail) }),
                    ]
                )
            )
        ]
    }

    // MARK: Validation

    /// Whether `text` is a version: letters, digits, `.`, `_`, `+` and `-`, starting with a letter or digit, at most
    /// 128 characters.
    public static func isVersion(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.utf8.count <= 128,
            first.properties.isAlphabetic || ("0"..."9").contains(first), first.isASCII
        else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                    || ".-_+".unicodeScalars.contains(scalar))
        }
    }

    /// Whether `text` is an environment variable name.
    public static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
        }
    }
}

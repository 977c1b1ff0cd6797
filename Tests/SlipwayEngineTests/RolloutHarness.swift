import SlipwayConfig
import SlipwayCore

@testable import SlipwayEngine

/// Plays the executor for a ``RolloutMachine``: instances it starts come up healthy (unless told otherwise), instances
/// it stops exit, and every action is kept for assertions.
struct RolloutHarness {
    var machine: RolloutMachine
    var now = Moment.zero
    var actions: [RolloutMachine.Action] = []
    /// Instances started by the machine and not yet reported up.
    var launched: [InstanceID] = []
    /// Instances asked to stop and not yet reported exited.
    var stopping: [InstanceID] = []
    var warming: [InstanceID] = []

    static func id(_ number: Int) -> InstanceID { InstanceID(app: "shop", number: number) }

    static func plan(
        _ kind: StrategySpec.Kind,
        instances: Int = 3,
        warmUp: Bool = false,
        analysis: AnalysisSpec = AnalysisSpec(),
        progressDeadline: Duration = .seconds(60),
        purpose: RolloutPlan.Purpose = .deploy,
        candidate: String = "2.0.0"
    ) -> RolloutPlan {
        RolloutPlan(
            app: "shop",
            number: 1,
            purpose: purpose,
            stable: Release(version: "1.0.0"),
            candidate: Release(version: candidate),
            instances: instances,
            strategy: StrategySpec(kind: kind, progressDeadline: progressDeadline, maxDuration: .seconds(3600)),
            analysis: analysis,
            warmUp: warmUp,
            by: "ada",
            reason: "test"
        )
    }

    /// A machine taking over `stable` ready instances numbered 1...stable.
    init(_ plan: RolloutPlan, stable: Int? = nil) {
        var current: [InstanceID: RolloutMachine.InstancePhase] = [:]
        for number in 1...(stable ?? plan.instances) { current[Self.id(number)] = .ready }
        machine = RolloutMachine(plan: plan, current: current, firstInstanceNumber: (stable ?? plan.instances) + 1)
    }

    init(machine: RolloutMachine) {
        self.machine = machine
    }

    @discardableResult
    mutating func feed(_ input: RolloutMachine.Input) -> [RolloutMachine.Action] {
        let output = machine.handle(input, at: now)
        note(output)
        return output
    }

    @discardableResult
    mutating func command(_ command: UserCommand) -> RolloutMachine.CommandResult {
        let result = machine.command(command, by: "ada", at: now)
        note(result.actions)
        return result
    }

    mutating func note(_ output: [RolloutMachine.Action]) {
        actions += output
        for action in output {
            switch action {
            case .start(let id, _): launched.append(id)
            case .stop(let id, _): stopping.append(id)
            case .warmUp(let id): warming.append(id)
            default: break
            }
        }
    }

    mutating func advance(_ duration: Duration) {
        now = now + duration
    }

    /// Reports every launched instance started and healthy, every warming one warm and every stopping one exited,
    /// until nothing is pending (bounded).
    mutating func settle(healthy: Bool = true) {
        for _ in 0..<50 {
            if launched.isEmpty, stopping.isEmpty, warming.isEmpty { return }
            let up = launched
            launched.removeAll()
            for id in up {
                feed(.started(id))
                if healthy { feed(.healthy(id)) }
            }
            let warm = warming
            warming.removeAll()
            for id in warm { feed(.warmedUp(id)) }
            let down = stopping
            stopping.removeAll()
            for id in down { feed(.exited(id, status: "exit 0")) }
        }
    }

    /// Feeds a metrics window where `stable` and `candidate` saw these requests and errors.
    @discardableResult
    mutating func window(
        stable: (Int, Int) = (100, 0),
        candidate: (Int, Int),
        p99: Duration = .milliseconds(20),
        preview: (Int, Int)? = nil,
        length: Duration = .seconds(2)
    ) -> [RolloutMachine.Action] {
        let start = now
        now = now + length
        func versions(_ stable: (Int, Int), _ candidate: (Int, Int)) -> [String: VersionWindow] {
            [
                "1.0.0": VersionWindow(requests: stable.0, errors: stable.1, latencies: [.p99: p99]),
                "2.0.0": VersionWindow(requests: candidate.0, errors: candidate.1, latencies: [.p99: p99]),
            ]
        }
        let main = MetricsWindow(start: start, end: now, versions: versions(stable, candidate))
        let previewWindow = preview.map { MetricsWindow(start: start, end: now, versions: versions((0, 0), $0)) }
        return feed(.metrics(main, preview: previewWindow))
    }

    /// Feeds a window in which the stable and candidate versions saw no user traffic of note, and the mirror sent
    /// `shadow` copies (requests, errors) to the candidate, of requests whose originals `stable` served.
    @discardableResult
    mutating func mirrorWindow(
        shadow: (Int, Int),
        original: (Int, Int) = (100, 0),
        length: Duration = .seconds(2)
    ) -> [RolloutMachine.Action] {
        let start = now
        now = now + length
        let main = MetricsWindow(
            start: start,
            end: now,
            versions: ["1.0.0": VersionWindow(requests: original.0 * 2, errors: original.1)]
        )
        let mirror = MetricsWindow(
            start: start,
            end: now,
            versions: [
                "1.0.0": VersionWindow(
                    requests: original.0,
                    errors: original.1,
                    latencies: [.p99: .milliseconds(20)],
                    classes: [0, 0, original.0 - original.1, 0, 0, original.1]
                ),
                "2.0.0": VersionWindow(
                    requests: shadow.0,
                    errors: shadow.1,
                    latencies: [.p99: .milliseconds(20)],
                    classes: [0, 0, shadow.0 - shadow.1, 0, 0, shadow.1]
                ),
            ]
        )
        return feed(.metrics(main, preview: nil, mirror: mirror))
    }

    /// Feeds a 10 s window in which each version served `requests`, of which `converted[version]` reported the
    /// outcome `converted` (an A/B test's goal).
    @discardableResult
    mutating func conversionWindow(requests: Int = 200, converted: [String: Int]) -> [RolloutMachine.Action] {
        let start = now
        now = now + .seconds(10)
        let versions = converted.mapValues { count in
            let value = Double(count)
            return VersionWindow(
                requests: requests,
                errors: 0,
                outcomes: ["converted": OutcomeTally(responses: count, sum: value, sumOfSquares: value)]
            )
        }
        return feed(.metrics(MetricsWindow(start: start, end: now, versions: versions), preview: nil))
    }

    /// Candidate share of the latest routes, in basis points.
    var candidateWeight: Int {
        machine.routes.groups.first { $0.version == "2.0.0" }?.weight ?? 0
    }

    /// Instances in the latest routes.
    var routed: Set<InstanceID> { Set(machine.routes.instances) }

    /// Kinds of the events recorded so far, in order.
    var kinds: [EventKind] {
        actions.compactMap { if case .record(let event) = $0 { return event.kind } else { return nil } }
    }

    /// The last recorded event of `kind`.
    func last(_ kind: EventKind) -> Event? {
        for action in actions.reversed() {
            if case .record(let event) = action, event.kind == kind { return event }
        }
        return nil
    }

    /// The index of the last action matching.
    func lastIndex(where predicate: (RolloutMachine.Action) -> Bool) -> Int? {
        actions.lastIndex(where: predicate)
    }
}

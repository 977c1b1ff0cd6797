import Testing

@testable import SlipwayProxy

@Suite("Resilience: the outlier detector decides ejections, returns and open circuits")
struct ResilienceOutlierDetectorTests {
    private typealias Detector = OutlierDetector<String>
    private static let second: UInt64 = 1_000_000_000

    private static func detector(
        _ instances: [(String, String)],
        settings: OutlierSettings = OutlierSettings(baseEjectionMs: 1000, maxEjectionMs: 3000)
    ) -> Detector {
        var detector = Detector(settings: settings)
        detector.route(instances.map { (key: $0.0, version: $0.1) })
        return detector
    }

    private static let three = [("a", "1.0"), ("b", "1.0"), ("c", "1.0")]

    @Test func failuresInARowEjectForTheBaseTime() {
        var actions: [Detector.Action]
        var detector = Self.detector(Self.three)
        actions = detector.failedInARow("b", failing: ["b"], now: 5 * Self.second)
        #expect(actions == [.eject("b", nanoseconds: Self.second, reason: .consecutiveFailures(5))])
        #expect(detector.isEjected("b"))
        #expect(!detector.isOpen("1.0"))
        // Already out: nothing more.
        actions = detector.failedInARow("b", failing: ["b"], now: 6 * Self.second)
        #expect(actions.isEmpty)
    }

    @Test func atMostTheShareIsOutAndTheLastInstanceInRotationOnlyWhenItFailsToo() {
        var actions: [Detector.Action]
        var three = Self.detector(Self.three)
        actions = three.failedInARow("a", failing: ["a"], now: 0)
        #expect(actions.count == 1)
        // 50% of three is one: b stays in while c serves.
        actions = three.failedInARow("b", failing: ["a", "b"], now: 0)
        #expect(actions.isEmpty)
        #expect(!three.isEjected("b"))

        var two = Self.detector([("a", "1.0"), ("b", "1.0")], settings: OutlierSettings(maxEjectedPercent: 100))
        actions = two.failedInARow("a", failing: ["a"], now: 0)
        #expect(actions.count == 1)
        #expect(!two.isOpen("1.0"))
        // b is the last in rotation: out only because it fails as well, which opens the circuit.
        actions = two.failedInARow("b", failing: ["b"], now: 0)
        #expect(actions.compactMap(\.key) == ["b"])
        #expect(two.isOpen("1.0"))

        var one = Self.detector([("a", "1.0")])
        actions = one.failedInARow("a", failing: [], now: 0)
        #expect(actions.compactMap(\.key) == ["a"])
        #expect(one.isOpen("1.0"), "a version of one failing instance has an open circuit")
    }

    @Test func aVersionWhoseEveryInstanceFailsHasAnOpenCircuit() {
        var actions: [Detector.Action]
        var detector = Self.detector(Self.three + [("d", "2.0")])
        _ = detector.failedInARow("a", failing: ["a"], now: 0)
        actions = detector.failedInARow("b", failing: ["a", "b"], now: 0)
        #expect(actions.isEmpty)
        actions = detector.failedInARow("c", failing: ["a", "b", "c"], now: 0)
        #expect(Set(actions.compactMap(\.key)) == ["b", "c"])
        #expect(detector.isOpen("1.0"))
        #expect(!detector.isOpen("2.0"))
    }

    @Test func anEjectionEndsInAProbeThatBringsTheInstanceBackOrEjectsItLonger() {
        var actions: [Detector.Action]
        var detector = Self.detector(Self.three)
        _ = detector.failedInARow("a", failing: ["a"], now: 0)
        actions = detector.intervalEnded(counts: [:], now: Self.second / 2)
        #expect(actions.isEmpty)
        actions = detector.intervalEnded(counts: [:], now: Self.second)
        #expect(actions == [.probe("a")])
        // One probe at a time.
        actions = detector.intervalEnded(counts: [:], now: 2 * Self.second)
        #expect(actions.isEmpty)
        #expect(
            detector.probed("a", passed: false, now: 2 * Self.second)
                == [.eject("a", nanoseconds: 2 * Self.second, reason: .failedProbe)]
        )
        actions = detector.intervalEnded(counts: [:], now: 3 * Self.second)
        #expect(actions.isEmpty)
        actions = detector.intervalEnded(counts: [:], now: 4 * Self.second)
        #expect(actions == [.probe("a")])
        actions = detector.probed("a", passed: true, now: 4 * Self.second)
        #expect(actions == [.readmit("a")])
        #expect(!detector.isEjected("a"))
        // An answer nobody asked for changes nothing.
        actions = detector.probed("a", passed: false, now: 5 * Self.second)
        #expect(actions.isEmpty)
    }

    @Test func ejectionsGrowWithRepeatsUpToTheMaximumAndHealthyIntervalsForgiveThem() {
        var actions: [Detector.Action]
        var detector = Self.detector(Self.three)
        var lengths: [UInt64] = []
        var now: UInt64 = 0
        for _ in 0..<4 {
            for case .eject(_, let length, _) in detector.failedInARow("a", failing: ["a"], now: now) {
                lengths.append(length)
                now += length
            }
            _ = detector.intervalEnded(counts: [:], now: now)
            _ = detector.probed("a", passed: true, now: now)
        }
        #expect(lengths == [1, 2, 3, 3].map { $0 * Self.second })
        #expect(detector.members["a"]?.ejections == 4)
        for _ in 0..<4 {
            now += Self.second
            _ = detector.intervalEnded(counts: ["a": .init(requests: 10, failures: 0)], now: now)
        }
        #expect(detector.members["a"]?.ejections == 0)
        actions = detector.failedInARow("a", failing: ["a"], now: now)
        #expect(actions.first?.length == Self.second)
    }

    @Test func aSuccessRateWellBelowTheSiblingsEjects() {
        var detector = Self.detector(Self.three)
        let counts: [String: Detector.Counts] = [
            "a": .init(requests: 100, failures: 1),
            "b": .init(requests: 100, failures: 60),
            "c": .init(requests: 100, failures: 2),
        ]
        let actions = detector.intervalEnded(counts: counts, now: 0)
        #expect(
            actions == [.eject("b", nanoseconds: Self.second, reason: .successRate(instance: 0.4, siblings: 0.985))]
        )
        #expect(Detector.Reason.successRate(instance: 0.4, siblings: 0.985).description.contains("40% against 98.5%"))
    }

    @Test func aSuccessRateNeedsEnoughRequestsAndAClearDrop() {
        var detector = Self.detector(Self.three)
        // Too few requests on b to judge.
        #expect(
            detector.intervalEnded(
                counts: ["a": .init(requests: 100, failures: 0), "b": .init(requests: 19, failures: 19)],
                now: 0
            ).isEmpty
        )
        // 25 points below: within the 30 points allowed.
        #expect(
            detector.intervalEnded(
                counts: ["a": .init(requests: 100, failures: 0), "b": .init(requests: 100, failures: 25)],
                now: 0
            ).isEmpty
        )
        // A whole version failing alike is not an outlier.
        #expect(
            detector.intervalEnded(
                counts: [
                    "a": .init(requests: 100, failures: 90), "b": .init(requests: 100, failures: 95),
                    "c": .init(requests: 100, failures: 92),
                ],
                now: 0
            ).isEmpty
        )
    }

    @Test func theRouteDecidesWhoIsKnown() {
        var actions: [Detector.Action]
        var detector = Self.detector(Self.three)
        _ = detector.failedInARow("a", failing: ["a"], now: 0)
        detector.route([(key: "a", version: "1.0"), (key: "d", version: "1.0")])
        #expect(detector.isEjected("a"), "an instance still routed keeps its ejection")
        #expect(detector.members["b"] == nil)
        actions = detector.failedInARow("b", failing: ["b"], now: 0)
        #expect(actions.isEmpty, "an unknown instance is not ejected")
        detector.route([(key: "a", version: "2.0")])
        #expect(!detector.isEjected("a"), "a new version of an id is a new instance")
    }
}

extension OutlierDetector.Action {
    fileprivate var key: Key? {
        if case .eject(let key, _, _) = self { return key }
        return nil
    }

    fileprivate var length: UInt64? {
        if case .eject(_, let length, _) = self { return length }
        return nil
    }
}

@Suite("Resilience: the retry budget")
struct ResilienceRetryBudgetTests {
    private static let second: UInt64 = 1_000_000_000

    @Test func retriesAreAShareOfRecentRequestsPlusAFloor() {
        var budget = RetryBudget(percent: 20, minimumPerSecond: 1, loops: 2)
        // The floor: 1 a second over 10 s, half of it on this loop.
        var allowed = 0
        for _ in 0..<20 where budget.spend(now: 0) { allowed += 1 }
        #expect(allowed == 5)
        for _ in 0..<100 { budget.requestStarted(now: Self.second) }
        allowed = 0
        for _ in 0..<100 where budget.spend(now: Self.second) { allowed += 1 }
        #expect(allowed == 20, "20% of 100 requests, the floor already spent")
    }

    @Test func theWindowForgetsOldRequestsAndRetries() {
        var budget = RetryBudget(percent: 10, minimumPerSecond: 0, loops: 1)
        for _ in 0..<100 { budget.requestStarted(now: 0) }
        var allowed = 0
        for _ in 0..<50 where budget.spend(now: 5 * Self.second) { allowed += 1 }
        #expect(allowed == 10)
        // Ten seconds on, the requests of second 0 no longer count.
        let afterTen = budget.spend(now: 10 * Self.second)
        #expect(!afterTen)
        for _ in 0..<10 { budget.requestStarted(now: 11 * Self.second) }
        let afterEleven = budget.spend(now: 11 * Self.second)
        #expect(!afterEleven, "second 5's retries still count against 10 requests")
        let afterSixteen = budget.spend(now: 16 * Self.second)
        #expect(afterSixteen)
    }
}

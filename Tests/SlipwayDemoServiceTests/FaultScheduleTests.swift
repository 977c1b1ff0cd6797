import SlipwayDemoService
import Testing

@Suite struct FaultScheduleTests {
    private func schedule(_ configure: (inout DemoOptions) -> Void) -> FaultSchedule {
        var options = DemoOptions()
        configure(&options)
        return FaultSchedule(options: options)
    }

    @Test(arguments: [0.1, 0.25, 0.29, 0.33, 0.5, 0.7, 1.0])
    func errorRateGivesExactlyFloorOfNTimesRateFailures(rate: Double) {
        let schedule = schedule { $0.errorRate = rate }
        for count in [10, 100, 1_000] {
            let failures = (1...count).filter { schedule.fails(request: $0) }.count
            #expect(failures == Int((Double(count) * rate + 1e-9).rounded(.down)), "\(count) requests at \(rate)")
        }
    }

    @Test func errorRateSpreadsFailuresEvenly() {
        let schedule = schedule { $0.errorRate = 0.1 }
        let failing = (1...100).filter { schedule.fails(request: $0) }
        #expect(failing == Array(stride(from: 10, through: 100, by: 10)))
    }

    @Test func conversionsAreSpreadEvenlyAndApartFromFailures() {
        let schedule = schedule {
            $0.conversionRate = 0.25
            $0.errorRate = 0.1
        }
        #expect((1...100).filter { schedule.converts(request: $0) } == Array(stride(from: 2, through: 100, by: 4)))
        // At equal rates no converting request is one that fails.
        let equal = self.schedule {
            $0.conversionRate = 0.1
            $0.errorRate = 0.1
        }
        let converting = (1...1_000).filter { equal.converts(request: $0) }
        #expect(converting.count == 100)
        #expect(converting.allSatisfy { !equal.fails(request: $0) })
    }

    @Test func zeroErrorRateNeverFails() {
        let schedule = schedule { $0.errorRate = 0 }
        #expect((1...1_000).allSatisfy { !schedule.fails(request: $0) })
    }

    @Test func errorRateStaysExactForHugeRequestNumbers() {
        let schedule = schedule { $0.errorRate = 0.5 }
        #expect(schedule.fails(request: 4_000_000_000_000))
        #expect(!schedule.fails(request: 4_000_000_000_001))
    }

    @Test func extraLatencyAddsSlowFirstToTheFirstRequestsOnly() {
        let schedule = schedule {
            $0.latency = .milliseconds(10)
            $0.slowFirst = 3
            $0.slowFirstLatency = .milliseconds(200)
        }
        #expect((1...3).map { schedule.extraLatency(request: $0) } == Array(repeating: .milliseconds(210), count: 3))
        #expect(schedule.extraLatency(request: 4) == .milliseconds(10))
    }

    @Test func crashesAfterExactlyTheGivenRequest() {
        let schedule = schedule { $0.crashAfter = 5 }
        #expect((1...10).filter { schedule.crashes(afterRequest: $0) } == [5])
        #expect(!FaultSchedule(options: DemoOptions()).crashes(afterRequest: 1))
    }

    @Test func healthFailsFromTheGivenCount() {
        let after = schedule { $0.failHealthAfter = 3 }
        #expect((0...5).map { after.healthFails(afterCounting: $0) } == [false, false, false, true, true, true])
        let always = schedule { $0.failHealth = true }
        #expect(always.healthFails(afterCounting: 0))
        #expect(!FaultSchedule(options: DemoOptions()).healthFails(afterCounting: 1_000))
    }
}

import SlipwayTestSupport
import Testing

@testable import SlipwayProxy

/// The slow-start ramp of an instance's weight, on the real clock.
@Suite(.serialized) struct SlowStartRampTests {
    @Test func rampsLinearlyFromATenthToFull() async throws {
        let instance = try UpstreamInstance(id: "shop-1", version: "1.0", host: "127.0.0.1", port: 9)
        instance.setWeight(0)
        let started = ContinuousClock.now
        // Steps of 200 ms: a sampler every 5 ms sees most of them even when a busy machine wakes it late.
        let ramp = Task { await SlowStartRamp.run(instance, over: .milliseconds(2_000), steps: 10) }
        var samples: [Int] = []
        // Bounded generously: on a machine busy with other tests the ramp's sleeps run late, which changes nothing
        // this test asserts but how long it takes.
        while samples.last != UpstreamInstance.fullWeight, ContinuousClock.now - started < .seconds(30) {
            let weight = instance.weight
            if weight > 0 { samples.append(weight) }
            try await Task.sleep(for: .milliseconds(5))
        }
        await ramp.value
        let took = ContinuousClock.now - started
        #expect(samples.first! <= 150)
        #expect(samples.last == UpstreamInstance.fullWeight)
        #expect(zip(samples, samples.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(Set(samples).count >= 6)
        #expect(took >= .milliseconds(2_000))
    }

    @Test func noDurationMeansFullAtOnce() async throws {
        let instance = try UpstreamInstance(id: "shop-1", version: "1.0", host: "127.0.0.1", port: 9)
        instance.setWeight(0)
        await SlowStartRamp.run(instance, over: .zero)
        #expect(instance.weight == UpstreamInstance.fullWeight)
    }

    @Test func cancellingLeavesTheWeightWhereItIs() async throws {
        let instance = try UpstreamInstance(id: "shop-1", version: "1.0", host: "127.0.0.1", port: 9)
        let started = ContinuousClock.now
        let ramp = Task { await SlowStartRamp.run(instance, over: .seconds(30)) }
        try await waitUntil("the ramp starts", interval: .milliseconds(5)) {
            instance.weight < UpstreamInstance.fullWeight
        }
        ramp.cancel()
        await ramp.value
        #expect(instance.weight == 100)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func weightsAreLinear() {
        #expect(SlowStartRamp.weight(afterStep: 0, of: 20) == 100)
        #expect(SlowStartRamp.weight(afterStep: 10, of: 20) == 550)
        #expect(SlowStartRamp.weight(afterStep: 20, of: 20) == 1000)
    }
}

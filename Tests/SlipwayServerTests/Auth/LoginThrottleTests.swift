import Testing

@testable import SlipwayServer

@Suite struct LoginThrottleTests {
    @Test func pausesDoubleFromOneSecondUpToThirty() {
        let pauses = (3...12).map { LoginThrottle.pause(after: $0) }
        #expect(pauses.map { $0.components.seconds } == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30])
        #expect(LoginThrottle.pause(after: Int.max / 2) == LoginThrottle.longestWait)
    }

    @Test func eachAttemptPastTheFreeOnesWaitsForItsPause() {
        let clock = AuthTestClock()
        let throttle = LoginThrottle(now: clock.reading)
        for _ in 0..<LoginThrottle.freeAttempts {
            #expect(throttle.admit("a") == .admitted)
        }
        #expect(throttle.admit("a") == .wait(.seconds(1)))
        clock.advance(by: .milliseconds(400))
        #expect(throttle.admit("a") == .wait(.milliseconds(600)))
        clock.advance(by: .milliseconds(600))
        #expect(throttle.admit("a") == .admitted)
        #expect(throttle.admit("a") == .wait(.seconds(2)))
        // Another client is not held up.
        #expect(throttle.admit("b") == .admitted)
    }

    @Test func aRightTokenOrALongQuietClearsTheRecord() {
        let clock = AuthTestClock()
        let throttle = LoginThrottle(now: clock.reading)
        for _ in 0..<LoginThrottle.freeAttempts { _ = throttle.admit("a") }
        throttle.recordSuccess(for: "a")
        #expect(throttle.admit("a") == .admitted)
        for _ in 0..<LoginThrottle.freeAttempts { _ = throttle.admit("a") }
        #expect(throttle.admit("a") != .admitted)
        clock.advance(by: LoginThrottle.forgetAfter)
        #expect(throttle.admit("a") == .admitted)
        #expect(throttle.admit("a") == .admitted)
    }
}

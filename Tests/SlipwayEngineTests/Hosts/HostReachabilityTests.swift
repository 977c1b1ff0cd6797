import SlipwayCore
import Testing

@testable import SlipwayEngine

@Suite struct HostReachabilityTests {
    func at(_ seconds: Int) -> Moment { Moment(.seconds(seconds)) }

    @Test func aHostIsLostAfterTwoFailedLooksInARowSinceTheFirstAndBackAtTheFirstAnswer() {
        var host = HostReachability()
        #expect(host.handle(.reached, at: at(0)) == nil)
        #expect(host.handle(.failed("no answer in time"), at: at(1)) == nil)
        // One answer in between: the count starts again.
        #expect(host.handle(.reached, at: at(2)) == nil)
        #expect(host.handle(.failed("no answer in time"), at: at(3)) == nil)
        #expect(
            host.handle(.failed("SSH could not connect: No route to host"), at: at(8))
                == .lost(reason: "SSH could not connect: No route to host")
        )
        #expect(host.isLost && host.lostSince == at(3))
        // Said once.
        #expect(host.handle(.failed("no answer in time"), at: at(13)) == nil)
        #expect(host.handle(.reached, at: at(20)) == .back(after: .seconds(17)))
        #expect(!host.isLost)
        #expect(host.handle(.reached, at: at(21)) == nil)
    }

    @Test func aHostLostFromTheStartIsNotLostAgainAndIsBackAtItsFirstAnswer() {
        var host = HostReachability(lostSince: at(10))
        #expect(host.isLost)
        #expect(host.handle(.failed("no answer in time"), at: at(11)) == nil)
        #expect(host.handle(.failed("no answer in time"), at: at(16)) == nil)
        #expect(host.handle(.reached, at: at(30)) == .back(after: .seconds(20)))
        #expect(!host.isLost)
    }

    @Test func aStricterPolicyLosesAHostAtItsFirstFailure() {
        var host = HostReachability(policy: .init(failuresToLose: 1))
        #expect(host.handle(.failed("down"), at: at(5)) == .lost(reason: "down"))
    }
}

import SlipwayCore
import SlipwayEngine
import SlipwayProxy
import Testing

@testable import SlipwayServer

@Suite struct AdmissionWindowTests {
    static func sample(admitted: Int, refused: Int, timedOut: Int, waited: Double, waiting: Int) -> AppTrafficSample {
        AppTrafficSample(
            app: "shop",
            takenAt: .now,
            waitingRoom: WaitingRoomState(
                waiting: waiting,
                inFlight: 4,
                limit: 4,
                admittedAfterWaiting: admitted,
                refusedFull: refused,
                timedOut: timedOut,
                waitedSeconds: waited
            )
        )
    }

    @Test func aWindowHoldsTheWaitingRoomsCountsSinceTheLastSampleAndStartsOverAfterARestart() {
        let earlier = Self.sample(admitted: 100, refused: 10, timedOut: 1, waited: 5, waiting: 2)
        let later = Self.sample(admitted: 140, refused: 17, timedOut: 2, waited: 7, waiting: 3)
        let window = AppExecutor.window(from: earlier, to: later, start: .zero, end: Moment(.seconds(1)))
        #expect(
            window.admission
                == AdmissionWindow(admittedAfterWaiting: 40, refused: 7, timedOut: 1, waitedSeconds: 2, waitingAtEnd: 3)
        )
        // A data plane started meanwhile counts from 0: its counts are the window's.
        let restarted = Self.sample(admitted: 5, refused: 0, timedOut: 0, waited: 0.5, waiting: 0)
        let after = AppExecutor.window(from: later, to: restarted, start: .zero, end: Moment(.seconds(1)))
        #expect(after.admission?.admittedAfterWaiting == 5)
        #expect(after.admission?.waitedSeconds == 0.5)
        // No waiting room, no figures.
        let plain = AppTrafficSample(app: "shop", takenAt: .now)
        #expect(AppExecutor.window(from: plain, to: plain, start: .zero, end: Moment(.seconds(1))).admission == nil)
    }
}

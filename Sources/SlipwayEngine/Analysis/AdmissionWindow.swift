import SlipwayCore

/// What the app's waiting room did over one window: the room stands in front of routing, so its figures belong to
/// the app, not to a version. They go with each judgement as evidence (a window judged while users queued reads
/// differently), and are charged to no version: its 503s count as the app's unrouted requests.
public struct AdmissionWindow: Sendable, Equatable {
    /// Requests let in after waiting in the window.
    public var admittedAfterWaiting: Int
    /// Requests answered 503 because the line was full.
    public var refused: Int
    /// Requests answered 503 after waiting the queue timeout.
    public var timedOut: Int
    /// The time the requests let in after waiting waited, together, in seconds.
    public var waitedSeconds: Double
    /// Requests waiting at the window's end.
    public var waitingAtEnd: Int

    /// Creates a window of the waiting room.
    public init(admittedAfterWaiting: Int, refused: Int, timedOut: Int, waitedSeconds: Double, waitingAtEnd: Int) {
        self.admittedAfterWaiting = admittedAfterWaiting
        self.refused = refused
        self.timedOut = timedOut
        self.waitedSeconds = waitedSeconds
        self.waitingAtEnd = waitingAtEnd
    }

    /// Whether anyone waited or was turned away.
    public var isQuiet: Bool { admittedAfterWaiting == 0 && refused == 0 && timedOut == 0 && waitingAtEnd == 0 }

    /// The figures as event fields, the mean wait in milliseconds.
    public var fields: JSONValue {
        let mean = admittedAfterWaiting > 0 ? waitedSeconds / Double(admittedAfterWaiting) * 1000 : 0
        return .object([
            "admittedAfterWaiting": .int(admittedAfterWaiting),
            "refused": .int(refused),
            "timedOut": .int(timedOut),
            "meanWaitMs": .double((mean * 10).rounded() / 10),
            "waitingAtEnd": .int(waitingAtEnd),
        ])
    }
}

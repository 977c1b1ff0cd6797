import Testing

@testable import SlipwayProxy

@Suite("Admission: the waiting room lets requests in by their order of arrival")
struct AdmissionWaitingRoomTests {
    private typealias Room = WaitingRoom<String>
    private static let second: UInt64 = 1_000_000_000
    private static let settings = Room.Settings(
        queueSize: 3,
        queueTimeout: 2 * second,
        visitorTimeout: 5 * second,
        reservationTimeout: 3 * second
    )

    @Test func withinTheLimitEveryoneGoesInAndBeyondItTheyWaitInOrder() {
        var room = Room(settings: Self.settings, limit: 2)
        #expect(room.arrive("a", now: 0) == .admitted)
        #expect(room.arrive("b", now: 0) == .admitted)
        #expect(room.arrive("c", now: 0) == .waiting(ticket: 1, place: 1))
        #expect(room.arrive("d", now: 0) == .waiting(ticket: 2, place: 2))
        #expect(room.arrive("e", now: 0) == .waiting(ticket: 3, place: 3))
        #expect(room.arrive("f", now: 0) == .full)
        var actions = room.finished(now: Self.second)
        #expect(actions == [.admit("c")])
        actions = room.finished(now: Self.second)
        #expect(actions == [.admit("d")])
        #expect(room.inFlight == 2)
        #expect(room.waiting == 1)
        #expect(room.counters.admittedAfterWaiting == 2)
        #expect(room.counters.refusedFull == 1)
        #expect(room.counters.longestWaitNanoseconds == Self.second)
    }

    @Test func aNewcomerNeverOvertakesTheLine() {
        var room = Room(settings: Self.settings, limit: 1)
        #expect(room.arrive("a", now: 0) == .admitted)
        #expect(room.arrive("b", now: 0) == .waiting(ticket: 1, place: 1))
        // The line is served before anyone new, even when a slot is free for a moment.
        var actions = room.setLimit(1, now: 0)
        #expect(actions.isEmpty)
        actions = room.finished(now: 0)
        #expect(actions == [.admit("b")])
        #expect(room.arrive("c", now: 0) == .waiting(ticket: 2, place: 1))
    }

    @Test func heldRequestsThatWaitTooLongAreRefusedAndLeaversLoseTheirPlace() {
        var room = Room(settings: Self.settings, limit: 1)
        _ = room.arrive("a", now: 0)
        _ = room.arrive("b", now: 0)
        _ = room.arrive("c", now: Self.second)
        _ = room.arrive("d", now: Self.second)
        room.cancel("c")
        var actions = room.tick(now: 2 * Self.second)
        #expect(actions == [.timedOut("b")])
        #expect(room.counters.timedOut == 1)
        actions = room.finished(now: 2 * Self.second)
        #expect(actions == [.admit("d")], "c left and b timed out: d is next")
    }

    @Test func visitorsKeepTheirPlaceWhileTheyAskAndFindASlotKeptForThem() {
        var room = Room(settings: Self.settings, limit: 1)
        #expect(room.arrive("a", now: 0) == .admitted)
        let first = room.visit(ticket: nil, now: 0)
        let second = room.visit(ticket: nil, now: 0)
        #expect(first == .waiting(ticket: 1, place: 1))
        #expect(second == .waiting(ticket: 2, place: 2))
        #expect(room.visit(ticket: 2, now: Self.second) == .waiting(ticket: 2, place: 2))
        // The first visitor's turn: a slot is kept until it asks again.
        var actions = room.finished(now: Self.second)
        #expect(actions.isEmpty)
        #expect(room.inFlight == 1)
        #expect(room.visit(ticket: 2, now: Self.second) == .waiting(ticket: 2, place: 1))
        #expect(room.arrive("b", now: Self.second) == .waiting(ticket: 3, place: 2))
        #expect(room.visit(ticket: 1, now: 2 * Self.second) == .admitted)
        actions = room.finished(now: 2 * Self.second)
        #expect(actions.isEmpty, "visitor 2 is next, before b")
        #expect(room.visit(ticket: 2, now: 2 * Self.second) == .admitted)
        actions = room.finished(now: 3 * Self.second)
        #expect(actions == [.admit("b")])
    }

    @Test func visitorsWhoStopAskingAreForgottenAndUnclaimedSlotsGoToTheNext() {
        var room = Room(settings: Self.settings, limit: 1)
        _ = room.arrive("a", now: 0)
        _ = room.visit(ticket: nil, now: 0)
        _ = room.arrive("b", now: 0)
        var actions = room.finished(now: Self.second)
        #expect(actions.isEmpty, "the slot is kept for the visitor")
        actions = room.tick(now: 4 * Self.second)
        // b timed out at 2 s; the visitor never came back for the slot kept until 4 s.
        #expect(actions == [.timedOut("b")])
        #expect(room.inFlight == 0)
        #expect(room.counters.left == 1)
        // A forgotten ticket is a newcomer.
        #expect(room.visit(ticket: 1, now: 5 * Self.second) == .admitted)
    }

    @Test func aLowerLimitLetsNoOneInUntilEnoughEndedAndAHigherOneLetsTheLineIn() {
        var room = Room(settings: Self.settings, limit: 2)
        _ = room.arrive("a", now: 0)
        _ = room.arrive("b", now: 0)
        _ = room.arrive("c", now: 0)
        var actions = room.setLimit(1, now: 0)
        #expect(actions.isEmpty)
        actions = room.finished(now: 0)
        #expect(actions.isEmpty, "two in flight against a limit of one: one ending makes room for none")
        actions = room.setLimit(3, now: 0)
        #expect(actions == [.admit("c")])
    }
}

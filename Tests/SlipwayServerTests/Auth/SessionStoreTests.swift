import Testing

@testable import SlipwayServer

@Suite struct SessionStoreTests {
    @Test func idsAndCSRFTokensAre256RandomBitsInBase64URL() {
        let store = SessionStore()
        let sessions = (0..<50).map { _ in store.create() }
        let values = sessions.flatMap { [$0.id, $0.csrfToken] }
        #expect(Set(values).count == values.count)
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for value in values {
            #expect(value.count == 43)
            #expect(value.allSatisfy(alphabet.contains))
        }
    }

    @Test func aSessionIsFoundUntilItHasBeenIdleForTwelveHours() {
        let clock = AuthTestClock()
        let store = SessionStore(now: clock.reading)
        let session = store.create()
        clock.advance(by: .seconds(12 * 3600 - 1))
        // Looking a session up does not keep it alive; touching does.
        #expect(store.session(id: session.id) == session)
        #expect(store.touch(id: session.id)?.lastUsed == clock.now)
        clock.advance(by: .seconds(12 * 3600 - 1))
        #expect(store.session(id: session.id) != nil)
        clock.advance(by: .seconds(1))
        #expect(store.session(id: session.id) == nil)
        #expect(store.touch(id: session.id) == nil)
        #expect(store.count == 0)
    }

    @Test func whenFullTheLeastRecentlyUsedSessionIsDropped() {
        let clock = AuthTestClock()
        let store = SessionStore(capacity: 3, now: clock.reading)
        var created: [SessionStore.Session] = []
        for _ in 0..<3 {
            created.append(store.create())
            clock.advance(by: .seconds(1))
        }
        store.touch(id: created[0].id)
        let fourth = store.create()
        #expect(store.count == 3)
        #expect(store.session(id: created[1].id) == nil)
        for kept in [created[0], created[2], fourth] {
            #expect(store.session(id: kept.id) != nil)
        }
    }

    @Test func atMostAThousandSessionsAreKept() {
        let store = SessionStore()
        for _ in 0..<(SessionStore.defaultCapacity + 5) { _ = store.create() }
        #expect(store.count == 1_000)
    }

    @Test func creatingASessionDropsExpiredOnes() {
        let clock = AuthTestClock()
        let store = SessionStore(now: clock.reading)
        _ = store.create()
        _ = store.create()
        clock.advance(by: SessionStore.defaultIdleTimeout)
        let fresh = store.create()
        #expect(store.count == 1)
        #expect(store.session(id: fresh.id) == fresh)
    }

    @Test func aDeletedSessionIsGone() {
        let store = SessionStore()
        let session = store.create()
        store.delete(id: session.id)
        store.delete(id: "no-such-session")
        #expect(store.session(id: session.id) == nil)
        #expect(store.count == 0)
    }
}

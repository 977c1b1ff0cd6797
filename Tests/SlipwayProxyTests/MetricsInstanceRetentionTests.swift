import NIOEmbedded
import Testing

@testable import SlipwayProxy

/// Instances that are gone stop being reported after a while, so an app's metrics do not grow with every instance it
/// ever ran.
@Suite struct MetricsInstanceRetentionTests {
    @Test func anInstanceNoRouteNamesIsForgottenAfterTheRetention() {
        let book = TrafficBook(app: "shop", loops: [EmbeddedEventLoop()])
        _ = book.instance("shop-1", version: "1.0.0")
        _ = book.instance("shop-2", version: "1.0.0")
        _ = book.instance("shop-3", version: "2.0.0")
        let start = ContinuousClock.now
        // shop-1 leaves the routes; shop-3 leaves, then comes back before the retention ends.
        book.routed(["shop-2", "shop-3"], at: start)
        book.routed(["shop-2"], at: start + .seconds(60))
        book.routed(["shop-2", "shop-3"], at: start + .seconds(120))
        book.routed(["shop-2", "shop-3"], at: start + TrafficBook.instanceRetention - .seconds(1))
        #expect(book.instanceIDs == ["shop-1", "shop-2", "shop-3"])
        book.routed(["shop-2", "shop-3"], at: start + TrafficBook.instanceRetention)
        #expect(book.instanceIDs == ["shop-2", "shop-3"])
        // Its retention counts from when it left the routes, not from its first sight.
        book.routed(["shop-2"], at: start + .seconds(1_000))
        book.routed(["shop-2"], at: start + .seconds(1_000) + TrafficBook.instanceRetention)
        #expect(book.instanceIDs == ["shop-2"])
    }
}

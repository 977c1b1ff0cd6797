import NIOHTTP1
import SlipwayHTTP1

/// A request's header fields as routing reads them: each value found by name (any case), as bytes, in place.
///
/// The proxy routes ``RequestHead``s read from the wire; tests and tools may route a plain `HTTPHeaders`.
protocol RoutingFields {
    /// Calls `body` with the bytes of each value of the fields named `name`, in order, until it returns a result.
    func firstValue<Result>(named name: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result?) -> Result?
}

extension RequestHead: RoutingFields {}

extension HTTPHeaders: RoutingFields {
    func firstValue<Result>(named name: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result?) -> Result? {
        for (fieldName, value) in self where RoutingHeaderNames.equal(fieldName, name) {
            if let result = RoutingBytes.of(value, body) { return result }
        }
        return nil
    }
}

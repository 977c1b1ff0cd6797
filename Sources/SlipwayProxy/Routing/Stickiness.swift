/// How a user keeps seeing the same version.
///
/// Every request falls in a bucket 0...9999 and versions own consecutive bucket ranges, so a user whose bucket is
/// stable stays on the same version while the weights only move in one direction.
public enum Stickiness: Sendable, Equatable {
    /// A fresh random bucket for each request.
    case none
    /// The bucket is kept in a cookie with this name, which the proxy sets when it is absent or invalid.
    case cookie(name: String)
    /// The bucket is a stable hash of this header's value; random when the header is absent.
    case header(name: String)
}
